"""Headers on every page (Content-Security-Policy, Permissions-Policy, frames, referrer) and
CSRF on every form: each page route refuses a POST without a token (403), nothing changed."""

import re
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, UUIDConverter

from tests.api.helpers import client_for
from tests.api.test_permission_matrix import snapshot
from yizhan.core.middleware import tile_source

SRC = Path(__file__).resolve().parents[2] / "src" / "yizhan"
PAGES = ["/", "/login/", "/register/", "/nearby/", "/privacy/"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_the_security_headers(db, path):
    response = Client().get(path, follow=False)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["img-src"].startswith("'self' data: blob:")
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "geolocation=(self)" in response["Permissions-Policy"]
    assert "camera=(self)" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_policy_allows_the_configured_map_tiles(db, settings):
    settings.MAP_TILE_URL = "https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}&tk=KEY"
    csp = Client().get("/nearby/")["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://*.tianditu.gov.cn;" in csp


@pytest.mark.parametrize(
    "url, source",
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.cn/{z}/{x}/{y}.png", "https://*.tile.example.cn"),
        (
            "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}",
            "https://*.is.autonavi.com",
        ),
        ("/tiles/{z}/{x}/{y}.png", ""),
        ("", ""),
    ],
)
def test_tile_source(url, source):
    assert tile_source(url) == source


def test_the_api_and_the_csrf_failure_page_carry_them_too(db):
    assert "frame-ancestors 'none'" in Client().get("/api/v1/version")["Content-Security-Policy"]


def test_no_template_has_inline_script_or_style():
    """What the policy would block: inline <script> code, on…= handlers, javascript: links,
    style attributes and <style> elements, in every app's templates."""
    bad = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)|\son[a-z]+=\"|javascript:|\sstyle=\"|<style"
    )
    offenders = []
    for path in SRC.rglob("*.html"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if bad.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{number}")
    assert offenders == []


# --- CSRF on every form --------------------------------------------------------------------------


def _sample(converter):
    if isinstance(converter, IntConverter):
        return 1
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    return "x"


def _page_urls(patterns=None, namespace=""):
    """Every named page route (not the API or Open311, which use no session forms), with
    sample values for its parameters: the CSRF check runs before the view looks at them."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in ("api", "open311"):
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _page_urls(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            converters = getattr(pattern.pattern, "converters", {})
            kwargs = {name: _sample(conv) for name, conv in converters.items()}
            for group in pattern.pattern.regex.groupindex:  # the admin's app_list regex
                kwargs.setdefault(group, "people" if group == "app_label" else "1")
            try:
                yield namespace + pattern.name, reverse(namespace + pattern.name, kwargs=kwargs)
            except Exception:  # noqa: BLE001 - a pattern with a regex of its own: skip loudly below
                yield namespace + pattern.name, None


def test_every_page_route_refuses_a_post_without_a_csrf_token(world):
    routes = dict(_page_urls())
    assert None not in routes.values(), [n for n, u in routes.items() if u is None]
    assert "people:login" in routes and "people:two_factor_verify" in routes
    # Anonymous and signed-in (staff and rider) clients that enforce CSRF like a browser.
    clients = {"anonymous": Client(enforce_csrf_checks=True)}
    for who, user in [("staff", world.community_staff), ("rider", world.rider.user)]:
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        clients[who] = client
    before = snapshot()
    accepted = []
    for name, url in sorted(routes.items()):
        for who, client in clients.items():
            response = client.post(url, {"name": "x", "reason": "x", "code": "123456"})
            if response.status_code != 403:
                accepted.append(f"{name} ({who}): {response.status_code}")
    assert accepted == []
    assert snapshot() == before


def test_a_post_with_the_token_goes_through(world):
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("people:login"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = client.post(
        reverse("people:login"),
        {"username": "staff_a1", "password": "Yizhan-test-2026", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


def test_the_back_office_login_refuses_a_post_without_a_token(world):
    response = Client(enforce_csrf_checks=True).post(
        "/admin/login/", {"username": "staff_a1", "password": "Yizhan-test-2026"}
    )
    assert response.status_code == 403


def test_cookies_are_http_only_and_same_site(world):
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("people:login"))
    csrf = page.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = client.post(
        reverse("people:login"),
        {"username": "staff_a1", "password": "Yizhan-test-2026", "csrfmiddlewaretoken": token},
    )
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"


def test_a_signed_in_page_still_works_under_the_policy(world):
    """The console pages keep their htmx (static file) and have no inline code."""
    response = client_for(world.community_staff).get(reverse("people:registrations"))
    assert response.status_code == 200
    assert "yizhan/site.js" in response.content.decode()
