"""The wish workflow through its services: happy paths, every refusal, points exactly once."""

from datetime import timedelta

import pytest
from django.db.models import Sum

from tests.wishes import builders as b
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, NotFound, Unauthenticated
from yizhan.core.models import AuditEntry
from yizhan.notifications.models import Notification
from yizhan.points.models import EarningRecord, Posting
from yizhan.wishes import services
from yizhan.wishes.choices import ClaimStatus, PointsStatus, WishStatus
from yizhan.wishes.models import Wish, WishClaim, WishEvent

pytestmark = pytest.mark.django_db


def _state():
    return (
        sorted(Wish.objects.values_list("pk", "status", "current_claim_id", "points_status")),
        sorted(WishClaim.objects.values_list("pk", "status")),
        WishEvent.objects.count(),
        AuditEntry.objects.count(),
        Notification.objects.count(),
        Posting.objects.count(),
    )


def _titles(user):
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


# --- posting ---------------------------------------------------------------------------------


def test_post_waits_for_approval_and_tells_staff(world):
    wish = b.post(world, text="  孩子需要一套字典  ", category="school_supplies")
    assert wish.status == WishStatus.PENDING
    assert wish.text == "孩子需要一套字典"
    assert wish.community == world.community_a1
    assert wish.area_code.startswith(world.community_a1.code)
    assert "wish_pending" in _titles(world.community_staff)
    assert "wish_pending" not in _titles(world.other_community_staff)
    assert list(WishEvent.objects.filter(wish=wish).values_list("action", flat=True)) == ["posted"]


def test_post_with_photo_strips_and_stores_it(world):
    wish = b.post(world, photo=b.jpeg())
    assert wish.photo.name.startswith("wishes/")
    assert wish.photo.storage.exists(wish.photo.name)


def test_post_repeat_with_same_key_gives_the_first_wish(world):
    first = services.wish_post(
        rider=world.rider.user, category="health", text="血压计", idempotency_key="same-key-01"
    )
    again = services.wish_post(
        rider=world.rider.user, category="health", text="血压计", idempotency_key="same-key-01"
    )
    assert again.pk == first.pk and Wish.objects.count() == 1


@pytest.mark.parametrize(
    "text, field",
    [("", "text"), ("   ", "text"), ("长" * 301, "text"), (None, "text"), (5, "text")],
)
def test_post_refuses_empty_or_too_long_text(world, text, field):
    before = _state()
    with pytest.raises(ApplicationError) as exc:
        services.wish_post(
            rider=world.rider.user, category="other", text=text, idempotency_key=b.key()
        )
    assert exc.value.status == 400 and exc.value.field == field
    assert _state() == before


def test_post_accepts_exactly_300_characters(world):
    assert len(b.post(world, text="好" * 300).text) == 300


def test_post_refuses_unknown_category(world):
    before = _state()
    with pytest.raises(ApplicationError) as exc:
        services.wish_post(
            rider=world.rider.user, category="cars", text="车", idempotency_key=b.key()
        )
    assert exc.value.field == "category" and _state() == before


def test_post_refuses_a_non_image(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = _state()
    with pytest.raises(ApplicationError) as exc:
        b.post(world, photo=SimpleUploadedFile("x.jpg", b"not an image"))
    assert exc.value.status == 400 and exc.value.field == "photo"
    assert _state() == before


def test_post_refuses_more_than_the_open_limit(world):
    for n in range(3):
        b.post(world, text=f"心愿{n}")
    before = _state()
    with pytest.raises(Conflict) as exc:
        b.post(world, text="第四个")
    assert exc.value.code == "too_many_open_wishes" and _state() == before


def test_closed_wishes_do_not_count_towards_the_limit(world, settings):
    settings.WISH_MAX_OPEN = 1
    wish = b.post(world)
    services.wish_withdraw(wish=wish, actor=world.rider.user)
    assert b.post(world, text="再来一个").status == WishStatus.PENDING


def test_only_verified_riders_post(world):
    with pytest.raises(Forbidden):
        b.post(world, rider=world.pending_rider.user)
    with pytest.raises(Forbidden):
        b.post(world, rider=world.merchant)
    with pytest.raises(Unauthenticated):
        services.wish_post(rider=None, category="other", text="x", idempotency_key=b.key())
    assert Wish.objects.count() == 0


# --- approval --------------------------------------------------------------------------------


def test_approve_publishes_and_tells_the_rider(world):
    wish = b.post(world)
    services.wish_approve(wish=wish, actor=world.community_staff)
    wish.refresh_from_db()
    assert wish.status == WishStatus.PUBLISHED and wish.decided_by == world.community_staff
    assert "wish_status" in _titles(world.rider.user)


def test_reject_needs_a_reason_and_tells_the_rider(world):
    wish = b.post(world)
    with pytest.raises(ApplicationError) as exc:
        services.wish_reject(wish=wish, actor=world.community_staff, reason=" ")
    assert exc.value.field == "reason"
    services.wish_reject(wish=wish, actor=world.community_staff, reason="不属于微心愿")
    wish.refresh_from_db()
    assert wish.status == WishStatus.REJECTED and wish.rejection_reason == "不属于微心愿"


def test_approving_outside_your_area_is_refused(world):
    wish = b.post(world)
    before = _state()
    with pytest.raises(Forbidden):
        services.wish_approve(wish=wish, actor=world.other_community_staff)
    with pytest.raises(Forbidden):
        services.wish_approve(wish=wish, actor=world.rider.user)
    assert _state() == before


def test_approve_twice_is_a_conflict(world):
    wish = b.published(world)
    with pytest.raises(Conflict):
        services.wish_approve(wish=wish, actor=world.street_admin)


def test_withdraw_by_the_rider_only(world):
    wish = b.published(world)
    with pytest.raises(Forbidden):
        services.wish_withdraw(wish=wish, actor=world.other_rider.user)
    services.wish_withdraw(wish=wish, actor=world.rider.user)
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.WITHDRAWN


def test_a_claimed_wish_cannot_be_withdrawn(world, volunteer):
    wish = b.claimed(world, volunteer)
    with pytest.raises(Conflict):
        services.wish_withdraw(wish=wish, actor=world.rider.user)


# --- claiming --------------------------------------------------------------------------------


def test_claim_tells_the_rider(world, volunteer):
    wish = b.published(world)
    claim = services.wish_claim(wish=wish, actor=volunteer)
    wish.refresh_from_db()
    assert wish.status == WishStatus.CLAIMED and wish.current_claim == claim
    assert claim.status == ClaimStatus.ACTIVE
    assert _titles(world.rider.user).count("wish_status") == 2  # published, claimed


def test_merchant_and_staff_claim_too(world):
    services.wish_claim(wish=b.published(world), actor=world.merchant)
    services.wish_claim(wish=b.published(world, text="二"), actor=world.community_staff)
    assert WishClaim.objects.count() == 2


def test_a_rider_cannot_claim(world):
    wish = b.published(world)
    before = _state()
    with pytest.raises(Forbidden) as exc:
        services.wish_claim(wish=wish, actor=world.other_rider.user)
    assert exc.value.code == "claimers_only" and _state() == before


def test_claiming_a_claimed_wish_is_a_conflict(world, volunteer):
    wish = b.claimed(world, volunteer)
    before = _state()
    with pytest.raises(Conflict) as exc:
        services.wish_claim(wish=wish, actor=world.merchant)
    assert exc.value.code == "already_claimed" and _state() == before


def test_claiming_twice_by_the_same_claimer_returns_the_claim(world, volunteer):
    wish = b.published(world)
    first = services.wish_claim(wish=wish, actor=volunteer)
    assert services.wish_claim(wish=wish, actor=volunteer).pk == first.pk
    assert WishClaim.objects.count() == 1


def test_claiming_a_wish_not_published_is_refused(world, volunteer):
    wish = b.post(world)
    before = _state()
    with pytest.raises(Conflict):
        services.wish_claim(wish=wish, actor=volunteer)
    assert _state() == before


def test_claim_outside_reach_is_not_found(world):
    far = b.volunteer(world, "volunteer_b1", area=world.community_b1)
    wish = b.published(world)
    with pytest.raises(NotFound):
        services.wish_claim(wish=wish, actor=far)
    with pytest.raises(NotFound):
        services.wish_claim(wish=wish, actor=world.other_community_staff)


def test_release_goes_back_to_published(world, volunteer):
    wish = b.claimed(world, volunteer)
    with pytest.raises(Forbidden):
        services.wish_release(wish=wish, actor=world.merchant)
    services.wish_release(wish=wish, actor=volunteer)
    wish.refresh_from_db()
    assert wish.status == WishStatus.PUBLISHED and wish.current_claim is None
    assert WishClaim.objects.get().status == ClaimStatus.RELEASED
    services.wish_claim(wish=wish, actor=world.merchant)  # free for someone else


# --- fulfilment ------------------------------------------------------------------------------


def test_fulfil_sets_the_confirmation_deadline(world, volunteer, settings):
    settings.WISH_CONFIRM_DAYS = 3
    wish = b.claimed(world, volunteer)
    services.wish_fulfil(wish=wish, actor=volunteer, note="已送达", photo=b.jpeg())
    wish.refresh_from_db()
    assert wish.status == WishStatus.FULFILLED
    assert wish.confirm_due_at - wish.fulfilled_at == timedelta(days=3)
    claim = wish.current_claim
    assert claim.note == "已送达" and claim.photo.name
    assert _titles(world.rider.user).count("wish_status") == 3


def test_fulfilling_a_wish_you_did_not_claim_is_refused(world, volunteer):
    wish = b.claimed(world, volunteer)
    before = _state()
    for someone in (world.merchant, world.community_staff):
        with pytest.raises(Forbidden) as exc:
            services.wish_fulfil(wish=wish, actor=someone)
        assert exc.value.code == "not_your_claim"
    assert _state() == before


def test_fulfil_note_too_long(world, volunteer):
    wish = b.claimed(world, volunteer)
    with pytest.raises(ApplicationError) as exc:
        services.wish_fulfil(wish=wish, actor=volunteer, note="长" * 301)
    assert exc.value.field == "note"
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.CLAIMED


# --- confirmation and points -----------------------------------------------------------------


def test_rider_confirms_and_the_volunteer_is_paid_once(world, volunteer):
    b.pay_rule(world, points=8)
    wish = b.fulfilled(world, volunteer)
    services.wish_confirm(wish=wish, actor=world.rider.user)
    wish.refresh_from_db()
    assert wish.status == WishStatus.CONFIRMED and wish.confirmed_by == world.rider.user
    assert wish.points_status == PointsStatus.PAID and wish.points_paid == 8
    assert wish.current_claim.status == ClaimStatus.CONFIRMED
    assert "wish_confirmed" in _titles(volunteer)
    with pytest.raises(Conflict):
        services.wish_confirm(wish=wish, actor=world.rider.user)
    # The payment again under its key pays nothing more.
    services._pay(wish, volunteer, world.community_staff)
    paid = EarningRecord.objects.filter(member__owner=volunteer).aggregate(s=Sum("paid"))["s"]
    assert paid == 8 and EarningRecord.objects.count() == 1


def test_confirming_someone_elses_wish_is_refused(world, volunteer):
    wish = b.fulfilled(world, volunteer)
    before = _state()
    with pytest.raises(Forbidden):
        services.wish_confirm(wish=wish, actor=world.other_rider.user)
    with pytest.raises(Forbidden):
        services.wish_confirm(wish=wish, actor=volunteer)
    assert _state() == before


def test_staff_confirm_only_after_the_time_out(world, volunteer):
    b.pay_rule(world)
    wish = b.fulfilled(world, volunteer)
    with pytest.raises(Conflict) as exc:
        services.wish_confirm(wish=wish, actor=world.community_staff)
    assert exc.value.code == "rider_confirms_first"
    assert services.wishes_time_out(now=b.later(6)) == 0
    assert services.wishes_time_out(now=b.later(8)) == 1
    assert services.wishes_time_out(now=b.later(8)) == 0  # twice is harmless
    wish.refresh_from_db()
    assert wish.status == WishStatus.TIMED_OUT
    assert "wish_timed_out" in _titles(world.community_staff)
    with pytest.raises(Forbidden):
        services.wish_confirm(wish=wish, actor=world.other_community_staff)
    services.wish_confirm(wish=wish, actor=world.community_staff)
    wish.refresh_from_db()
    assert wish.status == WishStatus.CONFIRMED and wish.points_status == PointsStatus.PAID


def test_the_rider_may_still_confirm_after_the_time_out(world, volunteer):
    wish = b.timed_out(world, volunteer)
    services.wish_confirm(wish=wish, actor=world.rider.user)
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.CONFIRMED


def test_staff_reopen_a_timed_out_wish(world, volunteer):
    wish = b.timed_out(world, volunteer)
    with pytest.raises(ApplicationError) as exc:
        services.wish_reopen(wish=wish, actor=world.community_staff, note="")
    assert exc.value.field == "note"
    services.wish_reopen(wish=wish, actor=world.community_staff, note="骑手说没收到")
    wish.refresh_from_db()
    assert wish.status == WishStatus.PUBLISHED and wish.current_claim is None
    assert WishClaim.objects.get().status == ClaimStatus.REOPENED
    services.wish_claim(wish=wish, actor=world.merchant)


def test_reopen_only_when_timed_out(world, volunteer):
    wish = b.fulfilled(world, volunteer)
    with pytest.raises(Conflict):
        services.wish_reopen(wish=wish, actor=world.community_staff, note="没收到")


def test_merchants_and_staff_are_not_paid(world):
    b.pay_rule(world)
    wish = b.fulfilled(world, world.merchant)
    services.wish_confirm(wish=wish, actor=world.rider.user)
    wish.refresh_from_db()
    assert wish.points_status == PointsStatus.NOT_MEMBER and Posting.objects.count() == 0


def test_no_rule_pays_nothing(world, volunteer):
    wish = b.fulfilled(world, volunteer)
    services.wish_confirm(wish=wish, actor=world.rider.user)
    assert Wish.objects.get(pk=wish.pk).points_status == PointsStatus.NO_RULE


def test_a_capped_payment_is_recorded_as_capped(world):
    b.pay_rule(world, points=8, daily_cap=8)
    helper = b.volunteer(world)
    first = b.fulfilled(world, helper)
    services.wish_confirm(wish=first, actor=world.rider.user)
    second = b.fulfilled(world, helper, text="第二个")
    services.wish_confirm(wish=second, actor=world.rider.user)
    second.refresh_from_db()
    assert second.points_status == PointsStatus.CAPPED and second.points_paid == 0
    assert EarningRecord.objects.filter(capped__gt=0).count() == 1


def test_points_wait_when_the_approver_may_not_pay_the_claimer(world):
    b.pay_rule(world)
    elsewhere = b.volunteer(world, "volunteer_a2", area=world.community_a2)
    wish = b.fulfilled(world, elsewhere)
    services.wish_confirm(wish=wish, actor=world.rider.user)
    wish.refresh_from_db()
    assert wish.points_status == PointsStatus.HELD and Posting.objects.count() == 0
    with pytest.raises(Forbidden) as exc:
        services.wish_points_pay(wish=wish, actor=world.community_staff)
    assert exc.value.code == "points_out_of_scope"
    services.wish_points_pay(wish=wish, actor=world.street_admin)
    wish.refresh_from_db()
    assert wish.points_status == PointsStatus.PAID and Posting.objects.count() == 1
    with pytest.raises(Conflict):
        services.wish_points_pay(wish=wish, actor=world.street_admin)


def test_the_time_out_job_is_registered_and_runs(world, volunteer, settings):
    from yizhan.core import jobs

    job = {j.name: j for j in jobs.jobs()}["wishes.time_out"]
    settings.WISH_CONFIRM_DAYS = 0
    wish = b.fulfilled(world, volunteer)
    assert job.run() == 1
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.TIMED_OUT
