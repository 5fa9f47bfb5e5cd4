"""Duties: logging, verifying, rejecting, gift codes and the household's confirmation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.duties.builders import aid_post, code_for, gift, hold, key, patrol, rules
from tests.world import report_jpeg
from yizhan.core.errors import ApplicationError, Conflict, Forbidden
from yizhan.core.models import AuditEntry
from yizhan.duties import services
from yizhan.duties.models import Duty, GiftCode
from yizhan.notifications.models import Notification
from yizhan.points.models import EarningRecord, Posting
from yizhan.points.selectors import balance_of

pytestmark = pytest.mark.django_db


def _log(world, **kw):
    now = timezone.now()
    args = {
        "actor": world.rider.user,
        "post": world.post,
        "kind": "patrol",
        "started_at": now - timedelta(hours=3),
        "ended_at": now - timedelta(hours=1),
        "place": "东门",
        "idempotency_key": key(),
    }
    args.update(kw)
    return services.duty_log(**args)


def _refused(world, exc_type, code, **kw):
    before = (Duty.objects.count(), AuditEntry.objects.count())
    with pytest.raises(exc_type) as info:
        _log(world, **kw)
    assert info.value.code == code
    assert (Duty.objects.count(), AuditEntry.objects.count()) == before
    return info.value


# --- logging -----------------------------------------------------------------------------------


def test_log_a_patrol(world, settings, tmp_path):
    from yizhan.people.services import consent_give

    settings.MEDIA_ROOT = str(tmp_path)
    hold(world, world.post)
    consent_give(user=world.rider.user, actor=world.rider.user, kind="location")
    duty = _log(world, lat=40.095, lng=113.315, crs="gcj02", note="巡查", photo=report_jpeg(1))
    assert duty.status == "pending"
    assert duty.minutes == 120
    world.rider.refresh_from_db()
    assert duty.area_code == world.rider.area_code
    assert duty.crs == "gcj02" and duty.lat != 40.095  # stored in WGS-84
    assert duty.photo and duty.thumbnail and duty.photo_width == 96
    assert AuditEntry.objects.filter(action="duty.logged", target_id=str(duty.pk)).exists()


def test_without_location_consent_the_point_is_not_kept(world):
    """A duty's point is where the rider was: kept only with their location consent."""
    hold(world, world.post)
    duty = _log(world, lat=40.095, lng=113.315, crs="gcj02", note="巡查")
    assert (duty.lat, duty.lng, duty.crs) == (None, None, "")
    assert duty.place  # the place in words stays


def test_log_repeat_with_same_key_gives_the_same_duty(world):
    hold(world, world.post)
    now = timezone.now()
    args = dict(
        started_at=now - timedelta(hours=3),
        ended_at=now - timedelta(hours=1),
        idempotency_key="same-key-123",
    )
    first = _log(world, **args)
    again = _log(world, **args)
    assert first.pk == again.pk and Duty.objects.count() == 1


def test_log_needs_the_post(world):
    exc = _refused(world, Forbidden, "not_post_holder")  # the claim is not approved yet
    assert exc.field == "post"


def test_log_kind_must_fit_the_post(world):
    hold(world, world.post)
    _refused(world, ApplicationError, "kind_not_for_post", kind="mediation")


def test_log_other_rider_cannot_use_my_post(world):
    hold(world, world.post)
    _refused(world, Forbidden, "not_post_holder", actor=world.other_rider.user)


def test_log_staff_and_pending_riders_refused(world):
    hold(world, world.post)
    _refused(world, Forbidden, "not_a_rider", actor=world.community_staff)
    _refused(world, Forbidden, "not_verified", actor=world.pending_rider.user)


def test_end_before_start(world):
    hold(world, world.post)
    now = timezone.now()
    _refused(
        world,
        ApplicationError,
        "end_before_start",
        started_at=now - timedelta(hours=1),
        ended_at=now - timedelta(hours=2),
    )


def test_longer_than_12_hours(world):
    hold(world, world.post)
    now = timezone.now()
    _refused(
        world,
        ApplicationError,
        "too_long_duty",
        started_at=now - timedelta(hours=13, minutes=1),
        ended_at=now - timedelta(minutes=1),
    )


def test_in_the_future(world):
    hold(world, world.post)
    now = timezone.now()
    _refused(
        world, ApplicationError, "in_future", started_at=now, ended_at=now + timedelta(hours=1)
    )


def test_too_old_and_missing_fields(world):
    hold(world, world.post)
    now = timezone.now()
    _refused(
        world,
        ApplicationError,
        "too_old",
        started_at=now - timedelta(days=40),
        ended_at=now - timedelta(days=40) + timedelta(hours=1),
    )
    _refused(world, ApplicationError, "required", place="  ")
    _refused(world, ApplicationError, "end_required", ended_at=None)
    _refused(world, ApplicationError, "invalid", kind="dance")
    _refused(world, ApplicationError, "invalid_time", started_at="yesterday")


def test_bad_photo_and_bad_point(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    hold(world, world.post)
    with pytest.raises(ApplicationError):
        _log(world, photo=SimpleUploadedFile("x.jpg", b"not an image"))
    with pytest.raises(ApplicationError):
        _log(world, lat=200, lng=113.3)
    assert Duty.objects.count() == 0


def test_act_has_a_single_time(world):
    post = hold(world, aid_post(world))
    now = timezone.now()
    with pytest.raises(ApplicationError) as info:
        _log(
            world,
            post=post,
            kind="help",
            started_at=now - timedelta(hours=2),
            ended_at=now - timedelta(hours=1),
        )
    assert info.value.code == "single_time"
    duty = _log(world, post=post, kind="help", started_at=now - timedelta(hours=2), ended_at=None)
    assert duty.started_at == duty.ended_at and duty.minutes == 0


def test_duplicate_overlapping_log_is_409(world):
    first = patrol(world, hours_ago=3, minutes=120)
    with pytest.raises(Conflict) as info:
        _log(
            world,
            started_at=first.started_at + timedelta(minutes=30),
            ended_at=first.ended_at + timedelta(minutes=30),
        )
    assert info.value.code == "duplicate_duty" and info.value.status == 409
    assert Duty.objects.count() == 1


def test_rejected_duty_does_not_block_a_new_log(world):
    first = patrol(world)
    services.duty_reject(duty=first, actor=world.community_staff, reason="没有照片")
    again = _log(world, started_at=first.started_at, ended_at=first.ended_at)
    assert again.pk != first.pk


# --- verifying ---------------------------------------------------------------------------------


def test_verify_pays_per_hour_once(world):
    rules(world, hour=5)
    duty = patrol(world, minutes=150)  # 2.5 hours: 2 whole hours
    services.duty_verify(duty=duty, actor=world.community_staff)
    duty.refresh_from_db()
    assert duty.status == "verified" and duty.verified_by == "staff"
    assert duty.points == 10 and duty.points_status == "paid"
    assert balance_of(world.rider.user) == 10
    assert Notification.objects.filter(recipient=world.rider.user, kind="duty_decided").exists()
    with pytest.raises(Conflict):
        services.duty_verify(duty=duty, actor=world.street_admin)
    assert balance_of(world.rider.user) == 10
    assert EarningRecord.objects.count() == 1 and Posting.objects.count() == 1


@pytest.mark.parametrize(("minutes", "units"), [(20, 0), (30, 1), (59, 1), (60, 1), (119, 1)])
def test_hour_rule(world, minutes, units):
    rules(world, hour=5)
    duty = patrol(world, minutes=minutes)
    assert services.units_for(duty) == units
    services.duty_verify(duty=duty, actor=world.community_staff)
    duty.refresh_from_db()
    assert duty.points == 5 * units
    assert duty.points_status == ("paid" if units else "too_short")


def test_help_pays_per_act(world):
    rules(world, help_=8)
    post = hold(world, aid_post(world))
    duty = _log(
        world,
        post=post,
        kind="help",
        started_at=timezone.now() - timedelta(hours=1),
        ended_at=None,
    )
    services.duty_verify(duty=duty, actor=world.street_admin)
    assert balance_of(world.rider.user) == 8


def test_no_rule_still_verifies(world):
    duty = patrol(world)
    services.duty_verify(duty=duty, actor=world.community_staff)
    duty.refresh_from_db()
    assert duty.status == "verified" and duty.points_status == "no_rule" and duty.points == 0


def test_capped_payment(world):
    rules(world, hour=5, daily_cap=5)
    first = patrol(world, hours_ago=6, minutes=60)
    second = patrol(world, hours_ago=2, minutes=60)
    services.duty_verify(duty=first, actor=world.community_staff)
    services.duty_verify(duty=second, actor=world.community_staff)
    second.refresh_from_db()
    assert second.points == 0 and second.points_status == "capped"
    assert balance_of(world.rider.user) == 5


def test_other_community_staff_cannot_verify(world):
    rules(world)
    duty = patrol(world)
    before = AuditEntry.objects.count()
    with pytest.raises(Forbidden):
        services.duty_verify(duty=duty, actor=world.other_community_staff)
    with pytest.raises(Forbidden):
        services.duty_verify(duty=duty, actor=world.rider.user)
    with pytest.raises(Forbidden):
        services.duty_reject(duty=duty, actor=world.other_community_staff, reason="x")
    duty.refresh_from_db()
    assert duty.status == "pending" and AuditEntry.objects.count() == before
    assert balance_of(world.rider.user) == 0


def test_reject_needs_a_reason_and_happens_once(world):
    duty = patrol(world)
    with pytest.raises(ApplicationError) as info:
        services.duty_reject(duty=duty, actor=world.community_staff, reason=" ")
    assert info.value.field == "reason"
    services.duty_reject(duty=duty, actor=world.community_staff, reason="时间不对")
    duty.refresh_from_db()
    assert duty.status == "rejected" and duty.reason == "时间不对"
    with pytest.raises(Conflict):
        services.duty_verify(duty=duty, actor=world.community_staff)
    with pytest.raises(Conflict):
        services.duty_reject(duty=duty, actor=world.community_staff, reason="again")


# --- gift codes --------------------------------------------------------------------------------


def test_gift_code_issue(world):
    code, digits = code_for(world)
    assert len(digits) == 6 and digits.isdigit()
    assert code.code_hash != digits and digits not in code.code_hash
    assert code.expires_at - code.created_at >= timedelta(days=6, hours=23)


def test_gift_code_only_staff_of_the_community(world):
    for actor in (world.rider.user, world.other_community_staff, world.merchant):
        with pytest.raises(Forbidden):
            code_for(world, actor=actor)
    with pytest.raises(ApplicationError):
        services.gift_code_issue(community=world.street_a, household="x", actor=world.street_admin)
    with pytest.raises(ApplicationError):
        code_for(world, household="")
    assert GiftCode.objects.count() == 0
    code_for(world, actor=world.street_admin)


def test_household_confirms_a_gift(world):
    rules(world, gift=6)
    duty = gift(world)
    code, digits = code_for(world)
    services.duty_confirm(duty_id=duty.pk, code=digits)
    duty.refresh_from_db()
    code.refresh_from_db()
    assert duty.status == "verified" and duty.verified_by == "household"
    assert duty.decided_by == world.community_staff and duty.points == 6
    assert code.used_at is not None and code.duty_id == duty.pk
    assert balance_of(world.rider.user) == 6
    # used: the same code again, on another delivery, is refused; nothing more is paid
    other = gift(world, hours_ago=3)
    with pytest.raises(ApplicationError) as info:
        services.duty_confirm(duty_id=other.pk, code=digits)
    assert info.value.code == "invalid_code"
    # and the verified duty cannot be verified again (points once)
    with pytest.raises(Conflict):
        services.duty_verify(duty=duty, actor=world.community_staff)
    assert balance_of(world.rider.user) == 6


def test_wrong_and_expired_codes(world):
    duty = gift(world)
    code, digits = code_for(world)
    wrong = f"{(int(digits) + 1) % 1_000_000:06d}"
    for duty_id, value in ((duty.pk, wrong), (duty.pk, "12"), (duty.pk, "abcdef"), ("x", digits)):
        with pytest.raises(ApplicationError) as info:
            services.duty_confirm(duty_id=duty_id, code=value)
        assert info.value.code == "invalid_code" and info.value.status == 400
    GiftCode.objects.filter(pk=code.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ApplicationError):
        services.duty_confirm(duty_id=duty.pk, code=digits)
    duty.refresh_from_db()
    assert duty.status == "pending"
    assert GiftCode.objects.get(pk=code.pk).used_at is None


def test_code_of_another_community_does_not_fit(world):
    duty = gift(world)
    from yizhan.duties.services import gift_code_issue

    _code, digits = gift_code_issue(
        community=world.community_a2, household="别处", actor=world.other_community_staff
    )
    with pytest.raises(ApplicationError):
        services.duty_confirm(duty_id=duty.pk, code=digits)


def test_code_only_for_gift_deliveries_and_not_by_the_rider(world):
    patrol_duty = patrol(world)
    _code, digits = code_for(world)
    with pytest.raises(ApplicationError):
        services.duty_confirm(duty_id=patrol_duty.pk, code=digits)
    duty = gift(world)
    with pytest.raises(Forbidden):
        services.duty_confirm(duty_id=duty.pk, code=digits, actor=world.rider.user)
    duty.refresh_from_db()
    assert duty.status == "pending"
