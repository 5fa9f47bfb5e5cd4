"""Dashboards API: the dashboard of an area for a period, the overdue list (paginated), the
map's points and heat, the Excel and PDF downloads, the public numbers; scope and bad input."""

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.api.helpers import client_for
from tests.dashboards.test_exports import chinese_catalogue  # noqa: F401
from tests.world import station_objects
from yizhan.config.api import api
from yizhan.dashboards.kpis import BREAKDOWNS, METRICS, TRENDS
from yizhan.dashboards.services import rebuild_rollups

pytestmark = pytest.mark.django_db
BASE = "/api/v1/dashboards"


@pytest.fixture
def stations(world):
    ids = station_objects(world)
    rebuild_rollups()
    return ids


def test_the_dashboard_of_a_street_for_a_month(world, stations):
    response = client_for(world.street_admin).get(
        f"{BASE}/{world.street_a.code}", {"kind": "month", "anchor": "2026-04"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["area"]["code"] == "440000001" and body["area"]["name"] == "甲街道"
    assert body["period"] == {
        "kind": "month",
        "start": "2026-04-01",
        "end": "2026-04-30",
        "key": "2026-04",
        "label": "2026-04",
    }
    assert body["previous_period"]["key"] == "2026-03"
    assert [m["key"] for m in body["headline"]] == list(METRICS)
    assert set(body["breakdowns"]) >= set(BREAKDOWNS) and set(body["trends"]) >= set(TRENDS)
    assert len(body["trends"]["reports"]["points"]) == 30
    stations_metric = next(m for m in body["headline"] if m["key"] == "stations")
    assert stations_metric["value"] == 2 and stations_metric["unit"] == "count"
    assert {c["name"] for c in body["children"]} == {"甲一社区", "甲二社区"}
    assert isinstance(body["is_empty"], bool)


@pytest.mark.parametrize(
    "query, field",
    [
        ({"kind": "custom", "start": "2026-05-01", "end": "2026-04-01"}, "end"),
        ({"kind": "custom", "start": "2020-01-01", "end": "2026-01-01"}, "end"),
        ({"kind": "decade"}, "kind"),
        ({"kind": "month", "anchor": "April"}, "anchor"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_field(world, stations, query, field):
    response = client_for(world.street_admin).get(f"{BASE}/{world.street_a.code}", query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] in {"invalid_period", "period_too_long", "period_out_of_range"}
    assert body["detail"] == {"field": field} and body["message"]


def test_scope_and_account_type(world, stations):
    path = f"{BASE}/{world.community_a1.code}"
    assert client_for(None).get(path).status_code == 401
    assert client_for(world.rider.user).get(path).status_code == 403
    assert client_for(world.other_community_staff).get(path).status_code == 404
    assert client_for(world.community_staff).get(path).status_code == 200
    assert client_for(world.street_admin).get(f"{BASE}/999999").status_code == 404


def test_the_overdue_list_is_paginated(world, stations):
    response = client_for(world.street_admin).get(
        f"{BASE}/{world.street_a.code}/overdue", {"page_size": 5}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "count", "page", "page_size", "pages"}
    assert body["page_size"] == 5 and body["count"] == len(body["items"]) == 0


def test_map_points_and_heat(world, stations):
    client = client_for(world.street_admin)
    points = client.get(f"{BASE}/{world.street_a.code}/map").json()
    assert {p["name"] for p in points} == {"甲一小哥驿站", "小店爱心角", "甲二小哥驿站"}
    corner = next(p for p in points if p["kind"] == "corner")
    assert corner["lat"] == pytest.approx(40.096) and corner["lng"] == pytest.approx(113.315)
    a1 = client_for(world.community_staff).get(f"{BASE}/{world.community_a1.code}/map").json()
    assert {p["name"] for p in a1} == {"甲一小哥驿站", "小店爱心角"}
    heat = client.get(f"{BASE}/{world.street_a.code}/heat", {"kind": "year"})
    assert heat.status_code == 200 and heat.json() == []
    bad = client.get(f"{BASE}/{world.street_a.code}/heat", {"kind": "custom", "start": "x"})
    assert bad.status_code == 400


def test_the_excel_export(world, stations):
    response = client_for(world.street_admin).get(
        f"{BASE}/{world.street_a.code}/export", {"kind": "quarter", "anchor": "2026-Q2"}
    )
    assert response.status_code == 200
    assert 'filename="dashboard-440000001-2026-Q2.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    headline = book["主要指标"]
    assert [c.value for c in headline[1]][:3] == ["指标", "本期", "上期"]
    stations_row = next(r for r in headline.iter_rows(min_row=2) if r[0].value == "驿站")
    assert stations_row[1].value == 2 and stations_row[1].data_type == "n"


def test_the_monthly_brief(world, stations):
    response = client_for(world.street_admin).get(
        f"{BASE}/{world.street_a.code}/brief", {"month": "2026-04"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert 'filename="brief-440000001-2026-04.pdf"' in response["Content-Disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "月度简报" in text and "2026年4月" in text
    bad = client_for(world.street_admin).get(
        f"{BASE}/{world.street_a.code}/brief", {"month": "2026-00"}
    )
    assert bad.status_code == 400 and bad.json()["detail"] == {"field": "month"}


def test_the_public_numbers_only_for_streets_that_switched_them_on(world, stations, settings):
    path = f"{BASE}/public/{world.street_a.code}"
    assert client_for(None).get(path).status_code == 404
    settings.DASHBOARD_PUBLIC_STREETS = [world.street_a.code]
    body = client_for(None).get(path).json()
    assert body["street"]["name"] == "甲街道"
    assert {m["key"] for m in body["headline"]} <= set(METRICS)
    assert client_for(None).get(f"{BASE}/public/{world.street_b.code}").status_code == 404


def test_every_operation_has_a_summary_and_declared_errors():
    schema = api.get_openapi_schema()
    operations = [
        op
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/dashboards")
        for op in item.values()
    ]
    assert len(operations) == 7
    for op in operations:
        assert op.get("summary")
        assert {400, 401, 403, 404} <= {int(code) for code in op["responses"]}
