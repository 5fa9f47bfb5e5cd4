"""Delete my account: the identity goes, the records stay (pointing at a tombstone), the ledger
still reconciles, the account cannot log in, its phone can register afresh; staff cannot delete
a rider; a refusal changes nothing; a second deletion changes nothing."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import authenticate
from django.test import Client

from tests.api.helpers import call, client_for
from tests.world import PASSWORD, make_rider
from yizhan.core.errors import ApplicationError, Forbidden, Unauthenticated
from yizhan.core.models import AuditEntry
from yizhan.events.models import Signup
from yizhan.notifications.models import Notification
from yizhan.people.models import ApiToken, Consent, PostClaim, RiderProfile, TeamMembership, User
from yizhan.people.security import login_authenticate
from yizhan.people.services import token_issue
from yizhan.points.models import Entry, PointsAccount
from yizhan.points.services import points_reconcile
from yizhan.privacy import services
from yizhan.privacy.services import account_delete, erase
from yizhan.reports.models import Report
from yizhan.rewards.models import Redemption
from yizhan.wishes.models import Wish

DELETE = "/api/v1/privacy/me/delete"


def _state(user) -> tuple:
    user = User.objects.get(pk=user.pk)
    profile = RiderProfile.objects.get(user=user)
    return (
        user.username, user.name, user.phone_index, user.password, user.is_active,
        profile.work_address, profile.work_lat,
        PostClaim.objects.filter(rider=profile).values_list("status", flat=True).first(),
        Notification.objects.filter(recipient=user).count(),
        AuditEntry.objects.filter(action="account.deleted").count(),
    )  # fmt: skip


def test_deletion_removes_the_identity_and_keeps_the_records(world, rich):
    user = world.rider.user
    phone, name, user_id, profile_id = user.phone, user.name, user.pk, world.rider.pk
    token, raw = token_issue(user=user, name="我的手机")
    other_session = client_for(user)
    entries_before = Entry.objects.filter(account__owner=user).count()
    reports_before = set(Report.objects.filter(reporter=user).values_list("pk", flat=True))
    assert Consent.objects.filter(user=user, withdrawn_at__isnull=True).exists()

    response = call(client_for(user), "POST", DELETE, {"password": PASSWORD, "confirm": True})

    assert response.status_code == 200, response.content
    assert response.json() == {"deleted": True, "already": False}
    gone = User.objects.get(pk=user_id)
    assert gone.username.startswith("deleted-") and gone.name == ""
    assert (gone.phone_encrypted, gone.phone_index, gone.phone_masked) == ("", None, "")
    assert not gone.has_usable_password() and not gone.is_active
    profile = RiderProfile.objects.get(pk=profile_id)
    assert profile.work_address == "" and profile.rejection_reason == ""
    assert profile.community_id == world.community_a1.pk  # kept for the statistics
    # Open business closed as the rider would; the inbox, teams, tokens and consents go.
    assert set(PostClaim.objects.filter(rider=profile).values_list("status", flat=True)) == {
        "withdrawn"
    }
    assert not Redemption.objects.filter(user=gone, status="held").exists()
    assert not Signup.objects.filter(user=gone).exclude(status="cancelled").exists()
    assert Wish.objects.get(pk=rich["wish"].pk).status == "withdrawn"
    assert not TeamMembership.objects.filter(rider=profile).exists()
    assert not Notification.objects.filter(recipient=gone).exists()
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert not Consent.objects.filter(user=gone, withdrawn_at__isnull=True).exists()
    # The records stay: reports, ledger (more entries now: the reservation's points returned).
    assert set(Report.objects.filter(reporter=gone).values_list("pk", flat=True)) == (
        reports_before
    )
    assert Entry.objects.filter(account__owner=gone).count() > entries_before
    assert PointsAccount.objects.filter(owner=gone).exists()
    assert points_reconcile().ok
    # Audited, with nothing personal in the entry.
    entry = AuditEntry.objects.get(action="account.deleted", target_id=str(user_id))
    assert entry.actor_id == user_id and entry.data["reason"] == "self"
    dumped = json.dumps(entry.data, ensure_ascii=False)
    assert phone not in dumped and name not in dumped
    # Nothing about the person left on the account rows.
    row = json.dumps(list(User.objects.filter(pk=user_id).values()), default=str)
    assert phone not in row and name not in row
    # Every session and token stops working; the account cannot log in again.
    assert other_session.get("/api/v1/me").status_code == 401
    bearer = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert bearer.status_code == 401
    assert authenticate(username=phone, password=PASSWORD) is None
    with pytest.raises(Unauthenticated):
        login_authenticate(request=None, username=phone, password=PASSWORD)
    assert not Client().login(username=phone, password=PASSWORD)
    # The old phone registers afresh, as a new rider.
    again = make_rider(world.community_a1, phone, name, lat=40.095, lng=113.305)
    assert again.user_id != user_id and again.user.phone == phone
    assert authenticate(username=phone, password=PASSWORD) == again.user


def test_deleting_twice_changes_nothing(world):
    user = world.rider.user
    assert account_delete(user=user, actor=user, password=PASSWORD, confirm=True).already is False
    before = _state(user)
    assert erase(user=user, actor=user, reason="self").already is True
    assert _state(user) == before


@pytest.mark.parametrize(
    "body, code",
    [
        ({"password": "wrong-password", "confirm": True}, "wrong_password"),
        ({"password": PASSWORD, "confirm": False}, "confirm_required"),
        ({"password": "", "confirm": True}, "wrong_password"),
    ],
)
def test_a_refused_deletion_changes_nothing(world, body, code):
    user = world.rider.user
    before = _state(user)
    response = call(client_for(user), "POST", DELETE, body)
    assert response.status_code == 400 and response.json()["code"] == code
    assert _state(user) == before


def test_wrong_passwords_are_limited(world):
    user = world.rider.user
    client = client_for(user)
    statuses = [
        call(client, "POST", DELETE, {"password": "nope-nope", "confirm": True}).status_code
        for _i in range(services.DELETE_ATTEMPTS.count + 1)
    ]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {400}


def test_staff_and_other_riders_cannot_delete_someone_else(world):
    rider = world.rider.user
    before = _state(rider)
    for actor in (world.community_staff, world.street_admin, world.other_rider.user):
        with pytest.raises(Forbidden):
            account_delete(user=rider, actor=actor, password=PASSWORD, confirm=True)
    with pytest.raises(Unauthenticated):
        account_delete(user=rider, actor=None, password=PASSWORD, confirm=True)
    # Staff have no delete of their own here either (it is for riders' accounts).
    staff = world.community_staff
    response = call(client_for(staff), "POST", DELETE, {"password": PASSWORD, "confirm": True})
    assert response.status_code == 403
    assert User.objects.get(pk=staff.pk).is_active
    assert _state(rider) == before


def test_the_delete_page_asks_for_the_password_and_a_confirmation(world):
    user = world.rider.user
    client = client_for(user)
    assert client.get("/rider/my-data/delete/").status_code == 200
    refused = client.post("/rider/my-data/delete/", {"password": PASSWORD})
    assert refused.status_code == 400
    wrong = client.post("/rider/my-data/delete/", {"password": "nope-nope", "confirm": "on"})
    assert wrong.status_code == 400 and User.objects.get(pk=user.pk).is_active
    done = client.post("/rider/my-data/delete/", {"password": PASSWORD, "confirm": "on"})
    assert done.status_code == 302 and done["Location"] == "/"
    assert not User.objects.get(pk=user.pk).is_active
    assert client.get("/rider/my-data/").status_code == 302  # logged out


def test_a_rider_registered_without_a_password_cannot_be_deleted_by_anyone(world):
    from yizhan.people.services import rider_register

    paper = rider_register(
        name="纸质登记", phone="13700000011", password=None, community=world.community_a1,
        platform="meituan", occupation="food_delivery", vehicle="e_bike", work_lat=40.095,
        work_lng=113.305, consent=True,
    )  # fmt: skip
    with pytest.raises(ApplicationError):
        account_delete(user=paper.user, actor=paper.user, password="", confirm=True)
    assert User.objects.get(pk=paper.user_id).is_active
