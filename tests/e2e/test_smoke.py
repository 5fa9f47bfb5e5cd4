"""The browser harness itself: a rider logs in on a phone-sized page."""

import pytest

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_rider_logs_in_on_a_phone(world, password, phone, shot):
    log_in(phone, "13812341234", password, expect=r"/rider/")
    assert phone.locator("h1").first.inner_text()
    shot(phone, "home")
