"""Hostile text and hostile bodies (issue 8, "Bad input").

Text that is a script, an HTML attribute handler, template syntax or an SQL injection is stored as
the rider typed it and shown as text: escaped on every page that shows it, never run, never
evaluated, never reaching the SQL. Bodies that are too big, not JSON, or of the wrong type are a
4xx with a message, and write nothing. Only code of our own may be marked safe in a template.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from django.urls import reverse

from tests.api.helpers import call, client_for
from tests.wishes import builders as wish_builders
from tests.world import report_jpeg
from yizhan.appeals.models import Appeal
from yizhan.people.models import User
from yizhan.points.services import points_award
from yizhan.reports import services as report_services
from yizhan.reports.models import Report
from yizhan.wishes.services import wish_approve

SCRIPT = '<script>alert("yz")</script>'
HANDLER = '<img src=x onerror="alert(1)">'
TEMPLATE = "{{ request.user.password }}{% now 'Y' %}"
SQL = "' OR '1'='1'; DROP TABLE people_user; --"
HOSTILE = f"楼道{SCRIPT}{HANDLER}{TEMPLATE}{SQL}"

SRC = Path(__file__).resolve().parents[2] / "src" / "yizhan"


def assert_inert(html: str, where: str = "", *, whole: bool = True) -> None:
    """The hostile text is on the page, as text: escaped, not run, not evaluated (a list may
    shorten it: ``whole=False`` looks for its beginning only)."""
    assert "<script>alert(" not in html and "<img src=x" not in html, where
    assert "&lt;script&gt;alert(" in html, where
    if whole:
        assert "&lt;img src=x onerror=" in html, where
        assert TEMPLATE.split("{%")[0] in html, where  # shown, not evaluated


@pytest.fixture
def categories(world):
    return {
        c.code: c
        for c in report_services.categories_seed(street=world.street_a, actor=world.street_admin)
    }


def test_a_report_keeps_hostile_text_as_text_on_every_page(world, categories, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    rider = client_for(world.rider.user)
    response = rider.post(
        "/api/v1/reports",
        data={
            "category": categories["stairwell_clutter"].pk,
            "lat": 40.095,
            "lng": 113.315,
            "description": HOSTILE,
            "address": HOSTILE[:100],
            "photos": [report_jpeg(7)],
        },
        headers={"Idempotency-Key": "hostile-report-0001"},
    )
    assert response.status_code == 201, response.content
    report_id = response.json()["id"]
    assert Report.objects.get(pk=report_id).description == HOSTILE  # stored as typed
    assert call(rider, "GET", f"/api/v1/reports/{report_id}").json()["description"] == HOSTILE
    assert User.objects.filter(pk=world.rider.user.pk).exists()  # the SQL stayed text

    staff = client_for(world.community_staff)
    for client, page, whole in [
        (rider, reverse("reports:detail", args=[report_id]), True),
        (rider, reverse("reports:mine"), False),
        (staff, reverse("reports:console_detail", args=[report_id]), True),
        (staff, reverse("reports:triage"), False),
    ]:
        response = client.get(page)
        assert response.status_code == 200, page
        assert_inert(response.content.decode(), page, whole=whole)


def test_an_appeal_keeps_hostile_text_as_text(world):
    rider = client_for(world.rider.user)
    response = call(
        rider,
        "POST",
        "/api/v1/appeals",
        {"difficulty": "rights", "topic": "pay", "text": HOSTILE, "anonymous": False},
        headers={"Idempotency-Key": "hostile-appeal-0001"},
    )
    assert response.status_code == 201, response.content
    appeal_id = response.json()["id"]
    assert Appeal.objects.get(pk=appeal_id).text == HOSTILE
    assert_inert(rider.get(reverse("appeals:detail", args=[appeal_id])).content.decode())
    page = client_for(world.community_staff).get(
        reverse("appeals:console_detail", args=[appeal_id])
    )
    assert page.status_code == 200
    assert_inert(page.content.decode())


def test_a_wish_keeps_hostile_text_as_text(world):
    wish = wish_approve(
        wish=wish_builders.post(world, text=HOSTILE[:200]), actor=world.community_staff
    )
    assert wish.text == HOSTILE[:200]
    assert_inert(
        client_for(world.rider.user).get(reverse("wishes:detail", args=[wish.pk])).content.decode()
    )


def test_an_award_reason_keeps_hostile_text_as_text(world):
    points_award(
        member=world.rider.user,
        amount=5,
        reason=HOSTILE[:200],
        evidence=HOSTILE,
        actor=world.community_staff,
        idempotency_key="hostile-award-0001",
    )
    assert_inert(client_for(world.rider.user).get(reverse("points:rider_points")).content.decode())


#: A JSON body one byte beyond DATA_UPLOAD_MAX_MEMORY_SIZE, made in the test from the setting.
OVERSIZED = object()


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", '{"difficulty": "rights", "text": '),  # malformed JSON
        ("application/json", '["not", "an", "object"]'),
        ("text/plain", "difficulty=rights&topic=pay&text=hi"),  # the wrong content type
        ("application/json", OVERSIZED),
    ],
    ids=["malformed-json", "not-an-object", "wrong-content-type", "oversized"],
)
def test_a_broken_body_is_a_4xx_with_a_message_and_writes_nothing(
    world, settings, content_type, body
):
    if body is OVERSIZED:
        head, tail = '{"difficulty": "rights", "topic": "pay", "text": "', '"}'
        size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1 - len(head) - len(tail)
        body = head + "x" * size + tail
    rider = client_for(world.rider.user)
    before = Appeal.objects.count()
    response = rider.post(
        "/api/v1/appeals",
        data=body.encode(),
        content_type=content_type,
        headers={"Idempotency-Key": "broken-body-0001"},
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:200])
    if len(body.encode()) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        assert (response.status_code, response.json()["code"]) == (413, "too_large")
    assert response["Content-Type"].startswith("application/json")
    assert response.json().get("message") or response.json().get("detail")
    assert Appeal.objects.count() == before


def test_only_our_own_markup_is_marked_safe():
    """Django escapes every variable unless a template or view says otherwise: the places that
    do are listed here, each with why nothing a user typed reaches it."""
    allowed = Counter(
        {
            # The QR codes are drawn from our own payloads (a check-in URL, "YZR-…", "YZE-…").
            ("core/qr.py", "mark_safe("): 1,
            # A form field's help text is written by developers, as in Django's own template.
            ("core/templates/core/forms/field.html", "|safe"): 1,
            # format_html escapes its arguments.
            ("reports/admin.py", "format_html("): 1,
        }
    )
    found = Counter()
    pattern = re.compile(r"\|safe\b|autoescape off|mark_safe\(|SafeString\(|format_html\(")
    for path in SRC.rglob("*"):
        if path.suffix not in {".py", ".html", ".txt"} or "static" in path.parts:
            continue
        if "migrations" in path.parts or path.name.startswith("test"):
            continue
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            found[(str(path.relative_to(SRC)), match.group(0))] += 1
    assert found == allowed
