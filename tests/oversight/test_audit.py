"""The audit log: append-only (model, queryset, back office, PostgreSQL trigger); searched and
exported by administrators of an area (their area and below); every staff action the issue
names leaves an entry."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.api.helpers import call, client_for
from tests.reports.builders import advance, make_given, submit
from yizhan.core.audit import log_action
from yizhan.core.models import AuditEntry, AuditLogIsAppendOnly
from yizhan.oversight.services import HEADERS


@pytest.fixture
def g(world, settings, tmp_path):
    return make_given(world, settings, tmp_path)


def entry(world, action="report.verified", area=None, **data) -> AuditEntry:
    return log_action(
        actor=world.community_staff,
        action=action,
        target=world.community_a1,
        area_code=area or world.community_a1.code,
        data=data,
    )


# --- append-only ---------------------------------------------------------------------------------


def test_an_entry_cannot_be_changed_or_deleted_through_the_orm(world):
    row = entry(world, note="原文")
    row.action = "forged"
    with pytest.raises(AuditLogIsAppendOnly):
        row.save()
    with pytest.raises(AuditLogIsAppendOnly):
        row.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.filter(pk=row.pk).update(action="forged")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.filter(pk=row.pk).delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.bulk_update([row], ["action"])
    fresh = AuditEntry.objects.get(pk=row.pk)
    assert fresh.action == "report.verified" and fresh.data == {"note": "原文"}


def test_deleting_an_account_keeps_its_entries_without_the_person(world):
    from yizhan.core.roles import Role
    from yizhan.people.services import account_create

    temp = account_create(
        username="temp_staff", name="临时", role=Role.STAFF, area=world.community_a1,
        password="Yizhan-test-2026",
    )  # fmt: skip
    row = log_action(actor=temp, action="report.verified", target=world.community_a1)
    temp.delete()  # the database's SET NULL: the one change the log allows
    kept = AuditEntry.objects.get(pk=row.pk)
    assert kept.actor_id is None and kept.action == "report.verified"


def test_the_back_office_is_read_only(world):
    client = client_for(world.district_admin)
    row = entry(world)
    listing = client.get(reverse("admin:core_auditentry_changelist"))
    assert listing.status_code == 200
    assert b'name="action"' not in listing.content  # no bulk actions (no delete)
    for name in ("admin:core_auditentry_delete", "admin:core_auditentry_change"):
        response = client.post(reverse(name, args=[row.pk]), {"post": "yes", "action": "x"})
        assert response.status_code in (302, 403)
    assert client.get(reverse("admin:core_auditentry_add")).status_code == 403
    assert AuditEntry.objects.get(pk=row.pk).action == "report.verified"


@pytest.mark.postgres
def test_postgresql_refuses_update_and_delete_below_the_orm(world):
    row = entry(world)
    for sql in (
        "UPDATE core_auditentry SET action = 'forged' WHERE id = %s",
        "DELETE FROM core_auditentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [row.pk])
    with connection.cursor() as cursor:  # only the actor may go (an account deleted)
        cursor.execute("UPDATE core_auditentry SET actor_id = NULL WHERE id = %s", [row.pk])
    kept = AuditEntry.objects.get(pk=row.pk)
    assert kept.action == "report.verified" and kept.actor_id is None


# --- search --------------------------------------------------------------------------------------


def test_admins_search_their_area_and_below(world):
    a1 = entry(world, "report.verified", note="楼道堆物已清理")
    a2 = entry(world, "report.rejected", area=world.community_a2.code)
    b1 = entry(world, "points.reversed", area=world.community_b1.code, reason="误发")
    street = client_for(world.street_admin)
    body = street.get("/api/v1/oversight/audit").json()
    ids = [item["id"] for item in body["items"]]
    assert a1.pk in ids and a2.pk in ids and b1.pk not in ids
    district = client_for(world.district_admin).get("/api/v1/oversight/audit?q=误发").json()
    assert [item["id"] for item in district["items"]] == [b1.pk]

    def found(query: str) -> list[int]:
        response = street.get(f"/api/v1/oversight/audit?{query}")
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert found("action=report.rejected") == [a2.pk]
    assert a1.pk in found("action=report.") and a2.pk in found("action=report.")
    assert found(f"area={world.community_a2.code}&action=report.") == [a2.pk]
    assert a1.pk not in found(f"area={world.community_a2.code}")
    assert found("q=堆物") == [a1.pk]
    assert found("q=nothing-like-this") == []
    assert a1.pk in found(f"actor={world.community_staff.username}")
    assert a1.pk in found(f"actor={world.community_staff.pk}")
    assert found("actor=nobody_at_all") == []
    assert a1.pk in found(f"target_type=areas.area&target_id={world.community_a1.pk}")
    today = timezone.localdate()
    assert a1.pk in found(f"date_from={today}&date_to={today}")
    assert found(f"date_from={today + timedelta(days=1)}") == []
    assert found(f"date_to={today - timedelta(days=1)}") == []
    bad = street.get("/api/v1/oversight/audit?date_from=2026-13-45")
    assert bad.status_code == 400 and bad.json()["detail"] == {"field": "date_from"}
    assert client_for(world.community_staff).get("/api/v1/oversight/audit").status_code == 403


def test_the_search_costs_the_same_queries_for_any_page_size(world):
    for i in range(12):
        entry(world, note=f"第{i}条")
    client = client_for(world.street_admin)

    def queries(size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(f"/api/v1/oversight/audit?page_size={size}").json()
        assert len(body["items"]) == size
        return len(ctx.captured_queries)

    assert queries(2) == queries(12)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("oversight:audit"))
    for i in range(30):
        entry(world, note=f"又{i}条")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("oversight:audit"))
    assert len(one.captured_queries) == len(many.captured_queries)


def test_the_page_searches_and_checks_its_form(world):
    row = entry(world, note="核查通过")
    client = client_for(world.street_admin)
    page = client.get(reverse("oversight:audit") + "?q=核查通过")
    assert page.status_code == 200 and "核查通过" in page.content.decode()
    assert page.content.decode().count('data-testid="audit-row"') == 1
    bad = client.get(reverse("oversight:audit") + "?date_from=2026-05-02&date_to=2026-05-01")
    assert bad.status_code == 400
    assert client_for(world.community_staff).get(reverse("oversight:audit")).status_code == 403
    assert client_for(world.rider.user).get(reverse("oversight:audit")).status_code == 403
    assert row.pk in AuditEntry.objects.values_list("pk", flat=True)


# --- export --------------------------------------------------------------------------------------


def test_csv_export_has_chinese_headers_and_is_itself_logged(world):
    entry(world, note="=cmd|' /C calc'!A0")  # a formula must not run in Excel
    client = client_for(world.street_admin)
    response = client.get("/api/v1/oversight/audit/export?format=csv&action=report.")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="audit-440000001-')
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == HEADERS == ["时间", "操作人", "操作人账号", "操作", "对象类型", "对象编号",
                                  "区域代码", "详情"]  # fmt: skip
    assert len(rows) == 2 and rows[1][3] == "report.verified"
    assert "=cmd" in rows[1][7] and not rows[1][7].startswith("=")
    logged = AuditEntry.objects.get(action="export")
    assert logged.actor == world.street_admin and logged.area_code == world.street_a.code
    assert logged.data == {"what": "audit_log", "format": "csv", "rows": 1, "action": "report."}


def test_xlsx_export_is_bounded_and_logged(world, monkeypatch):
    from yizhan.oversight import services

    for i in range(3):
        entry(world, note=f"第{i}条")
    client = client_for(world.district_admin)
    response = client.get(reverse("oversight:audit_export") + "?format=xlsx&action=report.")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS and len(rows) == 1 + 3
    assert [row[7] for row in rows[1:]] == [f'{{"note": "第{i}条"}}' for i in (2, 1, 0)]
    assert AuditEntry.objects.filter(action="export").count() == 1
    monkeypatch.setattr(services, "MAX_XLSX_ROWS", 2)
    refused = call(client, "GET", "/api/v1/oversight/audit/export?format=xlsx")
    assert refused.status_code == 400 and refused.json()["code"] == "too_many_rows"
    assert call(client, "GET", "/api/v1/oversight/audit/export?format=pdf").status_code == 400
    assert AuditEntry.objects.filter(action="export").count() == 1  # refused: not logged
    staff = client_for(world.community_staff)
    assert staff.get("/api/v1/oversight/audit/export").status_code == 403
    assert staff.get(reverse("oversight:audit_export")).status_code == 403
    assert AuditEntry.objects.filter(action="export").count() == 1


# --- every staff action the issue names is logged ------------------------------------------------


def test_every_staff_action_leaves_an_entry(g, settings):
    """verify, reject, dispatch, award, reverse, unmask, export (dashboard, stations, audit
    log; the briefs are in tests/oversight/test_exports.py), settings change (report settings,
    coverage target, points rules and settings)."""
    from yizhan.dashboards.services import coverage_target_set
    from yizhan.points.services import (
        earning_rule_set,
        points_award,
        points_reverse,
        points_settings_update,
    )
    from yizhan.reports import services as rs

    world = g.world
    staff, admin = world.community_staff, world.street_admin

    def logged(action: str, actor, **match) -> None:
        found = AuditEntry.objects.filter(action=action, actor=actor, **match)
        assert found.exists(), (action, list(AuditEntry.objects.values_list("action", flat=True)))

    report = advance(g, submit(g), "verified")
    logged("report.verified", staff, target_id=str(report.pk))
    logged("report.dispatched", staff, target_id=str(report.pk))
    rejected = rs.report_reject(report=submit(g), actor=staff, reason="不属实")
    logged("report.rejected", staff, target_id=str(rejected.pk))
    award = points_award(
        member=world.rider.user, amount=5, reason="巡查", evidence="照片", actor=staff,
        idempotency_key="audit-award-0001",
    )  # fmt: skip
    logged("points.award_requested", staff, target_id=str(award.pk))
    points_reverse(
        posting=award.earning.posting, actor=admin, reason="误发", idempotency_key="audit-rev-01"
    )
    logged("points.reversed", admin)
    # settings
    rs.report_settings_update(street=world.street_a, actor=admin, burst_reports=9)
    logged("report_settings.updated", admin)
    coverage_target_set(area=world.street_a, percent=80, actor=admin)
    assert AuditEntry.objects.filter(action__startswith="dashboard.coverage_target", actor=admin)
    earning_rule_set(street=world.street_a, activity="duty_hour", points=3, actor=admin)
    logged("points.rule_set", admin)
    points_settings_update(street=world.street_a, actor=admin, review_large_amount=100)
    logged("points.settings_changed", admin)
    # unmask (people.services, when present)
    from yizhan.people import services as people_services

    if hasattr(people_services, "rider_phone_unmask"):
        people_services.rider_phone_unmask(
            rider=world.rider, actor=staff, reason="contact", note="联系报到事宜"
        )
        logged("unmask", staff)
    # exports: dashboards (page and API), stations (page and API), the audit log
    client = client_for(staff)
    a1 = world.community_a1.code
    for url in (
        reverse("dashboards:export", args=[a1]) + "?kind=month&anchor=2026-04",
        f"/api/v1/dashboards/{a1}/export?kind=month&anchor=2026-04",
        reverse("stations:export") + "?format=csv",
        "/api/v1/stations/export?format=csv",
    ):
        before = AuditEntry.objects.filter(action="export").count()
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:200])
        assert AuditEntry.objects.filter(action="export").count() == before + 1, url
    whats = sorted(AuditEntry.objects.filter(action="export").values_list("data__what", flat=True))
    assert whats == ["dashboard", "dashboard", "stations", "stations"]
    client_for(admin).get("/api/v1/oversight/audit/export")
    logged("export", admin, data__what="audit_log")
