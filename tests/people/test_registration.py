"""社区报到: register → verify / reject → resubmit; bad input never half-writes."""

import pytest
from django.contrib.auth import authenticate

from tests.world import PASSWORD, make_rider
from yizhan.core.errors import ApplicationError
from yizhan.core.models import AuditEntry
from yizhan.people.choices import RegistrationStatus
from yizhan.people.models import RiderProfile, User
from yizhan.people.services import rider_register, rider_reject, rider_resubmit, rider_verify

GOOD = dict(
    name="张三",
    password=PASSWORD,
    platform="eleme",
    occupation="courier",
    vehicle="e_bike",
    work_lat=40.095,
    work_lng=113.305,
    consent=True,
)


def test_register_stores_the_phone_encrypted_and_masked(world):
    rider = rider_register(phone="+86 139-1234-5678", community=world.community_a1, **GOOD)
    user = User.objects.get(pk=rider.user_id)
    assert user.phone == "13912345678"
    assert user.phone_masked == "139****5678"
    assert "13912345678" not in user.phone_encrypted
    assert rider.status == RegistrationStatus.PENDING
    assert rider.area_code == world.community_a1.code
    assert AuditEntry.objects.filter(action="rider.registered", target_id=str(rider.pk)).exists()


@pytest.mark.parametrize(
    "change, code",
    [
        ({"phone": "12345"}, "invalid_phone"),
        ({"phone": "23812341234"}, "invalid_phone"),
        ({"phone": "13812341234"}, "phone_taken"),  # the world's rider has it
        ({"name": "  "}, "required"),
        ({"platform": "uber"}, "invalid_choice"),
        ({"consent": False}, "consent_required"),
        ({"password": "123"}, "weak_password"),
        ({"work_lat": "north"}, "invalid_location"),
        ({"work_lat": 91}, "invalid_location"),
    ],
)
def test_bad_registrations_are_refused_and_write_nothing(world, change, code):
    users, riders = User.objects.count(), RiderProfile.objects.count()
    data = {**GOOD, "phone": "13912345678", "community": world.community_a1, **change}
    with pytest.raises(ApplicationError) as exc:
        rider_register(**data)
    assert exc.value.code == code
    assert 400 <= exc.value.status < 500
    assert (User.objects.count(), RiderProfile.objects.count()) == (users, riders)


@pytest.mark.parametrize("where", ["street_a", "grid_a1_west", None])
def test_registering_with_something_not_a_community_is_refused(world, where):
    community = getattr(world, where) if where else "440000001001"
    with pytest.raises(ApplicationError) as exc:
        rider_register(phone="13912345678", community=community, **GOOD)
    assert exc.value.code == "not_a_community"
    assert not User.objects.filter(phone_masked="139****5678").exists()


def test_verify_then_verify_again_is_a_conflict(world):
    rider = rider_verify(rider=world.pending_rider, actor=world.community_staff)
    assert rider.status == RegistrationStatus.VERIFIED
    assert rider.decided_by == world.community_staff
    with pytest.raises(ApplicationError) as exc:
        rider_verify(rider=rider, actor=world.community_staff)
    assert exc.value.status == 409


def test_staff_of_another_community_cannot_verify(world):
    with pytest.raises(ApplicationError) as exc:
        rider_verify(rider=world.pending_rider, actor=world.other_community_staff)
    assert exc.value.status == 403
    world.pending_rider.refresh_from_db()
    assert world.pending_rider.status == RegistrationStatus.PENDING


def test_street_and_district_admins_may_verify_beneath_them(world):
    rider_verify(rider=world.pending_rider, actor=world.street_admin)
    other = make_rider(world.community_b1, "13600000001", "钱多多", lat=40.085, lng=113.31)
    rider_verify(rider=other, actor=world.district_admin)
    with pytest.raises(ApplicationError):
        rider_verify(
            rider=make_rider(world.community_b1, "13600000002", "孙悟", lat=40.085, lng=113.31),
            actor=world.street_admin,
        )


def test_a_rider_cannot_verify_themself(world):
    with pytest.raises(ApplicationError) as exc:
        rider_verify(rider=world.pending_rider, actor=world.pending_rider.user)
    assert exc.value.status == 403


def test_reject_needs_a_reason_then_the_rider_can_resubmit(world):
    with pytest.raises(ApplicationError):
        rider_reject(rider=world.pending_rider, actor=world.community_staff, reason=" ")
    rider = rider_reject(rider=world.pending_rider, actor=world.community_staff, reason="信息不全")
    assert (rider.status, rider.rejection_reason) == (RegistrationStatus.REJECTED, "信息不全")
    with pytest.raises(ApplicationError):
        rider_resubmit(rider=rider, actor=world.community_staff)
    rider = rider_resubmit(rider=rider, actor=rider.user, community=world.community_a2)
    assert rider.status == RegistrationStatus.PENDING
    assert rider.area_code == world.community_a2.code
    assert User.objects.get(pk=rider.user_id).area_code == world.community_a2.code
    actions = list(
        AuditEntry.objects.filter(target_id=str(rider.pk), target_type="people.riderprofile")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["rider.registered", "rider.rejected", "rider.resubmitted"]


def test_login_by_phone_or_username(world, client):
    assert client.login(username="138 1234 1234", password=PASSWORD)
    client.logout()
    assert client.login(username="staff_a1", password=PASSWORD)
    assert not client.login(username="13812341234", password="wrong-password")


def test_a_rider_registered_from_a_paper_form_has_no_usable_password(world):
    rider = rider_register(
        phone="13912345678", community=world.community_a1, **{**GOOD, "password": None}
    )
    user = User.objects.get(pk=rider.user_id)
    assert not user.has_usable_password()
    assert rider.status == RegistrationStatus.PENDING
    assert authenticate(username="13912345678", password="") is None
    assert authenticate(username="13912345678", password=PASSWORD) is None


def test_a_given_password_is_still_checked_and_works(world):
    with pytest.raises(ApplicationError) as exc:
        rider_register(
            phone="13912345678", community=world.community_a1, **{**GOOD, "password": ""}
        )
    assert exc.value.code == "weak_password"
    rider_register(phone="13912345678", community=world.community_a1, **GOOD)
    assert authenticate(username="13912345678", password=PASSWORD).name == GOOD["name"]
