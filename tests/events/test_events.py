"""Events: create and edit, sign-up with the waiting list, cancel and promote, the rotating QR
code, check-in by QR and by staff, attendance points once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.events.builders import attendance_rule, make_event, new_rider
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from yizhan.core.models import AuditEntry
from yizhan.events import services
from yizhan.events.models import Event, Signup
from yizhan.notifications.models import Notification
from yizhan.points.models import EarningRecord
from yizhan.points.selectors import balance_of

pytestmark = pytest.mark.django_db


def state():
    return (
        sorted(Event.objects.values_list("pk", "capacity", "title", "starts_at")),
        sorted(Signup.objects.values_list("pk", "status", "checked_in_at", "points_status")),
        EarningRecord.objects.count(),
        AuditEntry.objects.count(),
    )


def refused(exc_type, code=None):
    """Assert the call is refused with ``exc_type`` (and ``code``) and changes nothing."""

    class _Ctx:
        def __enter__(self):
            self.before = state()
            self.raises = pytest.raises(exc_type)
            self.info = self.raises.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.raises.__exit__(*exc)
            if code is not None:
                assert self.info.value.code == code
            assert state() == self.before
            return handled

    return _Ctx()


# --- create and edit ---------------------------------------------------------------------------


def test_staff_create_an_event_of_their_community(world):
    event = make_event(world)
    assert event.area_code == world.community_a1.code
    assert event.created_by == world.community_staff


def test_other_community_staff_may_not_organise_for_a1(world):
    with refused(Forbidden):
        make_event(world, actor=world.other_community_staff)


def test_community_staff_may_not_organise_for_the_street(world):
    with refused(Forbidden):
        make_event(world, organiser=world.street_a)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"title": "  "}, "title"),
        ({"kind": "party"}, "kind"),
        ({"audience": "cats"}, "audience"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"address": ""}, "address"),
        ({"lat": None}, "lat"),
        ({"lat": float("nan")}, "lat"),
    ],
)
def test_bad_event_input_is_refused_with_the_field(world, changes, field):
    with refused(ApplicationError) as info:
        make_event(world, **changes)
    assert info.value.field == field and info.value.status == 400


def test_an_event_must_end_after_it_starts_and_not_be_over(world):
    now = timezone.now()
    base = dict(organiser=world.community_a1, title="x", kind="other", capacity=1,
                actor=world.community_staff, address="a", lat=40.0, lng=113.0)  # fmt: skip
    with refused(ApplicationError):
        services.event_create(
            starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=1), **base
        )
    with refused(ApplicationError):
        services.event_create(
            starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1), **base
        )


def test_capacity_cannot_drop_below_those_signed_up(world):
    event = make_event(world, capacity=3)
    services.signup_create(event=event, user=world.rider.user)
    services.signup_create(event=event, user=world.other_rider.user)
    with refused(Conflict, "capacity_below_signups") as info:
        services.event_update(event=event, actor=world.community_staff, capacity=1)
    assert info.value.field == "capacity"
    services.event_update(event=event, actor=world.community_staff, capacity=2)
    assert Event.objects.get(pk=event.pk).capacity == 2


def test_more_capacity_moves_waiting_riders_up(world):
    event = make_event(world, capacity=1)
    services.signup_create(event=event, user=world.rider.user)
    waiting = services.signup_create(event=event, user=world.other_rider.user)
    assert waiting.status == "waiting"
    services.event_update(event=event, actor=world.community_staff, capacity=2)
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"
    assert Notification.objects.filter(recipient=world.other_rider.user).exists()


# --- sign-up, waiting list, cancel ------------------------------------------------------------


def test_a_full_event_puts_the_rider_on_the_waiting_list(world):
    event = make_event(world, capacity=1)
    first = services.signup_create(event=event, user=world.rider.user)
    second = services.signup_create(event=event, user=world.other_rider.user)
    assert (first.status, second.status) == ("confirmed", "waiting")


def test_signing_up_twice_is_a_409(world):
    event = make_event(world)
    services.signup_create(event=event, user=world.rider.user)
    with refused(Conflict, "already_signed_up"):
        services.signup_create(event=event, user=world.rider.user)


def test_signing_up_for_a_past_or_started_event_is_refused(world):
    event = make_event(world)
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(minutes=1))
    event.refresh_from_db()
    with refused(ApplicationError, "event_started") as info:
        services.signup_create(event=event, user=world.rider.user)
    assert info.value.status == 400


def test_staff_and_residents_events_do_not_take_rider_sign_ups(world):
    event = make_event(world, audience="residents")
    with refused(ApplicationError, "not_for_riders"):
        services.signup_create(event=event, user=world.rider.user)
    open_event = make_event(world)
    with refused(Forbidden):
        services.signup_create(event=open_event, user=world.community_staff)


def test_cancelling_promotes_the_first_waiting_rider_who_is_told(world):
    event = make_event(world, capacity=1)
    mine = services.signup_create(event=event, user=world.rider.user)
    second = services.signup_create(event=event, user=world.other_rider.user)
    third = services.signup_create(event=event, user=new_rider(world))
    services.signup_cancel(signup=mine, actor=world.rider.user)
    second.refresh_from_db()
    third.refresh_from_db()
    assert (second.status, third.status) == ("confirmed", "waiting")
    note = Notification.objects.get(recipient=world.other_rider.user)
    assert note.kind == "event.promoted" and note.url == f"/events/{event.pk}/"


def test_signing_up_again_after_cancelling_goes_to_the_end_of_the_queue(world):
    event = make_event(world, capacity=1)
    mine = services.signup_create(event=event, user=world.rider.user)
    services.signup_create(event=event, user=world.other_rider.user)
    services.signup_cancel(signup=mine, actor=world.rider.user)
    again = services.signup_create(event=event, user=world.rider.user)
    assert again.pk == mine.pk and again.status == "waiting"


def test_cancel_after_the_start_or_twice_is_refused(world):
    event = make_event(world)
    mine = services.signup_create(event=event, user=world.rider.user)
    services.signup_cancel(signup=mine, actor=world.rider.user)
    with refused(Conflict, "cannot_cancel"):
        services.signup_cancel(signup=mine, actor=world.rider.user)
    other = services.signup_create(event=event, user=world.other_rider.user)
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(minutes=1))
    with refused(ApplicationError, "event_started"):
        services.signup_cancel(signup=other, actor=world.other_rider.user)


def test_another_rider_cannot_cancel_my_sign_up(world):
    event = make_event(world)
    mine = services.signup_create(event=event, user=world.rider.user)
    with refused(Forbidden):
        services.signup_cancel(signup=mine, actor=world.other_rider.user)


# --- the QR code and check-in ------------------------------------------------------------------


def test_the_code_is_accepted_for_its_window_and_the_one_after_only(world):
    event = make_event(world)
    now = services.qr_window()
    services.qr_check(event=event, token=services.qr_token(event, now))
    services.qr_check(event=event, token=services.qr_token(event, now - 1))
    for bad in (services.qr_token(event, now - 2), "forged", None, "码"):
        with pytest.raises(ApplicationError) as info:
            services.qr_check(event=event, token=bad)
        assert info.value.code == "invalid_qr"


def test_qr_check_in_pays_points_once_and_a_repeat_gives_the_same_answer(world):
    attendance_rule(world, 10)
    event = make_event(world)
    services.signup_create(event=event, user=world.rider.user)
    token = services.qr_token(event)
    first = services.check_in_by_qr(event=event, token=token, user=world.rider.user)
    assert (first.already, first.points_status, first.check_in_method) == (False, "paid", "qr")
    again = services.check_in_by_qr(event=event, token=token, user=world.rider.user)
    assert again.already and again.checked_in_at == first.checked_in_at
    assert balance_of(world.rider.user) == 10
    assert EarningRecord.objects.filter(activity="event_attendance").count() == 1
    # Staff confirming the same rider afterwards pays nothing more either.
    services.check_in_by_staff(event=event, code=first.code, actor=world.community_staff)
    assert balance_of(world.rider.user) == 10


def test_an_expired_code_or_another_events_code_is_refused(world):
    event = make_event(world)
    other = make_event(world, title="反诈宣传")
    services.signup_create(event=event, user=world.rider.user)
    with refused(ApplicationError, "invalid_qr"):
        services.check_in_by_qr(
            event=event, token=services.qr_token(event, services.qr_window() - 5),
            user=world.rider.user,
        )  # fmt: skip
    with refused(ApplicationError, "invalid_qr"):
        services.check_in_by_qr(event=event, token=services.qr_token(other), user=world.rider.user)


def test_check_in_needs_a_place_and_an_open_door(world):
    event = make_event(world, capacity=1)
    token = services.qr_token(event)
    with refused(Conflict, "not_signed_up"):
        services.check_in_by_qr(event=event, token=token, user=world.rider.user)
    services.signup_create(event=event, user=world.other_rider.user)
    services.signup_create(event=event, user=world.rider.user)
    with refused(Conflict, "on_waiting_list"):
        services.check_in_by_qr(event=event, token=token, user=world.rider.user)
    later = make_event(world, starts_in=timedelta(hours=3))
    services.signup_create(event=later, user=world.rider.user)
    with refused(Conflict, "check_in_not_open"):
        services.check_in_by_qr(event=later, token=services.qr_token(later), user=world.rider.user)


def test_staff_check_in_by_code_qr_text_or_phone(world):
    attendance_rule(world, 5)
    event = make_event(world, capacity=3)
    a = services.signup_create(event=event, user=world.rider.user)
    b = services.signup_create(event=event, user=world.other_rider.user)
    extra = new_rider(world)
    c = services.signup_create(event=event, user=extra)
    staff = world.community_staff
    assert services.check_in_by_staff(event=event, code=a.code, actor=staff).pk == a.pk
    assert services.check_in_by_staff(event=event, code=b.qr_payload, actor=staff).pk == b.pk
    done = services.check_in_by_staff(event=event, code=extra.phone, actor=staff)
    assert done.pk == c.pk and done.checked_in_by == staff and done.check_in_method == "staff"
    assert balance_of(world.rider.user) == 5


def test_staff_codes_from_another_event_or_unknown_are_refused(world):
    event = make_event(world)
    other = make_event(world, title="义诊")
    theirs = services.signup_create(event=other, user=world.rider.user)
    staff = world.community_staff
    with refused(Conflict, "other_event"):
        services.check_in_by_staff(event=event, code=theirs.qr_payload, actor=staff)
    with refused(NotFound, "unknown_code"):
        services.check_in_by_staff(event=event, code="13999999999", actor=staff)
    with refused(ApplicationError, "invalid_code"):
        services.check_in_by_staff(event=event, code="hello", actor=staff)
    with refused(Forbidden):
        services.check_in_by_staff(event=event, code=theirs.code, actor=world.other_community_staff)


def test_without_an_earning_rule_attendance_is_recorded_without_points(world):
    event = make_event(world)
    services.signup_create(event=event, user=world.rider.user)
    done = services.check_in_by_qr(
        event=event, token=services.qr_token(event), user=world.rider.user
    )
    assert done.checked_in_at is not None and done.points_status == "none"
    attendance_rule(world, 8)
    # Staff confirming later pays, once.
    services.check_in_by_staff(event=event, code=done.code, actor=world.community_staff)
    services.check_in_by_staff(event=event, code=done.code, actor=world.community_staff)
    assert balance_of(world.rider.user) == 8


def test_points_the_creator_may_not_pay_are_held_until_staff_above_confirm(world):
    # A1's staff created the event; a rider of A2 attends: A1's staff may not pay A2's rider.
    attendance_rule(world, 7)
    event = make_event(world)
    services.signup_create(event=event, user=world.other_rider.user)
    done = services.check_in_by_qr(
        event=event, token=services.qr_token(event), user=world.other_rider.user
    )
    assert done.points_status == "held" and balance_of(world.other_rider.user) == 0
    paid = services.check_in_by_staff(event=event, code=done.code, actor=world.street_admin)
    assert paid.points_status == "paid" and balance_of(world.other_rider.user) == 7
