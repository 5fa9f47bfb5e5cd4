"""Flow: a street admin opens the street's dashboard in the console and downloads it as Excel;
the workbook holds the street's figures, the same as the page shows."""

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.helpers import t, watched
from tests.world import report_objects, station_objects
from yizhan.dashboards.services import rebuild_rollups
from yizhan.stations.services import station_create

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def figures(world):
    """Street A: three stations (two rider stations, a caring corner) and the reports of
    tests/world.py; street B a station of its own, which street A's dashboard must not show.
    The rollups are rebuilt as the nightly job would."""
    station_objects(world)
    report_objects(world)
    station_create(
        name="乙一小哥驿站", kind="rider_station", community=world.community_b1, lat=40.085,
        lng=113.31, actor=world.district_admin, services=["rest"], hours="24小时",
    )  # fmt: skip
    rebuild_rollups()


def test_a_street_admin_downloads_the_dashboard_as_excel(
    world, password, new_context, shot, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    figures(world)
    admin = new_context(phone=False, accept_downloads=True).new_page()
    problems = watched(admin, shot=shot)
    look = problems.look

    # 1. The dashboard of the admin's own street, from the console's menu.
    log_in(admin, "admin_a", password, expect=r"/console/")
    admin.get_by_role("link", name=t("Dashboard"), exact=True).first.click()
    admin.wait_for_url(re.compile(r"/console/dashboard/"))
    expect(admin.locator("h1")).to_contain_text(world.street_a.name)
    cards = admin.locator("ul.dash-cards li.dash-card")
    expect(cards.first).to_be_visible()
    shown = {
        card.locator(".dash-label").inner_text().strip(): card.locator(".stat").inner_text()
        for card in cards.all()
    }
    children = admin.locator("section[aria-labelledby=h-children]")
    expect(children).to_contain_text(world.community_a1.name)
    expect(children).to_contain_text(world.community_a2.name)
    look(admin, "1-dashboard")

    # 2. Every table as Excel.
    with admin.expect_download() as download:
        admin.get_by_role("link", name=t("Every table as Excel (.xlsx)")).click()
    xlsx = download.value
    assert re.fullmatch(rf"dashboard-{world.street_a.code}-[\w-]+\.xlsx", xlsx.suggested_filename)
    path = tmp_path / xlsx.suggested_filename
    xlsx.save_as(path)
    book = load_workbook(path)
    look(admin, "2-downloaded")

    # The headline sheet: every number on the page's cards, the same in the file.
    headline = book.worksheets[0]
    rows = list(headline.iter_rows(values_only=True))
    assert rows[0][:2] == (t_dash("Measure"), t_dash("This period"))
    in_file = {str(row[0]).strip(): row[1] for row in rows[1:] if row and row[0]}
    compared = 0
    for label, text in shown.items():
        value = in_file.get(label)
        if isinstance(value, int) and re.fullmatch(r"[\d,]+", text.strip()):
            assert value == int(text.replace(",", "")), (label, value, text)
            compared += 1
    assert compared >= 3, (shown, in_file)

    # Side by side: street A's communities, not street B's.
    side = book[t_dash("Side by side")]
    areas = {row[0] for row in side.iter_rows(min_row=2, values_only=True) if row and row[0]}
    assert {world.community_a1.name, world.community_a2.name} <= areas
    assert world.community_b1.name not in areas

    # The stations of street A, each with its place; street B's is not there.
    stations = book[t_dash("Stations and corners")]
    names = {row[0] for row in stations.iter_rows(min_row=2, values_only=True) if row and row[0]}
    assert {"甲一小哥驿站", "小店爱心角", "甲二小哥驿站"} <= names
    assert "乙一小哥驿站" not in names
    problems.check()


def t_dash(msgid: str) -> str:
    from django.utils.translation import pgettext

    return str(pgettext("dashboard", msgid))
