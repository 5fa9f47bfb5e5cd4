"""The record staff nominate from: points earned and reports verified in the title's period."""

import pytest

from tests.honours.builders import award, knight
from tests.world import report_objects
from yizhan.honours.selectors import period_of, record_of
from yizhan.points.services import points_reverse

pytestmark = pytest.mark.django_db


def test_points_earned_in_the_period_less_reversals(world):
    title = knight(world)
    award(world, world.rider.user, 15, "honours-record-1")
    small = award(world, world.rider.user, 5, "honours-record-2")
    points_reverse(
        posting=small.earning.posting, actor=world.community_staff, reason="重复",
        idempotency_key="honours-record-rev",
    )  # fmt: skip
    record = record_of([world.rider, world.other_rider], period_of(title))
    assert record[world.rider.pk] == {"points": 15, "reports": 0}
    assert record[world.other_rider.pk] == {"points": 0, "reports": 0}


def test_nothing_outside_the_period_counts(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    report_objects(world)
    award(world, world.rider.user, 15, "honours-record-3")
    now = record_of([world.rider], period_of(knight(world)))
    # The closed report counts, and so do the points it paid.
    assert now[world.rider.pk]["reports"] == 1 and now[world.rider.pk]["points"] > 15
    past = record_of([world.rider], period_of(knight(world, year=2020)))
    assert past[world.rider.pk] == {"points": 0, "reports": 0}
