"""The installable app's server side (core.pwa): manifest, service worker, offline and outbox
pages, the text size; and what the offline outbox sends (a report's and a check-in's time)."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.api.helpers import client_for
from tests.reports.builders import make_given, submit
from yizhan.core import pwa


def test_the_manifest_names_the_app_in_chinese_with_installable_icons(db):
    response = Client().get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    data = json.loads(response.content)
    assert (data["name"], data["short_name"]) == ("驿站：小哥参与社区治理", "驿站")
    assert data["display"] == "standalone" and data["start_url"].startswith("/")
    assert data["lang"] == "zh-Hans" and data["theme_color"] == "#b42318"
    sizes = {(i["sizes"], i.get("purpose", "any")) for i in data["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    # (tests/e2e/test_offline.py fetches each icon from the live server.)
    assert [s["url"] for s in data["shortcuts"]] == ["/report/", "/nearby/"]


def test_the_service_worker_is_served_from_the_root_never_cached(db):
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    assert response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    config = json.loads(body.split("\n", 1)[0].removeprefix("self.YIZHAN = ").rstrip(";"))
    assert config["version"] == pwa.shell_version() and len(config["version"]) == 12
    assert config["offline"] == "/offline/" and "/offline/" in config["shell"]
    assert "/static/yizhan/outbox.js" in config["shell"]
    assert config["pages"] == ["/rider/", "/report/", "/nearby/", "/outbox/"]
    assert config["clearOn"] == ["/login/", "/logout/"]
    assert 'self.addEventListener("fetch"' in body


def test_the_offline_page_holds_nobody_s_data(world):
    """It is cached once for whoever uses the phone: no name, no account links."""
    html = client_for(world.rider.user).get("/offline/").content.decode()
    assert "无法连接网络" in html
    assert world.rider.user.name not in html and "退出登录" not in html
    assert 'id="outbox-list"' in html and 'id="offline-checkin"' in html
    assert 'id="outbox-i18n"' in html


def test_the_outbox_page_is_open_to_everyone(world):
    for user in (None, world.rider.user, world.community_staff):
        response = client_for(user).get("/outbox/")
        assert response.status_code == 200
        assert 'id="outbox-list"' in response.content.decode()


def test_every_page_links_the_manifest_and_loads_the_outbox(world):
    html = client_for(world.rider.user).get("/rider/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert "/static/yizhan/outbox.js" in html and 'id="outbox-link"' in html
    assert 'id="menu-toggle"' in html and 'for="menu-toggle"' in html


def test_larger_text_is_remembered_in_a_cookie(db):
    client = Client()
    assert 'class="large-text"' not in client.get("/").content.decode()
    response = client.post("/settings/text-size/", {"size": "large", "next": "/nearby/"})
    assert response.status_code == 302 and response["Location"] == "/nearby/"
    cookie = response.cookies["yz_text"]
    assert cookie.value == "large" and cookie["httponly"] and cookie["samesite"] == "Lax"
    html = client.get("/").content.decode()
    assert 'class="large-text"' in html and 'value="normal"' in html
    client.post("/settings/text-size/", {"size": "normal"})
    assert 'class="large-text"' not in client.get("/").content.decode()


@pytest.mark.parametrize("size", ["", "huge", "<script>"])
def test_an_unknown_text_size_is_a_400(db, size):
    response = Client().post("/settings/text-size/", {"size": size})
    assert response.status_code == 400
    assert "未知的字号" in response.content.decode()
    assert "yz_text" not in response.cookies


# --- a report kept offline: when the phone made it --------------------------------------------


@pytest.fixture
def g(world, settings, tmp_path):
    return make_given(world, settings, tmp_path)


def test_a_report_kept_offline_keeps_when_the_phone_made_it(g):
    made = timezone.now() - timedelta(hours=5)
    report = submit(g, captured_at=made)
    assert report.captured_at == made
    assert report.created_at > made  # deadlines run from when it reached us


@pytest.mark.parametrize(
    "offset",
    [timedelta(days=8), -timedelta(hours=1)],
    ids=["older than the window", "ahead of our clock"],
)
def test_an_implausible_phone_time_is_dropped_not_refused(g, offset):
    report = submit(g, captured_at=timezone.now() - offset)
    assert report.captured_at is None


def test_a_little_clock_skew_counts_as_now(g):
    report = submit(g, captured_at=timezone.now() + timedelta(minutes=3))
    assert report.captured_at is not None and report.captured_at <= timezone.now()


def test_the_report_form_refuses_a_time_that_is_not_a_time(g):
    from yizhan.reports.models import Report

    client = client_for(g.rider)
    response = client.post(
        "/report/",
        {"community": g.world.community_a1.code, "category": g.wire.pk,
         "description": "楼道堆物", "idempotency_key": "k-bad-time-1",
         "captured_at": "yesterday-ish"},
    )  # fmt: skip
    assert response.status_code == 400
    assert not Report.objects.exists()


def test_each_page_says_whose_outbox_it_is_without_saying_who(world):
    """<body data-user>: an opaque value per account (the outbox sends an item only as the
    account that made it), empty for a visitor; never the id, username or phone."""
    import re

    def owner(user):
        html = client_for(user).get("/outbox/").content.decode()
        return re.search(r'<body [^>]*data-user="([^"]*)"', html).group(1)

    rider, other = world.rider.user, world.other_rider.user
    assert owner(None) == ""
    mine = owner(rider)
    assert len(mine) == 20 and mine == pwa.outbox_owner(rider)
    assert mine != owner(other) and mine == owner(rider)
    assert str(rider.pk) != mine and rider.username not in mine
