"""The appeal and joint-meeting services: happy paths, every refusal of the spec, nothing
half-written."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.appeals.builders import key, raise_appeal
from yizhan.appeals import selectors, services
from yizhan.appeals.choices import AppealStatus, DecisionStatus
from yizhan.appeals.models import AgendaItem, Appeal, AppealEvent, Decision, Delivery, Meeting
from yizhan.core.errors import ApplicationError, Conflict, Forbidden
from yizhan.core.models import AuditEntry
from yizhan.core.workcalendar import add_working_days
from yizhan.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _state():
    return (
        sorted(Appeal.objects.values_list("pk", "status", "body_id", "rating", "answer")),
        AppealEvent.objects.count(),
        Delivery.objects.count(),
        Meeting.objects.count(),
        AgendaItem.objects.count(),
        sorted(Decision.objects.values_list("pk", "status", "follow_up")),
        AuditEntry.objects.count(),
        Notification.objects.count(),
    )


def refused(exc_type, call, **match):
    before = _state()
    with pytest.raises(exc_type) as info:
        call()
    for name, value in match.items():
        assert getattr(info.value, name) == value
    assert _state() == before
    return info.value


# --- raising -----------------------------------------------------------------------------------


def test_raise_records_the_appeal_in_the_riders_area(world):
    appeal = raise_appeal(world.rider.user, anonymous=True)
    assert appeal.status == AppealStatus.SUBMITTED
    assert appeal.area_code == world.rider.area_code
    assert appeal.anonymous is True
    assert AppealEvent.objects.filter(appeal=appeal, action="raised").count() == 1
    assert AuditEntry.objects.filter(action="appeal.raised", target_id=str(appeal.pk)).exists()


def test_raise_repeated_with_the_same_key_gives_the_same_appeal(world):
    kwargs = dict(rider=world.rider.user, difficulty="skills", topic="other", text="想学电工")
    first = services.appeal_raise(**kwargs, idempotency_key="same-key-0001")
    again = services.appeal_raise(**kwargs, idempotency_key="same-key-0001")
    assert first.pk == again.pk
    assert Appeal.objects.count() == 1


@pytest.mark.parametrize(
    "field, changes",
    [
        ("text", {"text": ""}),
        ("text", {"text": "   "}),
        ("text", {"text": "长" * 1001}),
        ("difficulty", {"difficulty": "hunger"}),
        ("topic", {"topic": "weather"}),
    ],
)
def test_raise_refuses_bad_input(world, field, changes):
    kwargs = dict(
        rider=world.rider.user, difficulty="rights", topic="pay", text="欠薪", idempotency_key=key()
    )
    exc = refused(ApplicationError, lambda: services.appeal_raise(**{**kwargs, **changes}))
    assert exc.field == field and exc.status == 400


@pytest.mark.parametrize("who", ["community_staff", "merchant", "pending_rider"])
def test_only_verified_riders_raise(world, who):
    refused(Forbidden, lambda: raise_appeal(world.account(who)))


# --- routing -----------------------------------------------------------------------------------


def test_route_sets_body_and_deadline_and_tells_rider_and_handlers(world, body):
    appeal = raise_appeal(world.rider.user)
    before = timezone.now()
    services.appeal_route(
        appeal=appeal, actor=world.community_staff, body=body["union"], days=3, note="请工会跟进"
    )
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.ROUTED and appeal.body == body["union"]
    # Three working days on the working calendar (weekends and holidays do not count).
    expected = add_working_days(appeal.routed_at, 3)
    assert appeal.deadline_at == expected
    assert appeal.deadline_at - before >= timedelta(days=3)
    assert Notification.objects.filter(recipient=world.rider.user, kind="appeal_status").exists()
    assert Notification.objects.filter(recipient=body["handler"], kind="appeal_routed").exists()
    assert not Notification.objects.filter(recipient=body["court_handler"]).exists()


def test_route_outside_scope_is_refused(world, body):
    appeal = raise_appeal(world.rider.user)
    exc = refused(
        ApplicationError,
        lambda: services.appeal_route(
            appeal=appeal, actor=world.community_staff, body=body["court"]
        ),
    )
    assert exc.code == "body_out_of_scope" and exc.status == 400


@pytest.mark.parametrize("days", [0, 91, "5", None, True])
def test_route_needs_a_deadline_of_1_to_90_days(world, body, days):
    appeal = raise_appeal(world.rider.user)
    refused(
        ApplicationError,
        lambda: services.appeal_route(
            appeal=appeal, actor=world.community_staff, body=body["union"], days=days
        ),
        field="days",
    )


def test_route_by_other_community_staff_or_a_handler_is_refused(world, body):
    appeal = raise_appeal(world.rider.user)
    for actor in (world.other_community_staff, body["handler"], world.rider.user):
        refused(
            Forbidden,
            lambda actor=actor: services.appeal_route(
                appeal=appeal, actor=actor, body=body["union"]
            ),
        )


# --- answering ---------------------------------------------------------------------------------


def test_the_bodys_handler_answers(made, world):
    appeal = services.appeal_answer(appeal=made["routed"], actor=made["handler"], text="已约谈")
    assert appeal.status == AppealStatus.ANSWERED and appeal.answer == "已约谈"
    assert (
        Notification.objects.filter(
            recipient=world.rider.user, kind="appeal_status", title__contains=f"#{appeal.pk}"
        ).count()
        == 2
    )  # routed, answered


def test_answering_an_appeal_not_routed_to_your_body_is_refused(made):
    refused(
        Forbidden,
        lambda: services.appeal_answer(
            appeal=made["routed"], actor=made["court_handler"], text="x"
        ),
    )


def test_answering_before_routing_is_refused(made, world):
    refused(
        Conflict,
        lambda: services.appeal_answer(
            appeal=made["submitted"], actor=world.community_staff, text="x"
        ),
    )


@pytest.mark.parametrize("text", ["", "答" * 2001])
def test_answer_text_is_checked(made, text):
    refused(
        ApplicationError,
        lambda: services.appeal_answer(appeal=made["routed"], actor=made["handler"], text=text),
        field="text",
    )


# --- rating ------------------------------------------------------------------------------------


def test_a_good_rating_closes_the_appeal(made, world):
    appeal = services.appeal_rate(
        appeal=made["answered"], actor=world.rider.user, stars=4, comment="谢谢"
    )
    assert appeal.status == AppealStatus.CLOSED and appeal.rating == 4
    assert appeal.closed_at is not None


def test_a_low_rating_reopens_it_for_staff(made, world):
    appeal = services.appeal_rate(appeal=made["answered"], actor=world.rider.user, stars=2)
    assert appeal.status == AppealStatus.REOPENED and appeal.reopen_count == 1
    assert Notification.objects.filter(
        recipient=world.community_staff, kind="appeal_reopened"
    ).exists()
    # The body hears it is back with staff; staff answer again or route again.
    refused(
        Conflict, lambda: services.appeal_answer(appeal=appeal, actor=made["handler"], text="再")
    )
    appeal = services.appeal_answer(appeal=appeal, actor=world.community_staff, text="街道介入")
    assert appeal.status == AppealStatus.ANSWERED
    appeal = services.appeal_rate(appeal=appeal, actor=world.rider.user, stars=5)
    assert appeal.status == AppealStatus.CLOSED


def test_rating_twice_is_refused(made, world):
    services.appeal_rate(appeal=made["answered"], actor=world.rider.user, stars=1)
    exc = refused(
        Conflict,
        lambda: services.appeal_rate(appeal=made["answered"], actor=world.rider.user, stars=5),
    )
    assert exc.code == "already_rated"


def test_rating_before_an_answer_is_refused(made, world):
    exc = refused(
        Conflict,
        lambda: services.appeal_rate(appeal=made["routed"], actor=world.rider.user, stars=5),
    )
    assert exc.code == "not_answered"


@pytest.mark.parametrize("who", ["other_rider", "community_staff"])
def test_rating_someone_elses_appeal_is_refused(made, world, who):
    refused(
        Forbidden,
        lambda: services.appeal_rate(appeal=made["answered"], actor=world.account(who), stars=5),
    )


@pytest.mark.parametrize("stars, comment", [(0, ""), (6, ""), ("5", ""), (3, "评" * 501)])
def test_rating_input_is_checked(made, world, stars, comment):
    refused(
        ApplicationError,
        lambda: services.appeal_rate(
            appeal=made["answered"], actor=world.rider.user, stars=stars, comment=comment
        ),
    )


# --- closing and deliveries ---------------------------------------------------------------------


def test_staff_close_with_a_note_and_the_rider_is_told(made, world):
    refused(
        ApplicationError,
        lambda: services.appeal_close(appeal=made["routed"], actor=world.community_staff, note=""),
    )
    appeal = services.appeal_close(
        appeal=made["routed"], actor=world.community_staff, note="已解决"
    )
    assert appeal.status == AppealStatus.CLOSED
    told = Notification.objects.filter(recipient=world.rider.user, kind="appeal_status")
    assert told.filter(target_id=str(appeal.pk)).count() == 2  # routed, closed
    refused(
        Conflict,
        lambda: services.appeal_close(appeal=appeal, actor=world.community_staff, note="再关"),
    )


def test_deliveries_are_recorded_one_or_more(made, world):
    services.delivery_record(
        appeal=made["routed"], actor=world.community_staff, kind="rights", note="法律援助一次"
    )
    services.delivery_record(
        appeal=made["routed"], actor=world.community_staff, kind="warmth", note="送清凉饮品"
    )
    kinds = list(selectors.deliveries_of(made["routed"]).values_list("kind", flat=True))
    assert kinds == ["rights", "warmth"]


@pytest.mark.parametrize("kind, note", [("money", "x"), ("care", ""), ("care", "长" * 501)])
def test_delivery_input_is_checked(made, world, kind, note):
    refused(
        ApplicationError,
        lambda: services.delivery_record(
            appeal=made["routed"], actor=world.community_staff, kind=kind, note=note
        ),
    )


def test_no_delivery_before_routing_and_not_by_others(made, world):
    refused(
        Conflict,
        lambda: services.delivery_record(
            appeal=made["submitted"], actor=world.community_staff, kind="care", note="x"
        ),
    )
    refused(
        Forbidden,
        lambda: services.delivery_record(
            appeal=made["routed"], actor=world.other_community_staff, kind="care", note="x"
        ),
    )


# --- overdue and anonymity ------------------------------------------------------------------------


def test_overdue_appeals_are_visible_as_such(made, world):
    Appeal.objects.filter(pk=made["routed"].pk).update(
        deadline_at=timezone.now() - timedelta(hours=1)
    )
    staff_list = selectors.appeals_for_user(world.community_staff)
    overdue = selectors.filter_appeals(staff_list, overdue_only=True)
    assert [a.pk for a in overdue] == [made["routed"].pk]
    assert overdue[0].is_overdue


def test_an_anonymous_appeal_shows_the_name_only_to_the_handling_body(made, world):
    appeal = services.appeal_route(
        appeal=made["submitted"], actor=world.street_admin, body=made["union"], days=5
    )
    assert appeal.rider_label(made["handler"]) == "王小明"
    assert appeal.rider_label(world.street_admin) == "王小明"  # routed it: handling staff
    assert appeal.rider_label(world.rider.user) == "王小明"
    assert appeal.rider_label(world.community_staff) != "王小明"
    assert appeal.rider_label(world.district_admin) != "王小明"
    assert appeal.rider_label(made["court_handler"]) != "王小明"


def test_the_handler_sees_only_appeals_routed_to_their_body(made, world):
    mine = set(selectors.body_appeals(made["handler"]).values_list("pk", flat=True))
    assert mine == {made["routed"].pk, made["answered"].pk}
    assert not selectors.body_appeals(made["court_handler"]).exists()
    staff = set(selectors.appeals_for_user(world.community_staff).values_list("pk", flat=True))
    assert made["a2"].pk not in staff and made["submitted"].pk in staff


# --- joint meetings ------------------------------------------------------------------------------


def _meeting(world, **changes):
    kwargs = dict(
        actor=world.community_staff,
        area=world.community_a1,
        title="联席会议",
        held_on=timezone.localdate(),
        place="会议室",
    )
    return services.meeting_create(**{**kwargs, **changes})


def test_meeting_with_bodies_and_rider_representatives(made, world):
    meeting = _meeting(world, bodies=[made["union"]], riders=[world.rider.user])
    assert list(meeting.bodies.all()) == [made["union"]]
    assert list(meeting.riders.all()) == [world.rider.user]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"title": ""}, "title"),
        ({"place": "地" * 201}, "place"),
        ({"held_on": "2026-01-01"}, "held_on"),
    ],
)
def test_meeting_input_is_checked(world, changes, field):
    refused(ApplicationError, lambda: _meeting(world, **changes), field=field)


def test_meeting_participants_must_belong_to_the_area(made, world):
    refused(ApplicationError, lambda: _meeting(world, bodies=[made["court"]]), field="bodies")
    refused(
        ApplicationError, lambda: _meeting(world, riders=[world.other_rider.user]), field="riders"
    )


def test_meeting_only_in_your_own_area(world):
    refused(Forbidden, lambda: _meeting(world, area=world.street_a))
    refused(Forbidden, lambda: _meeting(world, actor=world.rider.user))


def test_agenda_appeal_outside_the_meetings_area_is_refused(made, world):
    exc = refused(
        ApplicationError,
        lambda: services.agenda_add(
            meeting=made["meeting"], actor=world.community_staff, appeal=made["a2"]
        ),
    )
    assert exc.code == "appeal_out_of_scope"


def test_agenda_takes_unresolved_appeals_once_or_free_text(made, world):
    staff, meeting = world.community_staff, made["meeting"]
    refused(
        Conflict, lambda: services.agenda_add(meeting=meeting, actor=staff, appeal=made["routed"])
    )
    refused(ApplicationError, lambda: services.agenda_add(meeting=meeting, actor=staff))
    refused(
        ApplicationError, lambda: services.agenda_add(meeting=meeting, actor=staff, text="议" * 501)
    )
    closed = services.appeal_close(appeal=made["submitted"], actor=staff, note="已解决")
    exc = refused(
        ApplicationError, lambda: services.agenda_add(meeting=meeting, actor=staff, appeal=closed)
    )
    assert exc.code == "appeal_resolved"
    item = services.agenda_add(meeting=meeting, actor=staff, text="驿站冬季供暖")
    assert item.position == 2
    item = services.agenda_add(meeting=meeting, actor=staff, appeal=made["answered"])
    assert AppealEvent.objects.filter(appeal=made["answered"], action="on_agenda").exists()


def test_minutes(made, world):
    refused(
        ApplicationError,
        lambda: services.meeting_minutes(
            meeting=made["meeting"], actor=world.community_staff, minutes=""
        ),
    )
    refused(
        ApplicationError,
        lambda: services.meeting_minutes(
            meeting=made["meeting"], actor=world.community_staff, minutes="记" * 10001
        ),
    )
    meeting = services.meeting_minutes(
        meeting=made["meeting"], actor=world.community_staff, minutes="会议纪要"
    )
    assert meeting.minutes == "会议纪要"
    refused(
        Forbidden,
        lambda: services.meeting_minutes(
            meeting=made["meeting"], actor=world.other_community_staff, minutes="x"
        ),
    )


def test_a_decision_without_an_owner_or_due_date_is_refused(made, world):
    def add(**changes):
        kwargs = dict(
            meeting=made["meeting"],
            actor=world.community_staff,
            text="落实休息点",
            owner_name="张主任",
            due_on=timezone.localdate() + timedelta(days=3),
        )
        return services.decision_add(**{**kwargs, **changes})

    assert refused(ApplicationError, lambda: add(owner_name="")).code == "owner_required"
    assert refused(ApplicationError, lambda: add(due_on=None)).code == "due_required"
    refused(ApplicationError, lambda: add(due_on=timezone.localdate() - timedelta(days=1)))
    refused(ApplicationError, lambda: add(text=""))
    refused(ApplicationError, lambda: add(owner_name="", owner_body=made["court"]))
    decision = add()
    assert decision.owner == "张主任" and decision.status == DecisionStatus.OPEN


def test_decisions_are_followed_up_until_done_and_overdue_is_visible(made, world):
    staff, decision = world.community_staff, made["decision"]
    Decision.objects.filter(pk=decision.pk).update(due_on=timezone.localdate() - timedelta(days=1))
    overdue = selectors.decisions_for_user(staff, overdue_only=True)
    assert [d.pk for d in overdue] == [decision.pk] and overdue[0].is_overdue
    refused(
        ApplicationError,
        lambda: services.decision_follow_up(decision=decision, actor=staff, note=""),
    )
    decision = services.decision_follow_up(decision=decision, actor=staff, note="已约谈一次")
    assert decision.status == DecisionStatus.OPEN and decision.follow_up == "已约谈一次"
    decision = services.decision_follow_up(decision=decision, actor=staff, note="完成", done=True)
    assert decision.status == DecisionStatus.DONE
    assert not selectors.decisions_for_user(staff, overdue_only=True).exists()
    refused(
        Conflict, lambda: services.decision_follow_up(decision=decision, actor=staff, note="再")
    )
    refused(
        Forbidden,
        lambda: services.decision_follow_up(
            decision=made["decision"], actor=world.other_community_staff, note="x"
        ),
    )
