"""The back office of the stations app: the import page, the export, the templates, the lists.

Only console users may import or export: a rider or merchant who is signed in gets a 403 and
nothing changes; an anonymous visitor is sent to the admin's log-in. A file that cannot be
imported is a 400 with the reason; rows with errors are a 400 with the report table.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from tests.api import helpers
from tests.stations.exchange_helpers import csv_file, registry, row, snapshot, xlsx
from tests.world import station_objects
from yizhan.stations import exchange
from yizhan.stations.models import Station

IMPORT = "admin:stations_station_import"
EXPORT = "admin:stations_station_export"
TEMPLATE = "admin:stations_station_template"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def client_for(user):
    """A signed-in client that asks for English pages (the messages asserted are English)."""
    client = helpers.client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def upload(data: bytes, name: str = "stations.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def post(client, data: bytes, name: str = "stations.xlsx", **flags: str):
    return client.post(reverse(IMPORT), {"file": upload(data, name), **flags})


@pytest.mark.parametrize(
    "role, status",
    [
        ("community_staff", 200),
        ("street_admin", 200),
        ("rider", 403),
        ("merchant", 403),
        ("pending_rider", 403),
    ],
)
@pytest.mark.parametrize("name, args", [(IMPORT, []), (EXPORT, []), (TEMPLATE, ["xlsx"])])
def test_who_may_open_the_import_export_and_templates(world, role, status, name, args):
    response = client_for(world.account(role)).get(reverse(name, args=args))
    assert response.status_code == status
    if status == 403:
        assert b"<h1>" in response.content  # a page with a message


@pytest.mark.parametrize("name, args", [(IMPORT, []), (EXPORT, []), (TEMPLATE, ["csv"])])
def test_anonymous_visitors_are_sent_to_log_in(db, name, args):
    response = client_for(None).get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_import_page(world):
    response = client_for(world.community_staff).get(reverse(IMPORT))
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    for field in ('name="file"', 'name="keep_good_rows"', 'name="dry_run"'):
        assert field in page
    assert reverse(TEMPLATE, args=["xlsx"]) in page
    assert "社区代码" in page  # the documented columns


@pytest.mark.parametrize("role", ["rider", "merchant"])
def test_a_non_console_user_cannot_post_an_import(world, role):
    before = snapshot()
    response = post(client_for(world.account(role)), xlsx([row()]))
    assert response.status_code == 403
    assert snapshot() == before


def test_import_as_staff(world):
    response = post(client_for(world.community_staff), xlsx([row(name="新站", ref="N-1")]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Imported." in page
    assert "<li>created: 1</li>" in page
    assert 'id="import-errors"' not in page
    station = Station.objects.get(ref="N-1")
    assert (station.name, station.community) == ("新站", world.community_a1)


def test_rows_with_errors_are_a_400_with_the_report_and_nothing_written(world):
    before = snapshot()
    response = post(
        client_for(world.community_staff),
        csv_file([row(), row(lat="abc"), row(community="440000001002", lng=113.33)]),
        "stations.csv",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was written" in page
    assert "<li>would be created: 1</li>" in page
    assert "<td>3</td><td>纬度</td><td>纬度 must be a decimal number" in page
    assert "<td>4</td><td>社区代码</td><td>You do not have permission to do this.</td>" in page
    assert snapshot() == before


def test_keep_good_rows(world):
    response = post(
        client_for(world.community_staff),
        xlsx([row(name="好"), row(name="坏", lat="abc")]),
        keep_good_rows="on",
    )
    assert response.status_code == 200
    assert "The good rows were written" in response.content.decode()
    assert list(Station.objects.values_list("name", flat=True)) == ["好"]


def test_dry_run(world):
    before = snapshot()
    response = post(client_for(world.community_staff), xlsx([row()]), dry_run="on")
    assert response.status_code == 200
    assert "Dry run: nothing was written." in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "This is not a spreadsheet (it looks like a PNG file)"),
        (xlsx([], header=["名称", "类型"]), "lacks the required columns 社区代码、纬度、经度"),
        (b"", "The submitted file is empty."),
    ],
)
def test_bad_files_are_a_400_with_the_reason(world, data, message):
    before = snapshot()
    response = post(client_for(world.community_staff), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot() == before


def test_too_large_a_file_is_refused_before_it_is_read(world, monkeypatch):
    monkeypatch.setattr(exchange, "MAX_FILE_BYTES", 100)
    response = post(client_for(world.community_staff), xlsx([row()]))
    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    assert Station.objects.count() == 0


def test_no_file(world):
    response = client_for(world.community_staff).post(reverse(IMPORT), {})
    assert response.status_code == 400
    assert Station.objects.count() == 0


# --- export and templates ------------------------------------------------------------------------


def sheet_refs(response) -> list[str]:
    assert response["Content-Type"] == exchange.XLSX_CONTENT_TYPE
    assert response["Content-Disposition"].startswith('attachment; filename="stations-')
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]


def test_export_link_keeps_the_lists_filters(world):
    registry(world)
    client = client_for(world.community_staff)
    assert sheet_refs(client.get(reverse(EXPORT))) == ["A1-001", "A1-002", "A2-001"]
    assert sheet_refs(client.get(reverse(EXPORT) + "?kind__exact=corner")) == ["A1-002"]
    assert sheet_refs(client.get(reverse(EXPORT) + "?q=甲二")) == ["A2-001"]
    # An unknown filter is ignored rather than a 500.
    assert len(sheet_refs(client.get(reverse(EXPORT) + "?nonsense=1"))) == 3


def test_export_action_on_selected_rows(world):
    made = registry(world)
    response = client_for(world.community_staff).post(
        reverse("admin:stations_station_changelist"),
        {"action": "export_selected", "_selected_action": [made["corner"].pk, made["other"].pk]},
    )
    assert sorted(sheet_refs(response)) == ["A1-002", "A2-001"]


def test_the_station_list_links_to_import_and_export(world):
    registry(world)
    page = client_for(world.community_staff).get(
        reverse("admin:stations_station_changelist") + "?kind__exact=corner"
    )
    content = page.content.decode()
    assert reverse(IMPORT) in content
    assert reverse(EXPORT) + "?kind__exact=corner" in content
    assert "export_selected" in content


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_template_download_reimports_in_the_users_community(world, fmt):
    response = client_for(world.community_staff).get(reverse(TEMPLATE, args=[fmt]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="stations-template.{fmt}"'
    data = response.content
    report = exchange.import_stations(data, actor=world.community_staff, dry_run=True)
    assert (report.ok, report.created) == (True, 1)


def test_unknown_template_format(world):
    response = client_for(world.community_staff).get(reverse(TEMPLATE, args=["ods"]))
    assert response.status_code == 404


# --- the read-only lists -------------------------------------------------------------------------


def test_detail_pages_with_their_inlines(world):
    made = station_objects(world)
    client = client_for(world.community_staff)
    station = client.get(reverse("admin:stations_station_change", args=[made["station"].pk]))
    assert station.status_code == 200
    page = station.content.decode()
    assert "每天 08:00-22:00" in page
    assert "Phone charging" in page or "手机充电" in page
    inspection = client.get(
        reverse("admin:stations_inspection_change", args=[made["inspection"].pk])
    )
    assert inspection.status_code == 200
    assert "有休息座椅" in inspection.content.decode()
    for name in ("serviceitem", "checklistitem", "inspection", "visit", "station"):
        listing = client.get(reverse(f"admin:stations_{name}_changelist"))
        assert listing.status_code == 200


def test_other_communitys_staff_do_not_see_its_visits(world):
    made = station_objects(world)
    listing = client_for(world.other_community_staff).get(
        reverse("admin:stations_visit_changelist")
    )
    assert listing.status_code == 200
    assert f"/{made['visit'].pk}/change/" not in listing.content.decode()
    own = client_for(world.community_staff).get(reverse("admin:stations_visit_changelist"))
    assert f"/{made['visit'].pk}/change/" in own.content.decode()


def test_the_back_office_writes_nothing_directly(world):
    made = station_objects(world)
    client = client_for(world.district_admin)
    assert client.get(reverse("admin:stations_station_add")).status_code == 403
    response = client.post(
        reverse("admin:stations_station_delete", args=[made["station"].pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Station.objects.filter(pk=made["station"].pk).exists()
