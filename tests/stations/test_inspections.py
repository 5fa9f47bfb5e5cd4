"""A street's station checklist ("6+6") and inspections against it."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from yizhan.core.models import AuditEntry
from yizhan.stations import selectors
from yizhan.stations import services as s
from yizhan.stations.models import ChecklistItem, Inspection, InspectionResult

from .test_services import create, refused


@pytest.fixture
def items(world):
    admin = world.street_admin
    return [
        s.checklist_item_create(
            street=world.street_a, text="有休息座椅", actor=admin, sort_order=1
        ),
        s.checklist_item_create(
            street=world.street_a, text="有饮水设施", actor=admin, sort_order=2
        ),
        s.checklist_item_create(
            street=world.street_a, text="有充电设施", actor=admin, sort_order=3
        ),
    ]


@pytest.fixture
def station(world):
    return create(world)


def state():
    return (
        ChecklistItem.objects.count(),
        Inspection.objects.count(),
        InspectionResult.objects.count(),
        AuditEntry.objects.count(),
    )


# --- the checklist --------------------------------------------------------------------------------


def test_street_admins_keep_the_checklist(world, items):
    assert [i.text for i in selectors.checklist_of(world.street_a)] == [
        "有休息座椅", "有饮水设施", "有充电设施"
    ]  # fmt: skip
    assert {i.area_code for i in items} == {world.street_a.code}
    assert {i.standard for i in items} == {"6+6"}
    s.checklist_item_update(item=items[0], actor=world.street_admin, is_active=False)
    s.checklist_item_update(item=items[2], actor=world.district_admin, sort_order=0)
    assert [i.text for i in selectors.checklist_of(world.street_a)] == ["有充电设施", "有饮水设施"]
    assert AuditEntry.objects.filter(action="checklist.item_created").count() == 3
    assert AuditEntry.objects.filter(action="checklist.item_updated").count() == 2
    # Another standard of the same street is a separate list.
    s.checklist_item_create(street=world.street_a, text="有休息座椅", standard="三有",
                            actor=world.street_admin)  # fmt: skip
    assert selectors.checklist_of(world.street_a, "三有").count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [("community_staff", 403), ("merchant", 403), ("rider", 403), ("other_community_staff", 403)],
)
def test_only_admins_of_the_street_configure_it(world, items, who, status):
    before = state()
    refused(lambda: s.checklist_item_create(street=world.street_a, text="新项",
                                            actor=world.account(who)), status=status)  # fmt: skip
    refused(lambda: s.checklist_item_update(item=items[0], actor=world.account(who),
                                            is_active=False), status=status)  # fmt: skip
    assert state() == before
    assert ChecklistItem.objects.get(pk=items[0].pk).is_active


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"text": "有休息座椅"}, 409),
        ({"text": ""}, 400),
        ({"text": "x" * 201}, 400),
        ({"text": "项", "standard": ""}, 400),
        ({"text": "项", "sort_order": -1}, 400),
        ({"text": "项", "sort_order": "first"}, 400),
    ],
)
def test_bad_checklist_items(world, items, kwargs, status):
    before = state()
    refused(lambda: s.checklist_item_create(street=world.street_a, actor=world.street_admin,
                                            **kwargs), status=status)  # fmt: skip
    assert state() == before


def test_a_checklist_belongs_to_a_street(world):
    refused(lambda: s.checklist_item_create(street=world.community_a1, text="项",
                                            actor=world.street_admin), field="street")  # fmt: skip
    assert ChecklistItem.objects.count() == 0


# --- inspections ----------------------------------------------------------------------------------


def test_an_inspection_records_every_item(world, items, station):
    inspection = s.inspection_record(
        station=station, actor=world.community_staff, note="整体良好",
        results={items[0].pk: True, str(items[1].pk): False, items[2].pk: True},
        notes={items[1].pk: "饮水机坏了"},
    )  # fmt: skip
    assert (inspection.passed, inspection.total) == (2, 3)
    assert inspection.inspected_on == timezone.localdate()
    assert inspection.inspector == world.community_staff and inspection.standard == "6+6"
    assert inspection.area_code == station.area_code and inspection.note == "整体良好"
    results = {r.item_id: (r.passed, r.note) for r in inspection.results.all()}
    assert results == {
        items[0].pk: (True, ""), items[1].pk: (False, "饮水机坏了"), items[2].pk: (True, "")
    }  # fmt: skip
    entry = AuditEntry.objects.get(action="station.inspected")
    assert entry.data == {"inspection": inspection.pk, "passed": 2, "total": 3}
    assert list(selectors.inspections_of(station)) == [inspection]


def test_retired_items_are_not_asked_and_the_date_may_be_earlier(world, items, station):
    s.checklist_item_update(item=items[2], actor=world.street_admin, is_active=False)
    day = timezone.localdate() - timedelta(days=30)
    inspection = s.inspection_record(
        station=station, actor=world.street_admin, inspected_on=day,
        results={items[0].pk: False, items[1].pk: False},
    )  # fmt: skip
    assert (inspection.passed, inspection.total, inspection.inspected_on) == (0, 2, day)
    as_text = s.inspection_record(
        station=station, actor=world.street_admin, inspected_on=day.isoformat(),
        results={items[0].pk: True, items[1].pk: True},
    )  # fmt: skip
    assert as_text.inspected_on == day


@pytest.mark.parametrize(
    ("results", "code"),
    [
        ("incomplete", "incomplete_inspection"),
        ("unknown", None),
        ("non_bool", None),
        ("bool_key", None),
        ("not_a_dict", None),
        ("other_street", None),
    ],
)
def test_bad_results_change_nothing(world, items, station, results, code):
    a, b, c = (item.pk for item in items)
    other = s.checklist_item_create(
        street=world.street_b, text="乙街项", actor=world.district_admin
    )
    given = {
        "incomplete": {a: True, b: True},
        "unknown": {a: True, b: True, c: True, 99999: True},
        "non_bool": {a: True, b: "yes", c: 1},
        "bool_key": {True: True, a: True, b: True, c: True},
        "not_a_dict": [a, b, c],
        "other_street": {a: True, b: True, c: True, other.pk: True},
    }[results]
    before = state()
    error = refused(
        lambda: s.inspection_record(station=station, results=given, actor=world.community_staff),
        code=code,
    )
    if results == "incomplete":
        assert "有充电设施" in str(error.message)
    assert state() == before


@pytest.mark.parametrize(
    "day",
    [
        "tomorrow",
        "future",
        "too_old",
        "not_a_date",
        "datetime",
    ],
)
def test_inspection_dates(world, items, station, day):
    today = timezone.localdate()
    value = {
        "tomorrow": today + timedelta(days=1),
        "future": "2999-01-01",
        "too_old": today - timedelta(days=367),
        "not_a_date": "last week",
        "datetime": datetime(2020, 1, 1, 12, tzinfo=timezone.get_current_timezone()),
    }[day]
    before = state()
    refused(lambda: s.inspection_record(station=station, inspected_on=value,
                                        results={i.pk: True for i in items},
                                        actor=world.community_staff),
            field="inspected_on")  # fmt: skip
    assert state() == before


def test_notes_must_be_short_text(world, items, station):
    before = state()
    refused(lambda: s.inspection_record(station=station, actor=world.community_staff,
                                        results={i.pk: True for i in items},
                                        notes={items[0].pk: "x" * 201}))  # fmt: skip
    refused(lambda: s.inspection_record(station=station, actor=world.community_staff,
                                        results={i.pk: True for i in items},
                                        notes=["x"]))  # fmt: skip
    assert state() == before


@pytest.mark.parametrize(
    ("who", "status"),
    [("merchant", 403), ("rider", 403), ("other_community_staff", 403)],
)
def test_only_staff_of_the_area_inspect(world, items, who, status):
    corner = create(world, name="小店爱心角", kind="corner", merchant=world.merchant)
    before = state()
    refused(lambda: s.inspection_record(station=corner, results={i.pk: True for i in items},
                                        actor=world.account(who)), status=status)  # fmt: skip
    assert state() == before


def test_no_checklist_yet(world, station):
    refused(lambda: s.inspection_record(station=station, results={}, actor=world.community_staff),
            code="no_checklist")  # fmt: skip
    assert Inspection.objects.count() == 0


def test_counts_per_station(world, items, station):
    for passed in ([True, True, True], [True, False, False]):
        s.inspection_record(
            station=station, actor=world.community_staff,
            results={i.pk: p for i, p in zip(items, passed, strict=True)},
        )  # fmt: skip
    assert sorted(selectors.inspections_of(station).values_list("passed", "total")) == [
        (1, 3), (3, 3)
    ]  # fmt: skip
    assert InspectionResult.objects.filter(inspection__station=station, passed=True).count() == 4
