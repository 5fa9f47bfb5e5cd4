"""Download my data: JSON and Excel hold every kind of record, the phone in full, photo URLs, the
ledger; Excel opens with openpyxl with Chinese headings and typed cells; every download is
audited; the number of queries does not grow with the number of rows."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tests.api.helpers import client_for
from tests.privacy.builders import more_records
from yizhan.core.models import AuditEntry
from yizhan.people.choices import ConsentKind
from yizhan.people.models import User
from yizhan.privacy import exports
from yizhan.reports.models import ReportPhoto

CJK = re.compile(r"[\u4e00-\u9fff]")
PENDING = {"Number"}  # new msgids whose translation is in /work/i18n/privacy.json
KINDS = {
    "account", "rider", "consents", "post_claims", "teams", "duties", "reports", "witnessed",
    "points_accounts", "points_entries", "redemptions", "wishes", "wish_claims", "appeals",
    "meetings", "event_signups", "welfare", "station_visits", "honours", "organisation",
    "notifications", "api_tokens", "audit",
}  # fmt: skip


def _json(client, url="/api/v1/privacy/me/data.json") -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Disposition"].startswith('attachment; filename="yizhan-my-data-')
    assert response["Cache-Control"] == "private, no-store"
    return json.loads(b"".join(response.streaming_content))


def test_json_holds_every_kind_of_record(world, rich):
    user = world.rider.user
    data = _json(client_for(user))
    sections = data["sections"]
    assert data["format"] == "yizhan.personal-data/1" and data["account_id"] == user.pk
    assert set(sections) == KINDS
    account = sections["account"]["rows"][0]
    assert account["phone"] == user.phone and len(account["phone"]) == 11  # in full: their own
    assert account["name"] == user.name
    assert sections["rider"]["rows"][0]["community_name"] == world.community_a1.name
    consents = sections["consents"]["rows"]
    assert [c["kind"] for c in consents] == [str(ConsentKind.PRIVACY.label)]
    assert consents[0]["withdrawn_at"] is None
    assert len(sections["post_claims"]["rows"]) == 1
    assert [t["team_name"] for t in sections["teams"]["rows"]] == ["爱心骑手队"]
    # The rider's two reports (submitted and closed), each with the URLs of its blurred photos.
    reports = {r["id"]: r for r in sections["reports"]["rows"]}
    assert set(reports) == {rich["submitted"].pk, rich["closed"].pk}
    photo = ReportPhoto.objects.filter(report=rich["submitted"]).first()
    assert photo.public_url and photo.public_url in reports[rich["submitted"].pk]["photos"]
    # The ledger: the entries add up to the balance shown.
    balance = sections["points_accounts"]["rows"][0]["balance"]
    assert sum(e["amount"] for e in sections["points_entries"]["rows"]) == balance > 0
    assert len(sections["redemptions"]["rows"]) == 1
    assert [w["text"] for w in sections["wishes"]["rows"]] == ["想要一个新头盔"]
    assert len(sections["appeals"]["rows"]) == 1
    assert len(sections["event_signups"]["rows"]) == 1
    assert "夏凉被 × 1" in sections["welfare"]["rows"][0]["items"]
    assert len(sections["station_visits"]["rows"]) == 1
    assert len(sections["notifications"]["rows"]) >= 1
    audit_actions = {a["action"] for a in sections["audit"]["rows"]}
    assert {"rider.registered", "rider.verified", "export"} <= audit_actions
    # Staff are named by role only in the audit section: their names are not the rider's data.
    staff_names = {world.community_staff.name, world.street_admin.name}
    assert not any(a["actor"] in staff_names for a in sections["audit"]["rows"])
    # Times are local ISO times.
    assert dt.datetime.fromisoformat(account["date_joined"]).utcoffset() == dt.timedelta(hours=8)


def test_every_download_is_audited_without_personal_data(world):
    user = world.rider.user
    client = client_for(user)
    before = AuditEntry.objects.filter(action="export").count()
    client.get("/api/v1/privacy/me/data.json")
    client.get("/rider/my-data/download.xlsx")
    entries = list(AuditEntry.objects.filter(action="export").order_by("pk"))[before:]
    assert [(e.actor_id, e.target_type, e.target_id, e.data["format"]) for e in entries] == [
        (user.pk, "people.user", str(user.pk), "json"),
        (user.pk, "people.user", str(user.pk), "xlsx"),
    ]
    assert all(user.phone not in json.dumps(e.data) for e in entries)


def test_excel_opens_with_chinese_headings_and_typed_cells(world, rich):
    response = client_for(world.rider.user).get("/api/v1/privacy/me/data.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    subject = exports.subject_for(world.rider.user)
    sections = exports.sections(subject)
    assert len(book.sheetnames) == len(sections)
    for sheet, section in zip(book.worksheets, sections, strict=True):
        header = [c.value for c in sheet[1]]
        assert header == [str(c.label) for c in section.columns]
        # Every heading is Chinese (the id columns' "Number" once its translation is merged; the
        # consent records' fields are the people app's, translated with it).
        if section.key != "consents":
            assert all(CJK.search(h) or h in PENDING for h in header), (section.key, header)
        assert sheet.freeze_panes == "A2"
    account = book.worksheets[0]
    values = dict(zip([c.value for c in account[1]], [c.value for c in account[2]], strict=True))
    assert values["手机号"] == world.rider.user.phone
    joined = str(User._meta.get_field("date_joined").verbose_name)
    assert isinstance(values[joined], dt.datetime)
    entries = book.worksheets[[s.key for s in sections].index("points_entries")]
    amounts = [row[2].value for row in entries.iter_rows(min_row=2)]
    assert amounts and all(isinstance(a, int) for a in amounts)
    created = [row[0].value for row in entries.iter_rows(min_row=2)]
    assert all(isinstance(c, dt.datetime) for c in created)


def _queries(user) -> int:
    subject = exports.subject_for(user)
    with CaptureQueriesContext(connection) as ctx:
        exports.write_json(subject, io.StringIO())
        exports.write_xlsx(subject, io.BytesIO())
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_rows(world, rich):
    _queries(world.rider.user)  # warm the caches (content types, the privacy notice …)
    first = _queries(world.rider.user)
    more_records(world, rich, 4)  # four more ledger entries, appeals, sign-ups, messages …
    assert _queries(world.rider.user) == first
    # Two formats, one query per section (plus the report photos and hand-out lines).
    assert first <= 2 * (len(KINDS) + 3)


def test_the_page_lists_the_kinds_and_links_the_downloads(world):
    response = client_for(world.rider.user).get("/rider/my-data/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/rider/my-data/download.json" in text and "/rider/my-data/download.xlsx" in text
    assert "/rider/my-data/delete/" in text


def test_only_a_rider_downloads_and_only_their_own(world):
    staff = client_for(world.community_staff)
    assert staff.get("/api/v1/privacy/me/data.json").status_code == 403
    assert staff.get("/rider/my-data/download.json").status_code == 403
    assert client_for(None).get("/api/v1/privacy/me/data.json").status_code == 401
    other = _json(client_for(world.other_rider.user))
    assert other["account_id"] == world.other_rider.user_id
    assert other["sections"]["account"]["rows"][0]["phone"] == world.other_rider.user.phone
    assert world.rider.user.phone not in json.dumps(other, ensure_ascii=False)


def test_the_rider_menu_links_my_data(world):
    page = client_for(world.rider.user).get("/rider/")
    assert page.status_code == 200
    assert 'href="/rider/my-data/"' in page.content.decode()


def test_the_openapi_document_declares_the_json_download_as_json(db):
    """Found by the fuzzer: the JSON download was declared a binary string, so a client that
    parses the JSON it gets saw an answer that broke its own schema."""
    from django.test import Client

    doc = Client().get("/api/v1/openapi.json").json()
    content = doc["paths"]["/api/v1/privacy/me/data.json"]["get"]["responses"]["200"]["content"]
    assert content == {"application/json": {"schema": {"type": "object"}}}
    xlsx = doc["paths"]["/api/v1/privacy/me/data.xlsx"]["get"]["responses"]["200"]["content"]
    assert [c["schema"]["format"] for c in xlsx.values()] == ["binary"]
