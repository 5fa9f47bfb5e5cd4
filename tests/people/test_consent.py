"""Consent: a versioned notice, consent recorded at registration (page and API), a separate
location consent, giving and withdrawing it, and asking again when the notice changes."""

from datetime import date

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from tests.api.helpers import call, client_for
from tests.pages.test_people_pages import registration
from tests.world import PASSWORD
from yizhan.core.errors import ApplicationError
from yizhan.core.models import AuditEntry
from yizhan.people import notice as notice_module
from yizhan.people import selectors, services
from yizhan.people.choices import ConsentKind
from yizhan.people.models import Consent, RiderProfile
from yizhan.people.notice import Notice, current_notice

CONSENTS = "/api/v1/me/consents"


@pytest.fixture
def version_3(monkeypatch):
    """A new notice version takes effect."""
    notices = (
        *notice_module.NOTICES,
        Notice("3", date(2026, 12, 2), "people/notice/v2.html", "新增条款"),
    )
    monkeypatch.setattr(notice_module, "NOTICES", notices)
    return notices[-1]


def rows(user):
    return list(
        Consent.objects.filter(user=user)
        .order_by("id")
        .values_list("kind", "notice_version", "withdrawn_at", "source")
    )


def test_current_notice_is_the_newest_in_effect():
    assert current_notice(date(2026, 11, 30)).version == "1"
    assert current_notice(date(2026, 12, 1)).version == "2"
    assert current_notice(date(2020, 1, 1)).version == "1"


def test_notice_page_shows_each_version(world):
    page = Client().get(reverse("people:privacy")).content.decode()
    assert "Version 2." in page or "第 2 版" in page or "版本 2" in page or "2026-12-01" in page
    old = Client().get(reverse("people:privacy"), {"version": "1"}).content.decode()
    assert "2026-11-22" in old


def test_page_registration_records_privacy_consent_only(world):
    client = Client()
    assert client.post(reverse("people:register"), registration(world)).status_code == 302
    rider = RiderProfile.objects.get(user__name="新骑手")
    [(kind, version, withdrawn, source)] = rows(rider.user)
    assert (kind, version, withdrawn, source) == ("privacy", "2", None, "registration")
    consent = Consent.objects.get(user=rider.user)
    assert rider.consent_at == consent.given_at
    assert not selectors.may_use_location(rider.user)


def test_page_registration_with_location_consent(world):
    client = Client()
    data = registration(world, location_consent="on")
    assert client.post(reverse("people:register"), data).status_code == 302
    rider = RiderProfile.objects.get(user__name="新骑手")
    assert [r[:2] for r in rows(rider.user)] == [("privacy", "2"), ("location", "2")]
    assert selectors.may_use_location(rider.user)


def test_registration_without_consent_is_refused(world):
    response = Client().post(reverse("people:register"), registration(world, consent=None))
    assert response.status_code == 400
    assert not Consent.objects.filter(user__name="新骑手").exists()


def test_api_registration_records_consent_with_source(world):
    body = {
        "name": "新骑手", "phone": "13511112222", "password": PASSWORD,
        "community": world.community_a1.code, "platform": "jd", "occupation": "courier",
        "vehicle": "e_bike", "work_lat": 40.095, "work_lng": 113.305, "consent": True,
        "location_consent": True,
    }  # fmt: skip
    assert call(Client(), "POST", "/api/v1/riders/register", body).status_code == 201
    rider = RiderProfile.objects.get(user__name="新骑手")
    assert [(r[0], r[3]) for r in rows(rider.user)] == [("privacy", "api"), ("location", "api")]
    refused = call(
        Client(),
        "POST",
        "/api/v1/riders/register",
        {**body, "consent": False, "phone": "13511113333"},
    )
    assert refused.status_code == 400 and refused.json()["code"] == "consent_required"


def test_give_and_withdraw_location_on_the_page(world):
    user = world.rider.user
    client = client_for(user)
    page = client.get(reverse("people:rider_privacy"))
    assert page.status_code == 200
    assert reverse("people:rider_consent") in page.content.decode()
    assert client.post(reverse("people:rider_consent"), {"kind": "location"}).status_code == 302
    assert selectors.may_use_location(user)
    # Giving again changes nothing.
    client.post(reverse("people:rider_consent"), {"kind": "location"})
    assert Consent.objects.filter(user=user, kind="location").count() == 1
    assert (
        client.post(reverse("people:rider_consent_withdraw"), {"kind": "location"}).status_code
        == 302
    )
    assert not selectors.may_use_location(user)
    assert selectors.consent_status(user).privacy == "current"
    actions = list(
        AuditEntry.objects.filter(target_type="people.user", target_id=str(user.pk)).values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["consent.given", "consent.withdrawn"]


def test_withdrawing_privacy_ends_location_and_points_to_deletion(world):
    user = world.rider.user
    services.consent_give(user=user, actor=user, kind="location")
    client = client_for(user)
    response = client.post(
        reverse("people:rider_consent_withdraw"), {"kind": "privacy"}, follow=True
    )
    text = response.content.decode()
    assert response.status_code == 200
    status = selectors.consent_status(user)
    assert (status.privacy, status.location, status.needs_consent) == ("withdrawn", False, True)
    assert all(r[2] is not None for r in rows(user))
    assert "delete your account" in text.lower() or "注销" in text or "删除" in text
    # Staff see it on the registration.
    detail = (
        client_for(world.community_staff)
        .get(reverse("people:rider_detail", args=[world.rider.pk]))
        .content.decode()
    )
    assert "do not ask this rider" in detail or "withdrawn" in detail.lower() or "撤回" in detail
    # And the rider may agree again.
    assert client.post(reverse("people:rider_consent"), {"kind": "privacy"}).status_code == 302
    assert selectors.consent_status(user).privacy == "current"


def test_location_needs_the_privacy_consent_first(world):
    user = world.rider.user
    services.consent_withdraw(user=user, actor=user, kind="privacy")
    with pytest.raises(ApplicationError) as refused:
        services.consent_give(user=user, actor=user, kind="location")
    assert refused.value.code == "privacy_consent_required"
    response = call(client_for(user), "POST", CONSENTS, {"kind": "location"})
    assert response.status_code == 409


def test_only_the_account_holder_consents(world):
    with pytest.raises(ApplicationError):
        services.consent_give(user=world.rider.user, actor=world.community_staff, kind="privacy")
    with pytest.raises(ApplicationError):
        services.consent_withdraw(
            user=world.rider.user, actor=world.other_rider.user, kind="privacy"
        )
    bad = call(client_for(world.rider.user), "POST", CONSENTS, {"kind": "everything"})
    assert bad.status_code == 400


def test_a_new_notice_version_asks_again(world, version_3):
    user = world.rider.user
    client = client_for(user)
    status = selectors.consent_status(user)
    assert (status.privacy, status.privacy_version, status.needs_consent) == ("outdated", "2", True)
    home = client.get(reverse("people:rider_home")).content.decode()
    assert "新增条款" in home and reverse("people:rider_privacy") in home
    assert call(client, "GET", "/api/v1/me").json()["consent_required"] is True
    body = call(client, "GET", CONSENTS).json()
    assert body["notice"]["version"] == "3" and body["needs_consent"] is True
    assert body["notice"]["url"].endswith("?version=3")
    # Rider writes still work (documented: no 4xx until they agree).
    after = call(client, "POST", CONSENTS, {"kind": "privacy"}).json()
    assert (after["privacy"], after["privacy_version"], after["needs_consent"]) == (
        "current",
        "3",
        False,
    )
    assert [r[1] for r in rows(user) if r[0] == "privacy"] == ["2", "3"]
    rider = RiderProfile.objects.get(pk=world.rider.pk)
    latest = Consent.objects.filter(user=user, kind=ConsentKind.PRIVACY).order_by("-id").first()
    assert rider.consent_at == latest.given_at
    assert call(client, "GET", "/api/v1/me").json()["consent_required"] is False


def test_nav_badge_when_consent_is_needed(world, version_3):
    page = client_for(world.rider.user).get(reverse("people:rider_posts")).content.decode()
    assert reverse("people:rider_privacy") in page and "badge pending" in page


def test_api_consent_operations(world):
    client = client_for(world.rider.user)
    got = call(client, "GET", CONSENTS).json()
    assert got["privacy"] == "current" and got["location"] is False
    given = call(client, "POST", CONSENTS, {"kind": "location"}).json()
    assert given["location"] is True and given["location_given_at"]
    withdrawn = call(client, "POST", f"{CONSENTS}/withdraw", {"kind": "location"}).json()
    assert withdrawn["location"] is False
    history = call(client, "GET", f"{CONSENTS}/history").json()
    assert [(h["kind"], h["withdrawn_at"] is None) for h in history["items"]] == [
        ("location", False), ("privacy", True),
    ]  # fmt: skip
    staff = call(client_for(world.community_staff), "GET", CONSENTS)
    assert staff.status_code == 403


def test_consent_history_query_count_does_not_grow(world, django_assert_max_num_queries):
    user = world.rider.user
    for _ in range(6):
        services.consent_give(user=user, actor=user, kind="location")
        services.consent_withdraw(user=user, actor=user, kind="location")
    client = client_for(user)
    client.get(f"{CONSENTS}/history", {"page_size": 2})
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(f"{CONSENTS}/history", {"page_size": 2})
    with CaptureQueriesContext(connection) as large:
        client.get(f"{CONSENTS}/history", {"page_size": 20})
    assert len(large.captured_queries) == len(small.captured_queries)


def test_migration_records_version_1_for_earlier_riders(world):
    from importlib import import_module

    Consent.objects.all().delete()
    migration = import_module("yizhan.people.migrations.0004_consent")
    migration.record_version_1(apps, None)
    assert Consent.objects.filter(notice_version="1", source="migration").count() == (
        RiderProfile.objects.count()
    )
    rider = RiderProfile.objects.get(pk=world.rider.pk)
    assert Consent.objects.get(user=rider.user).given_at == rider.consent_at
    assert selectors.consent_status(rider.user).privacy == "outdated"
