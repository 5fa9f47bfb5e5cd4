"""Appeal and joint-meeting pages: the rider's (raise, my appeals, rate the answer), the body's
handler's (appeals routed to their body, answer) and the staff console (queue with filters, route,
answer, deliveries, close; meetings, agenda, minutes, decisions and their follow-up).

Views are thin: gate the account type (``core.pages.page``), read through ``appeals.selectors``
(the permission layer), write through ``appeals.services``; a refusal is shown on the form (400,
or the service's 409) or as the error page with the service's status (403/404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.appeals import forms, selectors, services
from yizhan.appeals.choices import UNRESOLVED_STATUSES
from yizhan.appeals.models import Appeal, Meeting
from yizhan.core.errors import ApplicationError
from yizhan.core.pages import page
from yizhan.core.pagination import page_of
from yizhan.core.permissions import Action, can, scope_code
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.points.forms import new_key
from yizhan.points.views import refusal

CONSOLE = tuple(CONSOLE_ROLES)


def _submit(
    request: HttpRequest,
    form: Any,
    action: Callable[[dict], Any],
    draw: Callable[[int], HttpResponse],
    *,
    success: Callable[[Any], str],
    then: Callable[[Any], HttpResponse],
) -> HttpResponse:
    """Validate ``form``, call the service, and answer: the page with the form's errors (400),
    the service's refusal, or a redirect with a flash message."""
    if not form.is_valid():
        return draw(400)
    try:
        result = action(form.cleaned_data)
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, success(result))
    return then(result)


# --- the rider's pages -------------------------------------------------------------------------


@page(Role.RIDER)
def mine(request: HttpRequest) -> HttpResponse:
    appeals = page_of(selectors.my_appeals(request.user), request)
    return render(request, "appeals/mine.html", {"page": appeals})


@page(Role.RIDER)
def new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = forms.AppealForm(initial={"idempotency_key": new_key()})
        return render(request, "appeals/new.html", {"form": form})
    form = forms.AppealForm(request.POST)

    def draw(status: int) -> HttpResponse:
        return render(request, "appeals/new.html", {"form": form}, status=status)

    return _submit(
        request,
        form,
        lambda data: services.appeal_raise(rider=request.user, **data),
        draw,
        success=lambda appeal: (
            _("Your appeal #%(id)s was sent to your community.") % {"id": appeal.pk}
        ),
        then=lambda appeal: redirect("appeals:detail", appeal_id=appeal.pk),
    )


def _rider_detail(request: HttpRequest, appeal: Appeal, *, form=None, status: int = 200):
    context = {
        "appeal": appeal,
        "rider_name": appeal.rider_label(request.user),
        "events": selectors.timeline(appeal),
        "deliveries": selectors.deliveries_of(appeal),
        "form": form or (forms.RateForm() if appeal.can_rate() else None),
    }
    return render(request, "appeals/detail.html", context, status=status)


@page()
def detail(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = selectors.appeal_for_user(request.user, appeal_id)
    if appeal.rider_id != request.user.pk:
        # Staff and handlers have their own page of it.
        if request.user.role == Role.HANDLER:
            return redirect("appeals:case", appeal_id=appeal.pk)
        return redirect("appeals:console_detail", appeal_id=appeal.pk)
    return _rider_detail(request, appeal)


@page(Role.RIDER)
@require_POST
def rate(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = selectors.appeal_for_user(request.user, appeal_id)
    form = forms.RateForm(request.POST)
    return _submit(
        request,
        form,
        lambda data: services.appeal_rate(appeal=appeal, actor=request.user, **data),
        lambda status: _rider_detail(request, appeal, form=form, status=status),
        success=lambda a: _("Thank you for rating the answer."),
        then=lambda a: redirect("appeals:detail", appeal_id=a.pk),
    )


# --- the body's pages (handlers) -----------------------------------------------------------------


@page(Role.HANDLER)
def cases(request: HttpRequest) -> HttpResponse:
    appeals = page_of(selectors.body_appeals(request.user), request)
    for appeal in appeals.object_list:
        appeal.rider_name = appeal.rider_label(request.user)
    return render(request, "appeals/cases.html", {"page": appeals})


def _case_page(request: HttpRequest, appeal: Appeal, *, form=None, status: int = 200):
    context = {
        "appeal": appeal,
        "rider_name": appeal.rider_label(request.user),
        "events": selectors.timeline(appeal),
        "deliveries": selectors.deliveries_of(appeal),
        "form": form or (forms.AnswerForm() if appeal.status == "routed" else None),
    }
    return render(request, "appeals/case.html", context, status=status)


@page(Role.HANDLER)
def case(request: HttpRequest, appeal_id: int) -> HttpResponse:
    return _case_page(request, selectors.appeal_for_user(request.user, appeal_id))


@page(Role.HANDLER)
@require_POST
def case_answer(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = selectors.appeal_for_user(request.user, appeal_id)
    form = forms.AnswerForm(request.POST)
    return _submit(
        request,
        form,
        lambda data: services.appeal_answer(appeal=appeal, actor=request.user, **data),
        lambda status: _case_page(request, appeal, form=form, status=status),
        success=lambda a: _("The answer was sent to the rider."),
        then=lambda a: redirect("appeals:case", appeal_id=a.pk),
    )


# --- the staff console: appeals ------------------------------------------------------------------


@page(*CONSOLE)
def queue(request: HttpRequest) -> HttpResponse:
    filters = forms.QueueFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    qs = selectors.filter_appeals(
        selectors.appeals_for_user(request.user),
        status=values.get("status") or None,
        difficulty=values.get("difficulty") or None,
        overdue_only=bool(values.get("overdue")),
    )
    appeals = page_of(qs, request)
    for appeal in appeals.object_list:
        appeal.rider_name = appeal.rider_label(request.user)
    query = "&".join(f"{k}={v}" for k, v in request.GET.items() if k != "page" and v)
    return render(
        request,
        "appeals/console/queue.html",
        {"page": appeals, "filters": filters, "query": query},
    )


def _console_detail(request: HttpRequest, appeal: Appeal, *, status: int = 200, **bound: Any):
    may_act = can(request.user, Action.OPERATE, appeal)
    bodies = services.bodies_for(appeal.area_code)
    context = {
        "appeal": appeal,
        "rider_name": appeal.rider_label(request.user),
        "events": selectors.timeline(appeal),
        "deliveries": selectors.deliveries_of(appeal),
        "may_act": may_act,
        "route_form": bound.get("route_form")
        or forms.RouteForm(bodies=bodies, initial={"body": appeal.body_id}),
        "answer_form": bound.get("answer_form") or forms.AnswerForm(),
        "delivery_form": bound.get("delivery_form") or forms.DeliveryForm(),
        "close_form": bound.get("close_form") or forms.CloseForm(),
    }
    return render(request, "appeals/console/detail.html", context, status=status)


@page(*CONSOLE)
def console_detail(request: HttpRequest, appeal_id: int) -> HttpResponse:
    return _console_detail(request, selectors.appeal_for_user(request.user, appeal_id))


def _console_action(request, appeal_id, form_name, make_form, action, success):
    appeal = selectors.appeal_for_user(request.user, appeal_id, Action.OPERATE)
    form = make_form(appeal)
    return _submit(
        request,
        form,
        lambda data: action(appeal, data),
        lambda status: _console_detail(request, appeal, status=status, **{form_name: form}),
        success=success,
        then=lambda result: redirect("appeals:console_detail", appeal_id=appeal.pk),
    )


@page(*CONSOLE)
@require_POST
def route(request: HttpRequest, appeal_id: int) -> HttpResponse:
    return _console_action(
        request,
        appeal_id,
        "route_form",
        lambda a: forms.RouteForm(request.POST, bodies=services.bodies_for(a.area_code)),
        lambda a, data: services.appeal_route(appeal=a, actor=request.user, **data),
        lambda a: _("Routed to %(body)s.") % {"body": a.body.name},
    )


@page(*CONSOLE)
@require_POST
def answer(request: HttpRequest, appeal_id: int) -> HttpResponse:
    return _console_action(
        request,
        appeal_id,
        "answer_form",
        lambda a: forms.AnswerForm(request.POST),
        lambda a, data: services.appeal_answer(appeal=a, actor=request.user, **data),
        lambda a: _("The answer was sent to the rider."),
    )


@page(*CONSOLE)
@require_POST
def deliver(request: HttpRequest, appeal_id: int) -> HttpResponse:
    return _console_action(
        request,
        appeal_id,
        "delivery_form",
        lambda a: forms.DeliveryForm(request.POST),
        lambda a, data: services.delivery_record(appeal=a, actor=request.user, **data),
        lambda d: _("%(kind)s recorded.") % {"kind": d.get_kind_display()},
    )


@page(*CONSOLE)
@require_POST
def close(request: HttpRequest, appeal_id: int) -> HttpResponse:
    return _console_action(
        request,
        appeal_id,
        "close_form",
        lambda a: forms.CloseForm(request.POST),
        lambda a, data: services.appeal_close(appeal=a, actor=request.user, **data),
        lambda a: _("Appeal #%(id)s is closed; the rider is told.") % {"id": a.pk},
    )


# --- the staff console: joint meetings -----------------------------------------------------------


@page(*CONSOLE)
def meetings(request: HttpRequest) -> HttpResponse:
    listed = page_of(selectors.meetings_for_user(request.user), request)
    return render(request, "appeals/console/meetings.html", {"page": listed})


def _meeting_form(request: HttpRequest, data: Any = None) -> forms.MeetingForm:
    code = scope_code(request.user)
    areas = selectors.areas_to_organise(request.user)
    return forms.MeetingForm(
        data,
        areas=areas,
        bodies=services.meeting_bodies(code) if code else services.meeting_bodies(""),
        riders=services.meeting_riders(code),
        initial={"area": areas.first()},
    )


@page(*CONSOLE)
def meeting_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "appeals/console/meeting_new.html", {"form": _meeting_form(request)})
    form = _meeting_form(request, request.POST)

    def draw(status: int) -> HttpResponse:
        return render(request, "appeals/console/meeting_new.html", {"form": form}, status=status)

    return _submit(
        request,
        form,
        lambda data: services.meeting_create(actor=request.user, **data),
        draw,
        success=lambda m: _("%(meeting)s is on the calendar.") % {"meeting": m},
        then=lambda m: redirect("appeals:meeting_detail", meeting_id=m.pk),
    )


def _agenda_appeals(request: HttpRequest, meeting: Meeting):
    return selectors.appeals_for_user(request.user).filter(
        area_code__startswith=meeting.area_code, status__in=UNRESOLVED_STATUSES
    )


def _participants_form(meeting: Meeting, data: Any = None) -> forms.ParticipantsForm:
    return forms.ParticipantsForm(
        data,
        bodies=services.meeting_bodies(meeting.area_code),
        riders=services.meeting_riders(meeting.area_code),
        initial=None
        if data is not None
        else {"bodies": list(meeting.bodies.all()), "riders": list(meeting.riders.all())},
    )


def _meeting_page(request: HttpRequest, meeting: Meeting, *, status: int = 200, **bound: Any):
    agenda = list(selectors.agenda_of(meeting))
    for item in agenda:
        if item.appeal_id:
            item.rider_name = item.appeal.rider_label(request.user)
    context = {
        "meeting": meeting,
        "agenda": agenda,
        "decisions": selectors.decisions_of(meeting),
        "may_act": can(request.user, Action.OPERATE, meeting),
        "agenda_form": bound.get("agenda_form")
        or forms.AgendaForm(appeals=_agenda_appeals(request, meeting)),
        "participants_form": bound.get("participants_form") or _participants_form(meeting),
        "minutes_form": bound.get("minutes_form")
        or forms.MinutesForm(initial={"minutes": meeting.minutes}),
        "decision_form": bound.get("decision_form")
        or forms.DecisionForm(
            bodies=services.meeting_bodies(meeting.area_code),
            items=selectors.agenda_of(meeting),
        ),
    }
    return render(request, "appeals/console/meeting.html", context, status=status)


@page(*CONSOLE)
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _meeting_page(request, selectors.meeting_for_user(request.user, meeting_id))


def _meeting_action(request, meeting_id, form_name, make_form, action, success):
    meeting = selectors.meeting_for_user(request.user, meeting_id, Action.OPERATE)
    form = make_form(meeting)
    return _submit(
        request,
        form,
        lambda data: action(meeting, data),
        lambda status: _meeting_page(request, meeting, status=status, **{form_name: form}),
        success=success,
        then=lambda result: redirect("appeals:meeting_detail", meeting_id=meeting.pk),
    )


@page(*CONSOLE)
@require_POST
def agenda_add(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _meeting_action(
        request,
        meeting_id,
        "agenda_form",
        lambda m: forms.AgendaForm(request.POST, appeals=_agenda_appeals(request, m)),
        lambda m, data: services.agenda_add(meeting=m, actor=request.user, **data),
        lambda item: _("Added to the agenda."),
    )


@page(*CONSOLE)
@require_POST
def participants(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _meeting_action(
        request,
        meeting_id,
        "participants_form",
        lambda m: _participants_form(m, request.POST),
        lambda m, data: services.meeting_participants(meeting=m, actor=request.user, **data),
        lambda m: _("The participants are saved."),
    )


@page(*CONSOLE)
@require_POST
def minutes(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _meeting_action(
        request,
        meeting_id,
        "minutes_form",
        lambda m: forms.MinutesForm(request.POST),
        lambda m, data: services.meeting_minutes(meeting=m, actor=request.user, **data),
        lambda m: _("The minutes are saved."),
    )


@page(*CONSOLE)
@require_POST
def decision_add(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _meeting_action(
        request,
        meeting_id,
        "decision_form",
        lambda m: forms.DecisionForm(
            request.POST,
            bodies=services.meeting_bodies(m.area_code),
            items=selectors.agenda_of(m),
        ),
        lambda m, data: services.decision_add(meeting=m, actor=request.user, **data),
        lambda d: (
            _("Decision recorded: %(owner)s, due %(due)s.") % {"owner": d.owner, "due": d.due_on}
        ),
    )


@page(*CONSOLE)
def decisions(request: HttpRequest) -> HttpResponse:
    overdue = request.GET.get("overdue") == "1"
    status = request.GET.get("status") or None
    if status not in (None, "open", "done"):
        status = None
    listed = page_of(
        selectors.decisions_for_user(request.user, status=status, overdue_only=overdue), request
    )
    query = "&".join(
        f"{k}={v}" for k, v in (("overdue", "1" if overdue else ""), ("status", status or "")) if v
    )
    return render(
        request,
        "appeals/console/decisions.html",
        {
            "page": listed,
            "overdue": overdue,
            "status": status,
            "query": query,
            "form": forms.FollowUpForm(),
        },
    )


@page(*CONSOLE)
@require_POST
def follow_up(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = selectors.decision_for_user(request.user, decision_id, Action.OPERATE)
    form = forms.FollowUpForm(request.POST)

    def draw(status: int) -> HttpResponse:
        listed = page_of(selectors.decisions_for_user(request.user), request)
        return render(
            request,
            "appeals/console/decisions.html",
            {"page": listed, "form": form, "failed": decision.pk},
            status=status,
        )

    return _submit(
        request,
        form,
        lambda data: services.decision_follow_up(decision=decision, actor=request.user, **data),
        draw,
        success=lambda d: _("Follow-up noted."),
        then=lambda d: redirect("appeals:decisions"),
    )
