"""Duties pages: the rider logs a duty and follows their duties; staff work the queue of their
area (verify, reject) and issue households' gift codes; a household confirms a gift delivery
on a public page (no log-in).

Views are thin: gate the account type (``core.pages.page``), read through ``selectors`` (the
permission layer), write through ``services``, show a refusal on the form (400, 409) or as the
error page with the service's status.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.errors import ApplicationError
from yizhan.core.pages import error_page, page, run_action
from yizhan.core.pagination import page_of
from yizhan.core.permissions import Action, restrict
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.duties import forms, selectors, services
from yizhan.duties.choices import DutyStatus
from yizhan.points.forms import new_key
from yizhan.points.views import refusal

CONSOLE = tuple(CONSOLE_ROLES)


# --- the rider's pages -------------------------------------------------------------------------


@page(Role.RIDER)
def mine(request: HttpRequest) -> HttpResponse:
    duties = page_of(selectors.my_duties(request.user), request)
    return render(request, "duties/mine.html", {"page": duties})


@page(Role.RIDER)
def log(request: HttpRequest) -> HttpResponse:
    posts = selectors.held_posts(request.user)

    def draw(form, status: int = 200) -> HttpResponse:
        return render(
            request, "duties/log.html", {"form": form, "has_posts": posts.exists()}, status=status
        )

    if request.method != "POST":
        return draw(forms.DutyForm(posts=posts, initial={"idempotency_key": new_key()}))
    form = forms.DutyForm(request.POST, request.FILES, posts=posts)
    if not form.is_valid():
        return draw(form, 400)
    data = form.cleaned_data
    try:
        duty = services.duty_log(
            actor=request.user,
            post=data["post"],
            kind=data["kind"],
            started_at=data["started_at"],
            ended_at=data["ended_at"],
            place=data["place"],
            lat=data["lat"],
            lng=data["lng"],
            crs=data["crs"] or "wgs84",
            note=data["note"],
            photo=data["photo"],
            idempotency_key=data["idempotency_key"],
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, lambda status: draw(form, status))
    messages.success(
        request,
        _("Duty #%(id)s is logged and waits for verification.") % {"id": duty.pk},
    )
    return redirect("duties:detail", duty.pk)


@page(Role.RIDER)
def detail(request: HttpRequest, duty_id: int) -> HttpResponse:
    duty = selectors.duty_for(request.user, duty_id)
    return render(request, "duties/detail.html", {"duty": duty})


@page(login=False)
def confirm(request: HttpRequest) -> HttpResponse:
    """The household's page: the duty number and their code confirm a gift delivery."""

    def draw(form, status: int = 200, done=None) -> HttpResponse:
        return render(request, "duties/confirm.html", {"form": form, "done": done}, status=status)

    if request.method != "POST":
        return draw(forms.ConfirmForm(initial={"duty": request.GET.get("duty") or None}))
    form = forms.ConfirmForm(request.POST)
    if not form.is_valid():
        return draw(form, 400)
    try:
        duty = services.duty_confirm(
            duty_id=form.cleaned_data["duty"], code=form.cleaned_data["code"], actor=request.user
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, lambda status: draw(form, status))
    return draw(forms.ConfirmForm(), done=duty)


# --- the staff console -------------------------------------------------------------------------


@page(*CONSOLE)
def queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", DutyStatus.PENDING)
    if status not in DutyStatus.values:
        status = DutyStatus.PENDING
    rows = selectors.queue_for(request.user, status=status)
    if status != DutyStatus.PENDING:
        rows = rows.order_by("-decided_at", "-id")
    return render(
        request,
        "duties/console/queue.html",
        {
            "page": page_of(rows, request),
            "status": status,
            "statuses": DutyStatus.choices,
            "query": f"status={status}",
        },
    )


@page(*CONSOLE)
def review(request: HttpRequest, duty_id: int) -> HttpResponse:
    duty = selectors.duty_for(request.user, duty_id)
    return render(
        request, "duties/console/review.html", {"duty": duty, "reject_form": forms.RejectForm()}
    )


@page(*CONSOLE)
@require_POST
def verify(request: HttpRequest, duty_id: int) -> HttpResponse:
    duty = selectors.duty_for(request.user, duty_id, Action.OPERATE)
    refused = run_action(
        request,
        lambda: services.duty_verify(duty=duty, actor=request.user),
        success=_("Duty #%(id)s is verified.") % {"id": duty.pk},
    )
    return refused or redirect("duties:queue")


@page(*CONSOLE)
@require_POST
def reject(request: HttpRequest, duty_id: int) -> HttpResponse:
    duty = selectors.duty_for(request.user, duty_id, Action.OPERATE)
    form = forms.RejectForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "duties/console/review.html",
            {"duty": duty, "reject_form": form},
            status=400,
        )
    try:
        services.duty_reject(duty=duty, actor=request.user, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        if exc.status in (401, 403, 404, 409):
            return error_page(request, exc)
        return refusal(
            request,
            form,
            exc,
            lambda status: render(
                request,
                "duties/console/review.html",
                {"duty": duty, "reject_form": form},
                status=status,
            ),
        )
    messages.success(request, _("Duty #%(id)s is rejected.") % {"id": duty.pk})
    return redirect("duties:queue")


@page(*CONSOLE)
def gift_codes(request: HttpRequest) -> HttpResponse:
    communities = (
        restrict(Area.objects.all(), request.user, Action.OPERATE)
        .filter(level=AreaLevel.COMMUNITY)
        .order_by("code")
    )

    def draw(form, status: int = 200) -> HttpResponse:
        return render(
            request,
            "duties/console/gift_codes.html",
            {"form": form, "page": page_of(selectors.gift_codes_for(request.user), request)},
            status=status,
        )

    if request.method != "POST":
        return draw(forms.GiftCodeForm(communities=communities))
    form = forms.GiftCodeForm(request.POST, communities=communities)
    if not form.is_valid():
        return draw(form, 400)
    try:
        code, digits = services.gift_code_issue(
            community=form.cleaned_data["community"],
            household=form.cleaned_data["household"],
            actor=request.user,
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, lambda status: draw(form, status))
    messages.success(
        request,
        _(
            "The code for %(household)s is %(code)s. Give it to the household now: it is shown "
            "only this once and is good for 7 days."
        )
        % {"household": code.household, "code": digits},
    )
    return redirect("duties:gift_codes")
