"""The demo street's dashboard page, Excel file and monthly brief show the seeds' numbers.

The demo is loaded once for the module inside a transaction rolled back at the end (as
tests/dashboards/test_selectors_demo.py does); each test runs in a savepoint within it.
"""

import io
import re

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.api.helpers import client_for
from tests.dashboards.test_exports import chinese_catalogue  # noqa: F401
from yizhan.dashboards.demo import load_dashboards_demo
from yizhan.demo.loader import load_demo
from yizhan.people.models import User

STREET = "140213055"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("demo-media")
    with (
        django_db_blocker.unblock(),
        override_settings(DEMO_MODE=True, MEDIA_ROOT=str(media)),
        transaction.atomic(),
    ):
        ctx = load_demo()
        load_dashboards_demo(ctx)
        yield ctx
        transaction.set_rollback(True)


@pytest.fixture
def admin(demo, db):
    return User.objects.filter(role="admin", area_code=STREET).order_by("pk").first()


def test_the_street_admin_sees_the_seeds_numbers_with_charts_and_map(admin):
    html = client_for(admin).get(reverse("dashboards:home") + "?kind=year").content.decode()
    assert "清远街道" in html
    cards = dict(
        re.findall(
            r'<span class="dash-label">([^<]+)</span>\s*<span class="stat num">([^<]+)</span>', html
        )
    )
    # The seeds' numbers: 9 stations, 137 caring corners, 56 riders holding posts.
    assert cards["驿站"] == "9" and cards["爱心角"] == "137" and cards["认领岗位的小哥"] == "56"
    assert html.count('class="dash-chart') >= 10
    assert html.count('"kind": "corner"') == 137
    assert html.count("清远骑士") >= 15


def test_the_demo_excel_and_brief_open_with_chinese_text(admin):
    client = client_for(admin)
    month = timezone.localdate().strftime("%Y-%m")
    xlsx = client.get(reverse("dashboards:export", args=[STREET]) + "?kind=year")
    book = load_workbook(io.BytesIO(xlsx.content))
    corners = book["驿站和爱心角"]
    assert corners.max_row >= 1 + 9 + 137
    honours = book["荣誉"]
    assert sum(1 for r in honours.iter_rows(min_row=2) if r[0].value == "清远骑士") == 15
    pdf = client.get(reverse("dashboards:brief", args=[STREET]) + f"?month={month}")
    assert pdf.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "清远街道" in text and "月度简报" in text
