"""Categories per street (the GB/T 30428 catalogue to start from), their points rule, deadlines
and the street's report settings; only the street's admins configure them."""

from datetime import datetime

import pytest

from tests.reports.builders import make_given
from yizhan.core.errors import ApplicationError, Conflict, Forbidden
from yizhan.core.models import AuditEntry
from yizhan.core.workcalendar import TZ
from yizhan.points.models import EarningRule
from yizhan.points.services import earning_rule_set
from yizhan.reports import catalogue
from yizhan.reports import selectors as sel
from yizhan.reports import services as rs
from yizhan.reports.models import Category, ReportSettings
from yizhan.reports.services import deadline_for


@pytest.fixture
def g(world, settings, tmp_path):
    return make_given(world, settings, tmp_path)


def test_seeding_gives_a_street_the_standard_catalogue_once(world):
    made = rs.categories_seed(street=world.street_a, actor=world.street_admin)
    assert [c.code for c in made] == [spec.code for spec in catalogue.STANDARD]
    names = set(Category.objects.filter(street=world.street_a).values_list("name", flat=True))
    for name in (
        "飞线充电",
        "消防通道堵塞",
        "楼道堆物",
        "乱停乱放",
        "占道经营",
        "卫生不达标",
        "设施损坏",
    ):
        assert name in names
    families = set(Category.objects.values_list("family", flat=True))
    assert {"city_appearance", "street_order", "advertising", "construction",
            "public_facilities", "housing_safety", "emergency", "care"} <= families  # fmt: skip
    lost = Category.objects.get(street=world.street_a, code="elderly_child")
    assert (lost.urgent, lost.ack_minutes, lost.deadline_unit) == (True, 5, "hours")
    rules = dict(
        EarningRule.objects.filter(street=world.street_a, activity="report_verified")
        .values_list("category", "points")
    )  # fmt: skip
    assert rules == {spec.code: spec.points for spec in catalogue.STANDARD}
    # Again: nothing new; another street gets its own.
    assert rs.categories_seed(street=world.street_a, actor=world.street_admin) == []
    assert len(rs.categories_seed(street=world.street_b, actor=world.district_admin)) == len(
        catalogue.STANDARD
    )
    assert list(sel.categories_for(world.street_a)) == list(
        Category.objects.filter(street=world.street_a).order_by("sort_order")
    )


@pytest.mark.parametrize("who", ["community_staff", "rider", "other_community_staff"])
def test_only_street_and_district_admins_configure(world, who):
    actor = world.account(who)
    with pytest.raises(Forbidden):
        rs.categories_seed(street=world.street_a, actor=actor)
    with pytest.raises(Forbidden):
        rs.category_create(
            street=world.street_a, code="x_1", name="某", family="other", actor=actor
        )
    with pytest.raises(Forbidden):
        rs.report_settings_update(street=world.street_a, actor=actor, duplicate_radius_m=80)
    assert not Category.objects.exists() and not ReportSettings.objects.exists()
    # A street admin does not configure another street.
    with pytest.raises(Forbidden):
        rs.category_create(
            street=world.street_b, code="x_1", name="某", family="other", actor=world.street_admin
        )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "Flying Wire"}, "code"),
        ({"code": "飞线"}, "code"),
        ({"code": ""}, "code"),
        ({"name": ""}, "name"),
        ({"name": "长" * 41}, "name"),
        ({"family": "weather"}, "family"),
        ({"deadline_unit": "fortnights"}, "deadline_unit"),
        ({"deadline_amount": 0}, "deadline_amount"),
        ({"deadline_amount": 366}, "deadline_amount"),
        ({"deadline_amount": "2"}, "deadline_amount"),
        ({"ack_minutes": 0}, "ack_minutes"),
        ({"points": -1}, "points"),
        ({"points": 1001}, "points"),
    ],
)
def test_bad_category_input_is_refused_and_nothing_is_made(world, changes, field):
    values = {"code": "new_one", "name": "新类", "family": "other", **changes}
    with pytest.raises(ApplicationError) as caught:
        rs.category_create(street=world.street_a, actor=world.street_admin, **values)
    assert caught.value.status == 400 and caught.value.field == field
    assert not Category.objects.exists() and not EarningRule.objects.exists()


def test_a_code_is_unique_per_street_and_a_department_must_work_there(g):
    with pytest.raises(Conflict):
        rs.category_create(
            street=g.world.street_a, code="flying_wire", name="又一个", family="other",
            actor=g.world.street_admin,
        )  # fmt: skip
    from yizhan.people.services import department_create

    b_dept = department_create(name="乙城管", area=g.world.street_b, actor=g.world.district_admin)
    with pytest.raises(ApplicationError) as caught:
        rs.category_create(
            street=g.world.street_a, code="fresh", name="新", family="other", department=b_dept,
            actor=g.world.street_admin,
        )  # fmt: skip
    assert caught.value.code == "department_out_of_scope"
    with pytest.raises(ApplicationError):
        rs.category_create(
            street=g.world.community_a1, code="fresh", name="新", family="other",
            actor=g.world.street_admin,
        )  # fmt: skip
    assert Category.objects.filter(code="fresh").count() == 0


def test_update_changes_only_known_fields_and_sets_the_points_rule(g):
    admin = g.world.street_admin
    with pytest.raises(ApplicationError) as caught:
        rs.category_update(category=g.wire, actor=admin, code="renamed")
    assert caught.value.field == "code"
    with pytest.raises(Forbidden):
        rs.category_update(category=g.wire, actor=g.staff, name="改名")
    # A category's default department works for the whole street, not one community.
    with pytest.raises(ApplicationError) as caught:
        rs.category_update(category=g.clutter, actor=admin, department=g.sanitation)
    assert caught.value.code == "department_out_of_scope"
    assert rs.category_update(category=g.clutter, actor=admin, department=g.city).department == (
        g.city
    )
    updated = rs.category_update(
        category=g.wire, actor=admin, name="楼道飞线", deadline_amount=4,
        deadline_unit="working_hours", department=None, points=8, urgent=False,
    )  # fmt: skip
    assert (updated.name, updated.deadline_amount, updated.deadline_unit) == (
        "楼道飞线", 4, "working_hours",
    )  # fmt: skip
    assert updated.department is None
    rule = EarningRule.objects.get(street=g.world.street_a, category="flying_wire")
    assert (rule.points, rule.is_active) == (8, True)
    rs.category_update(category=g.wire, actor=admin, points=0)
    rule.refresh_from_db()
    assert rule.is_active is False
    assert AuditEntry.objects.filter(action="report_category.updated").count() == 3
    # Switched off: no longer offered to riders.
    rs.category_update(category=g.wire, actor=admin, is_active=False)
    assert g.wire not in sel.categories_for(g.world.street_a)
    assert g.wire in sel.categories_for(g.world.street_a, active_only=False)


def test_report_settings_have_defaults_and_limits(world):
    defaults = rs.report_settings(world.street_a)
    assert defaults.pk is None
    assert (defaults.duplicate_radius_m, defaults.duplicate_days) == (50, 30)
    assert (defaults.witness_share_percent, defaults.burst_reports, defaults.burst_minutes) == (
        50, 5, 30,
    )  # fmt: skip
    admin = world.street_admin
    for bad in ({"duplicate_radius_m": 4}, {"witness_share_percent": 101}, {"colour": 3},
                {"burst_minutes": "10"}):  # fmt: skip
        with pytest.raises(ApplicationError):
            rs.report_settings_update(street=world.street_a, actor=admin, **bad)
    assert not ReportSettings.objects.exists()
    saved = rs.report_settings_update(street=world.street_a, actor=admin, duplicate_radius_m=80)
    assert rs.report_settings(world.street_a).pk == saved.pk
    assert rs.report_settings(world.street_a).duplicate_radius_m == 80


def test_deadline_for_each_unit(g):
    monday_10 = datetime(2026, 6, 1, 10, 0, tzinfo=TZ)  # a Monday
    g.wire.deadline_unit, g.wire.deadline_amount = "working_days", 1
    assert deadline_for(g.wire, monday_10) == datetime(2026, 6, 2, 10, 0, tzinfo=TZ)
    g.wire.deadline_unit, g.wire.deadline_amount = "working_hours", 4
    assert deadline_for(g.wire, monday_10) == datetime(2026, 6, 1, 15, 30, tzinfo=TZ)
    g.wire.deadline_unit, g.wire.deadline_amount = "hours", 30
    assert deadline_for(g.wire, monday_10) == datetime(2026, 6, 2, 16, 0, tzinfo=TZ)


def test_points_on_a_category_keep_its_rule_caps_and_empty_means_the_street_rule(g):
    admin, street = g.world.street_admin, g.world.street_a
    rs.category_update(category=g.wire, actor=admin, points=6)
    rule = EarningRule.objects.get(street=street, category="flying_wire")
    EarningRule.objects.filter(pk=rule.pk).update(daily_cap=12, weekly_cap=30)
    rs.category_update(category=g.wire, actor=admin, points=9, name="飞线")
    rs.category_update(category=g.wire, actor=admin, points=None)  # left as it is
    rule.refresh_from_db()
    assert (rule.points, rule.daily_cap, rule.weekly_cap, rule.is_active) == (9, 12, 30, True)
    # A new category without points of its own pays the street's rule for any report.
    earning_rule_set(street=street, activity="report_verified", points=4, actor=admin)
    fresh = rs.category_create(
        street=street, code="fresh", name="新", family="other", actor=admin, points=None
    )
    assert not EarningRule.objects.filter(street=street, category="fresh").exists()
    points = sel.category_points(street)
    assert sel.points_paid(points, fresh.code) == 4
    assert sel.points_paid(points, "flying_wire") == 9
