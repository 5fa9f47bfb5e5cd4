"""Stations API: export, the import template and the import (docs/stations-import.md).

Who may call them is in test_permission_matrix.py; here are the flows: download and upload
again (nothing changes), filters and scope of the export, the report of an import (200 when
written or a clean dry run, 400 with the report in ``detail`` when rows were refused and nothing
was written), files that are not spreadsheets, and rows in another community's area.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import load_workbook

from tests.api import helpers
from tests.stations.exchange_helpers import csv_file, registry, row, snapshot, stations, xlsx
from yizhan.config.api import api
from yizhan.stations import exchange
from yizhan.stations.models import Station

EXPORT = "/api/v1/stations/export"
TEMPLATE = "/api/v1/stations/import-template"
IMPORT = "/api/v1/stations/import"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def client_for(user):
    client = helpers.client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def upload(client, data: bytes, name: str = "stations.xlsx", **flags: str):
    file = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(IMPORT, {"file": file, **flags})


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:400]
    body = response.json()
    assert set(body) == {"code", "message", "detail"} and body["message"]
    assert body["code"] == code, body
    return body


def refs_of(response, fmt: str = "xlsx") -> list[str]:
    assert response.status_code == 200, response.content[:400]
    if fmt == "xlsx":
        assert response["Content-Type"] == exchange.XLSX_CONTENT_TYPE
        sheet = load_workbook(io.BytesIO(response.content)).active
        return [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("外部编号,名称,类型,社区代码")
    return [line.split(",", 1)[0] for line in lines[1:]]


# --- export --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_download_and_upload_again_changes_nothing(world, fmt):
    registry(world)
    client = client_for(world.community_staff)
    response = client.get(f"{EXPORT}?format={fmt}")
    # Community A1's staff run the two stations of A1, not A2's.
    assert refs_of(response, fmt) == ["A1-001", "A1-002"]
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="stations-')
    assert disposition.endswith(f'.{fmt}"')
    before = stations()
    report = upload(client, response.content, f"stations.{fmt}").json()
    assert report["format"] == fmt
    counts = [report[k] for k in ("rows", "created", "updated", "unchanged")]
    assert counts == [2, 0, 0, 2]
    assert (report["committed"], report["errors"]) == (True, [])
    assert stations() == before


def test_an_edited_export_updates_by_reference(world):
    made = registry(world)
    client = client_for(world.community_staff)
    sheet = load_workbook(io.BytesIO(client.get(EXPORT).content))
    ws = sheet.active
    names = [c.value for c in ws[1]]
    ws.cell(row=2, column=names.index("名称") + 1, value="甲一小哥驿站（新）")
    ws.append(row(ref="A1-003", name="甲一第三站"))
    buffer = io.BytesIO()
    sheet.save(buffer)
    report = upload(client, buffer.getvalue()).json()
    assert (report["created"], report["updated"], report["unchanged"]) == (1, 1, 1)
    made["first"].refresh_from_db()
    assert made["first"].name == "甲一小哥驿站（新）"
    assert Station.objects.get(ref="A1-003").community == world.community_a1


def test_export_filters_like_the_list(world):
    registry(world)
    client = client_for(world.street_admin)
    assert refs_of(client.get(EXPORT)) == ["A1-001", "A1-002", "A2-001"]
    assert refs_of(client.get(f"{EXPORT}?kind=corner")) == ["A1-002"]
    assert refs_of(client.get(f"{EXPORT}?status=suspended")) == ["A1-001"]
    assert refs_of(client.get(f"{EXPORT}?community={world.community_a2.code}")) == ["A2-001"]
    assert refs_of(client.get(f"{EXPORT}?q=甲二")) == ["A2-001"]
    assert refs_of(client.get(f"{EXPORT}?format=csv&kind=union_station"), "csv") == ["A2-001"]


def test_export_for_another_communitys_staff_holds_only_their_own(world):
    registry(world)
    client = client_for(world.other_community_staff)
    assert refs_of(client.get(EXPORT)) == ["A2-001"]
    assert refs_of(client.get(f"{EXPORT}?community={world.community_a1.code}")) == []


@pytest.mark.parametrize(
    "query, code",
    [
        ("format=ods", "invalid_format"),
        ("kind=castle", "invalid_kind"),
        ("status=closed", "invalid_status"),
        ("community=999999999999", "unknown_area"),
        ("community=440000001", "not_a_community"),
    ],
)
def test_export_bad_parameters_are_a_400(world, query, code):
    refused(client_for(world.community_staff).get(f"{EXPORT}?{query}"), 400, code)


# --- the template --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_template_in_the_users_community_passes_a_dry_run(world, fmt):
    client = client_for(world.other_community_staff)
    response = client.get(f"{TEMPLATE}?format={fmt}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="stations-template.{fmt}"'
    before = snapshot()
    report = upload(client, response.content, f"template.{fmt}", dry_run="true").json()
    assert (report["created"], report["committed"], report["dry_run"]) == (1, False, True)
    assert report["errors"] == []
    assert snapshot() == before


def test_template_unknown_format(world):
    refused(client_for(world.community_staff).get(f"{TEMPLATE}?format=ods"), 400, "invalid_format")


# --- import --------------------------------------------------------------------------------------


def test_row_errors_are_a_400_with_the_report_and_nothing_written(world):
    before = snapshot()
    response = upload(
        client_for(world.community_staff),
        csv_file([row(), row(lat="abc"), row(services="飞行"), row(ref="X", name="")]),
        "stations.csv",
    )
    body = refused(response, 400, "invalid_rows")
    assert body["message"].startswith("3 rows have errors")
    report = body["detail"]
    assert (report["rows"], report["created"], report["failed_rows"]) == (4, 1, 3)
    flags = [report[k] for k in ("committed", "dry_run", "all_or_nothing")]
    assert flags == [False, False, True]
    assert [(e["row"], e["column"], e["header"]) for e in report["errors"]] == [
        (3, "lat", "纬度"),
        (4, "services", "服务"),
        (5, "name", "名称"),
    ]
    assert report["errors"][0]["message"].startswith("纬度 must be a decimal number")
    assert snapshot() == before


def test_keep_good_rows_writes_them_and_lists_the_others(world):
    response = upload(
        client_for(world.community_staff),
        xlsx([row(name="好"), row(name="坏", lat="abc")]),
        keep_good_rows="true",
    )
    assert response.status_code == 200
    report = response.json()
    assert (report["created"], report["committed"], report["all_or_nothing"]) == (1, True, False)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(3, "lat")]
    assert list(Station.objects.values_list("name", flat=True)) == ["好"]


def test_dry_run_writes_nothing(world):
    client = client_for(world.community_staff)
    before = snapshot()
    clean = upload(client, xlsx([row()]), dry_run="true")
    assert clean.status_code == 200
    assert (clean.json()["created"], clean.json()["committed"]) == (1, False)
    dirty = upload(client, xlsx([row(), row(lat="abc")]), dry_run="true")
    assert refused(dirty, 400, "invalid_rows")["detail"]["dry_run"] is True
    assert snapshot() == before


def test_a_row_in_another_community_is_refused_for_its_staff(world):
    made = registry(world)
    before = snapshot()
    response = upload(
        client_for(world.other_community_staff),
        xlsx([row(ref="A2-002", community=world.community_a2.code, lat=40.095, lng=113.33),
              row(ref="A1-009"),
              row(ref="A1-001", name="改名")]),
    )  # fmt: skip
    report = refused(response, 400, "invalid_rows")["detail"]
    assert report["errors"] == [
        {
            "row": 3,
            "column": "community",
            "header": "社区代码",
            "message": "You do not have permission to do this.",
        },
        {
            "row": 4,
            "column": "community",
            "header": "社区代码",
            "message": "You do not have permission to do this.",
        },
    ]
    assert report["created"] == 1  # the A2 row would have been fine
    assert snapshot() == before
    made["first"].refresh_from_db()
    assert made["first"].name == "甲一小哥驿站"


@pytest.mark.parametrize(
    "data, code",
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "invalid_file"),
        (b"%PDF-1.7\n" + bytes(64), "invalid_file"),
        (b"PK\x03\x04 not really a zip", "invalid_file"),
        (b"\x00\x01\x02\x03" * 50, "invalid_file"),
        (xlsx([], header=["名称", "类型"]), "missing_columns"),
        (csv_file([row()], header=["名称", "类型", "社区代码", "纬度", "经度", "名称"]),
         "duplicate_column"),
    ],
)  # fmt: skip
def test_a_bad_file_is_a_400_with_the_reason(world, data, code):
    before = snapshot()
    body = refused(upload(client_for(world.community_staff), data), 400, code)
    if code == "missing_columns":
        assert body["detail"] == {"missing": ["社区代码", "纬度", "经度"]}
        assert "社区代码、纬度、经度" in body["message"]
    assert snapshot() == before


def test_an_empty_file_or_none_at_all(world):
    client = client_for(world.community_staff)
    refused(upload(client, b""), 400, "invalid_file")
    refused(client.post(IMPORT, {"dry_run": "true"}), 422, "invalid")
    refused(upload(client, xlsx([row()]), dry_run="maybe"), 422, "invalid")
    assert Station.objects.count() == 0


def test_too_large_a_file(world, monkeypatch):
    monkeypatch.setattr(exchange, "MAX_FILE_BYTES", 100)
    body = refused(upload(client_for(world.community_staff), xlsx([row()])), 400, "invalid_file")
    assert "larger than" in body["message"]
    assert Station.objects.count() == 0


@pytest.mark.parametrize("method, path", [("GET", EXPORT), ("GET", TEMPLATE), ("POST", IMPORT)])
def test_anonymous_is_a_401(db, method, path):
    client = client_for(None)
    if method == "GET":
        response = client.get(path)
    else:
        response = upload(client, xlsx([row()]))
    refused(response, 401, "unauthenticated")


@pytest.mark.parametrize("who", ["rider", "merchant"])
def test_riders_and_merchants_are_a_403_and_nothing_changes(world, who):
    client = client_for(world.account(who))
    refused(client.get(EXPORT), 403, "forbidden")
    refused(client.get(f"{TEMPLATE}?format=csv"), 403, "forbidden")
    before = snapshot()
    refused(upload(client, xlsx([row(ref="R-1")])), 403, "forbidden")
    assert snapshot() == before


def test_the_operations_are_documented():
    paths = api.get_openapi_schema()["paths"]
    for path in (EXPORT, TEMPLATE):
        operation = paths[path]["get"]
        assert {p["name"] for p in operation["parameters"]} >= {"format"}
        content = operation["responses"][200]["content"]
        assert set(content) == {exchange.XLSX_CONTENT_TYPE, "text/csv"}
    export = {p["name"] for p in paths[EXPORT]["get"]["parameters"]}
    assert export == {"format", "community", "kind", "status", "q"}
    upload_op = paths[IMPORT]["post"]
    form = upload_op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file"]
    assert {"file", "keep_good_rows", "dry_run"} <= set(form["properties"])
    assert (
        "ImportReportOut"
        in upload_op["responses"][200]["content"]["application/json"]["schema"]["$ref"]
    )
