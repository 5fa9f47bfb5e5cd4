"""The demo street's dashboard shows the seeds' numbers, and its rollups agree with a recount.

The demo is loaded once for the module inside a transaction rolled back at the end (as
tests/demo does); each test runs in a savepoint within it.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from yizhan.dashboards.demo import load_dashboards_demo
from yizhan.dashboards.kpis import Period
from yizhan.dashboards.selectors import dashboard, map_points, public_headline
from yizhan.dashboards.services import check_rollups
from yizhan.demo.loader import load_demo
from yizhan.people.models import User

STREET = "140213055"
DISTRICT = "140213"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("demo-media")
    with (
        django_db_blocker.unblock(),
        override_settings(DEMO_MODE=True, MEDIA_ROOT=str(media)),
        transaction.atomic(),
    ):
        ctx = load_demo()
        load_dashboards_demo(ctx)
        yield ctx
        transaction.set_rollback(True)


@pytest.fixture
def loaded(demo, db):
    return demo


def street_admin() -> User:
    return User.objects.filter(role="admin", area_code=STREET).order_by("pk").first()


def test_the_street_admin_sees_the_seeds_numbers(loaded):
    admin = street_admin()
    assert admin is not None
    data_ = dashboard(user=admin, area=STREET, period=Period.parse("year"))
    m = {metric.key: metric.value for metric in data_.headline}
    assert data_.area.code == STREET
    assert m["stations"] == 9
    assert m["corners"] == 137
    assert m["riders_with_posts"] == 56
    district_admin = User.objects.filter(role="admin", area_code=DISTRICT).order_by("pk").first()
    whole = dashboard(user=district_admin, area=DISTRICT, period=Period.parse("year"))
    others = [c for c in whole.children if c.area_code != STREET]
    assert whole.metric("riders_with_posts").value == 56 + sum(
        c.metrics["riders_with_posts"] for c in others
    )
    assert whole.metric("stations").value == 9 + sum(
        c.metrics["stations"] for c in whole.children if c.area_code != STREET
    )
    assert [h.title for h in data_.honours].count("清远骑士") == 15
    assert len(data_.children) >= 1


def test_the_rollups_agree_with_a_recount(loaded):
    assert check_rollups() == []
    out = StringIO()
    call_command("check_rollups", stdout=out)
    assert "agree" in out.getvalue()


def test_the_map_and_the_public_page(loaded):
    points = map_points(user=street_admin(), area=STREET)
    assert sum(1 for p in points if p.kind == "corner") == 137
    public = {m.key: m.value for m in public_headline(street=STREET)}
    assert public["stations"] == 9
    assert timezone.now()
