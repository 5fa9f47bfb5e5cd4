"""Dashboard pages: the console dashboard of an area (scope, period, tables beside charts, map,
overdue list, downloads), its query count, the Excel and PDF downloads, the public page."""

import io
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.api.helpers import client_for
from tests.dashboards.test_exports import chinese_catalogue  # noqa: F401
from tests.world import square, station_objects
from yizhan.areas.services import area_create
from yizhan.core.models import AuditEntry
from yizhan.dashboards import brief
from yizhan.dashboards.services import rebuild_rollups

pytestmark = pytest.mark.django_db
#: Queries of one dashboard page, whatever the number of child areas, stations or reports.
PAGE_QUERIES = 27


def url(code, **query):
    base = reverse("dashboards:dashboard", args=[code])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def stations(world):
    ids = station_objects(world)
    rebuild_rollups()
    return ids


def test_the_street_admin_sees_the_street_with_children_tables_and_map(world, stations):
    page = client_for(world.street_admin).get(url(world.street_a.code))
    assert page.status_code == 200
    html = page.content.decode()
    assert "甲街道" in html and "甲一社区" in html and "甲二社区" in html
    # The children link to their own dashboards, keeping the period.
    assert reverse("dashboards:dashboard", args=[world.community_a1.code]) + "?kind=month" in html
    # Every chart sits on its table: the chart's data-table names a table on the page.
    charts = re.findall(r'data-table="([^"]+)"', html)
    assert charts and all(f'id="{table}"' in html for table in charts)
    # The map's points are JSON beside it (WGS-84), no inline script.
    points = json.loads(
        re.search(r'id="dash-map-points" type="application/json">(.*?)</script>', html, re.S).group(
            1
        )
    )
    assert {p["name"] for p in points} == {"甲一小哥驿站", "小店爱心角", "甲二小哥驿站"}
    assert not re.search(r"<script>(?!\s*$)", html)  # only src= scripts and json_script
    assert "vendor/echarts-5.6.0/echarts.min.js" in html
    assert "vendor/leaflet.heat-0.2.0/leaflet-heat.js" in html
    # Headline numbers, with the comparison.
    assert 'class="stat num">2<' in html  # two stations in street A


def test_the_tables_show_without_javascript(world, stations):
    html = client_for(world.street_admin).get(url(world.street_a.code)).content.decode()
    # Charts start hidden; their tables start open.
    assert re.search(r'<div class="dash-chart[^"]*"[^>]*hidden>', html)
    assert '<details class="dash-numbers" open>' in html
    assert '<option value="month" selected>' in html  # an empty query shows this month
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_the_breadcrumb_goes_up_to_the_scope_root_only(world, stations):
    grid = world.grid_a1_west.code
    staff = client_for(world.community_staff).get(url(grid)).content.decode()
    trail = re.search(r'<nav class="dash-trail".*?</nav>', staff, re.S).group(0)
    assert "甲一社区" in trail and "甲街道" not in trail and "测试区" not in trail
    admin = client_for(world.district_admin).get(url(grid)).content.decode()
    trail = re.search(r'<nav class="dash-trail".*?</nav>', admin, re.S).group(0)
    assert "测试区" in trail and "甲街道" in trail and "甲一社区" in trail


def test_home_opens_on_the_users_own_area(world, stations):
    html = client_for(world.community_staff).get(reverse("dashboards:home")).content.decode()
    assert "<h1>" in html and "甲一社区</h1>" in html


def test_an_area_outside_the_scope_is_a_clear_404(world, stations):
    staff = client_for(world.other_community_staff)
    page = staff.get(url(world.community_a1.code))
    assert page.status_code == 404
    assert staff.get(url(world.street_a.code)).status_code == 404
    assert staff.get(url("999999999")).status_code == 404
    rider = client_for(world.rider.user).get(url(world.community_a1.code))
    assert rider.status_code == 403
    anonymous = client_for(None).get(url(world.community_a1.code))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


@pytest.mark.parametrize(
    "query, field",
    [
        ({"kind": "custom", "start": "2026-05-01", "end": "2026-04-01"}, "end"),
        ({"kind": "custom", "start": "2026-05-01"}, "end"),
        ({"kind": "custom", "start": "2020-01-01", "end": "2026-01-01"}, "end"),
        ({"kind": "fortnight"}, "kind"),
        ({"kind": "month", "anchor": "2026-13"}, "anchor"),
        ({"kind": "custom", "start": "yesterday", "end": "2026-04-01"}, "start"),
    ],
)
def test_a_bad_period_is_a_form_error_with_400(world, stations, query, field):
    page = client_for(world.street_admin).get(url(world.street_a.code, **query))
    assert page.status_code == 400
    html = page.content.decode()
    assert 'class="errorlist" role="alert"' in html
    assert "dash-map-points" not in html  # nothing computed


def test_every_period_kind_renders(world, stations):
    client = client_for(world.street_admin)
    for query in (
        {"kind": "week"},
        {"kind": "month", "anchor": "2026-04"},
        {"kind": "quarter", "anchor": "2026-Q2"},
        {"kind": "year", "anchor": "2026"},
        {"kind": "custom", "start": "2025-01-01", "end": "2026-03-31"},
    ):
        assert client.get(url(world.street_a.code, **query)).status_code == 200, query


def test_the_query_count_does_not_grow_with_children_or_rows(world, stations):
    client = client_for(world.street_admin)
    client.get(url(world.street_a.code))  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url(world.street_a.code)).status_code == 200
    for n in range(3, 8):
        area_create(
            level="community",
            code=f"44000000100{n}",
            name=f"甲{n}社区",
            parent=world.street_a,
            boundary=square(113.30 + n / 100, 40.10, 113.31 + n / 100, 40.11),
        )
    station_extra(world)
    rebuild_rollups()
    with CaptureQueriesContext(connection) as after:
        html = client.get(url(world.street_a.code)).content.decode()
    assert "甲7社区" in html
    assert len(after) == len(before), [q["sql"][:120] for q in after.captured_queries]
    # Pinned: session and user, the area (once per selector call), the breadcrumb, the
    # dashboard's rollup reads, one page of overdue reports, the map's stations and heat.
    assert len(before) == PAGE_QUERIES, len(before)


def station_extra(world):
    from yizhan.stations import services as s

    for i in range(4):
        s.station_create(
            name=f"加的爱心角{i}", kind="corner", community=world.community_a2, lat=40.095,
            lng=113.325 + i / 1000, actor=world.street_admin, services=["water"], hours="24小时",
        )  # fmt: skip


def test_the_excel_download_opens_with_chinese_headers(world, stations):
    client = client_for(world.street_admin)
    response = client.get(
        reverse("dashboards:export", args=[world.street_a.code]) + "?kind=month&anchor=2026-04"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="dashboard-440000001-2026-04.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert "主要指标" in book.sheetnames and "驿站和爱心角" in book.sheetnames
    sheet = book["驿站和爱心角"]
    assert [c.value for c in sheet[1]][:3] == ["姓名", "类型", "状态"]
    assert {row[0].value for row in sheet.iter_rows(min_row=2)} >= {"甲一小哥驿站", "小店爱心角"}
    bad = client.get(
        reverse("dashboards:export", args=[world.street_a.code])
        + "?kind=custom&start=2026-05-01&end=2026-04-01"
    )
    assert bad.status_code == 400
    outside = client_for(world.other_community_staff).get(
        reverse("dashboards:export", args=[world.community_a1.code])
    )
    assert outside.status_code == 404


def test_the_brief_download_is_a_chinese_pdf_even_for_an_empty_month(world, stations):
    client = client_for(world.street_admin)
    response = client.get(
        reverse("dashboards:brief", args=[world.street_a.code]) + "?month=2001-02"
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "月度简报" in text and "甲街道" in text and "2001年2月" in text
    assert "本月没有数据" in text
    bad = client.get(reverse("dashboards:brief", args=[world.street_a.code]) + "?month=2026-13")
    assert bad.status_code == 400


def test_stored_briefs_are_listed_and_served_to_those_who_may_see_them(
    world, stations, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    brief.store_brief(world.street_a.code, "2026-04", b"%PDF-1.4 stored")
    assert (tmp_path / "private" / "briefs" / world.street_a.code / "2026-04.pdf").is_file()
    assert not (tmp_path / "media" / "briefs").exists()  # never where the web server serves
    admin = client_for(world.street_admin)
    html = admin.get(url(world.street_a.code)).content.decode()
    link = reverse("dashboards:stored_brief", args=[world.street_a.code, "2026-04"])
    assert link in html
    response = admin.get(link)
    assert (
        response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 stored"
    )
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="2026-04.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    entry = AuditEntry.objects.filter(action="export").latest("pk")
    assert entry.actor_id == world.street_admin.pk
    assert entry.data["what"] == "brief" and entry.data["month"] == "2026-04"
    exports = AuditEntry.objects.filter(action="export").count()
    missing = reverse("dashboards:stored_brief", args=[world.street_a.code, "2026-03"])
    assert admin.get(missing).status_code == 404
    odd = link.replace("2026-04.pdf", "2026-04%0A.pdf")  # "$" would have matched it
    assert admin.get(odd).status_code == 404
    assert client_for(world.other_community_staff).get(link).status_code == 404
    assert AuditEntry.objects.filter(action="export").count() == exports  # refusals: no entry


def test_the_public_page_is_off_by_default_and_shows_no_personal_data(world, stations, settings):
    public = reverse("dashboards:public", args=[world.street_a.code])
    assert client_for(None).get(public).status_code == 404
    settings.DASHBOARD_PUBLIC_STREETS = [world.street_a.code]
    page = client_for(None).get(public)
    assert page.status_code == 200
    html = page.content.decode()
    assert "甲街道" in html and reverse("honours:roll", args=[world.street_a.code]) in html
    assert "王小明" not in html and "1380" not in html
    other = reverse("dashboards:public", args=[world.street_b.code])
    assert client_for(None).get(other).status_code == 404


def test_the_console_nav_links_to_the_dashboard(world):
    html = client_for(world.community_staff).get(reverse("people:console")).content.decode()
    assert reverse("dashboards:home") in html
    rider = client_for(world.rider.user).get(reverse("people:rider_home")).content.decode()
    assert reverse("dashboards:home") not in rider


def test_overdue_list_pages(world, stations):
    html = client_for(world.street_admin).get(url(world.street_a.code, opage="x")).content.decode()
    assert 'id="h-overdue"' in html


def test_a_week_says_which_months_its_breakdowns_cover(world):
    from tests.api.helpers import client_for

    client = client_for(world.street_admin)
    response = client.get(
        f"/console/dashboard/{world.street_a.code}/", {"kind": "week", "anchor": "2026-03-04"}
    )
    assert response.status_code == 200, response.content[:300]
    assert 'data-testid="breakdowns-cover"' in response.content.decode()
