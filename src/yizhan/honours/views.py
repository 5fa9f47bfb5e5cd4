"""Honours pages: the public honour roll (no login), the rider's own honours, and the staff
console — titles, the nomination screen with each candidate's record, pending approvals.

Views are thin: gate the account type (``core.pages.page``), read through
``honours.selectors`` (the permission layer), write through ``honours.services``, and show a
refusal on the form (400, or the service's 409) or as the error page with the service's status.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.errors import ApplicationError, NotFound
from yizhan.core.masking import mask_name
from yizhan.core.pages import error_page, page, run_action
from yizhan.core.pagination import page_of
from yizhan.core.permissions import Action, can, get_for_user, restrict
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.honours import forms, selectors, services
from yizhan.honours.models import Nomination, Title
from yizhan.people.models import RiderProfile
from yizhan.points.views import chosen_street, refusal, streets_of

CONSOLE = tuple(CONSOLE_ROLES)


# --- public: the honour roll -------------------------------------------------------------------


@page(login=False)
def roll_index(request: HttpRequest) -> HttpResponse:
    """The streets whose honour roll has names on it."""
    codes = selectors.honour_roll().order_by().values("title__area_code").distinct()
    streets = page_of(
        Area.objects.filter(level=AreaLevel.STREET, code__in=codes).order_by("code"), request
    )
    return render(request, "honours/roll_index.html", {"page": streets})


@page(login=False)
def roll(request: HttpRequest, street: str) -> HttpResponse:
    """A street's honour roll: title, the rider's masked name and community; never a phone."""
    found = Area.objects.filter(level=AreaLevel.STREET, code=street).first()
    if found is None:
        raise NotFound(_("No street has this code."))
    rows = page_of(selectors.honour_roll(street_code=found.code), request, per_page=50)
    rows.object_list = list(rows.object_list)
    for row in rows.object_list:
        row.display_name = mask_name(row.rider.user.name or "")
    return render(request, "honours/roll.html", {"street": found, "page": rows})


# --- the rider's own -----------------------------------------------------------------------------


@page(Role.RIDER)
def mine(request: HttpRequest) -> HttpResponse:
    honours = page_of(selectors.my_honours(request.user), request)
    return render(request, "honours/mine.html", {"page": honours})


# --- the console: titles -------------------------------------------------------------------------


def _titles_page(
    request: HttpRequest, *, street: Area | None, form: Any = None, status: int = 200
) -> HttpResponse:
    streets = list(streets_of(request.user))
    context: dict[str, Any] = {"streets": streets, "street": street}
    if street is not None:
        context.update(
            page=page_of(selectors.titles(street_code=street.code), request),
            can_configure=can(request.user, Action.CONFIGURE, street),
            form=form or forms.TitleForm(),
            query=f"street={street.code}",
        )
    return render(request, "honours/console/titles.html", context, status=status)


@page(*CONSOLE)
def titles(request: HttpRequest) -> HttpResponse:
    streets = streets_of(request.user)
    if request.method != "POST":
        return _titles_page(request, street=chosen_street(streets, request.GET.get("street")))
    code = request.POST.get("street")
    street = next((s for s in streets if s.code == code), None)
    if street is None:
        return error_page(
            request, ApplicationError(_("Please choose a street you look after."), field="street")
        )
    form = forms.TitleForm(request.POST)

    def draw(status: int) -> HttpResponse:
        return _titles_page(request, street=street, form=form, status=status)

    if not form.is_valid():
        return draw(400)
    try:
        title = services.title_create(street=street, actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("The title %(title)s was created.") % {"title": title})
    return redirect("honours:title", title_id=title.pk)


# --- the console: the nomination screen ---------------------------------------------------------


def _nominatable(request: HttpRequest) -> Any:
    return restrict(RiderProfile.objects.all(), request.user).select_related("user")


def _title_page(
    request: HttpRequest, title: Title, *, form: Any = None, status: int = 200
) -> HttpResponse:
    q = request.GET.get("q", "")
    candidates = page_of(selectors.candidates(request.user, title, q=q), request)
    candidates.object_list = list(candidates.object_list)
    nominated = selectors.nominated_on(title, candidates.object_list)
    for rider in candidates.object_list:
        rider.record = selectors.record_dict(rider)
        rider.nomination = nominated.get(rider.pk)
    nominations = list(selectors.nominations_for_user(request.user, title=title)[:100])
    context = {
        "title": title,
        "page": candidates,
        "nominations": nominations,
        "record_keys": selectors.RECORD_KEYS,
        "form": form,
        "q": q,
        "query": f"q={q}" if q else "",
        "places_left": max(0, title.quota - title.taken),
        "can_decide": can(request.user, Action.CONFIGURE, title),
    }
    return render(request, "honours/console/title.html", context, status=status)


def _title_for(request: HttpRequest, title_id: int) -> Title:
    return get_for_user(selectors.titles(), request.user, pk=title_id)


@page(*CONSOLE)
def title(request: HttpRequest, title_id: int) -> HttpResponse:
    return _title_page(request, _title_for(request, title_id))


@page(*CONSOLE)
@require_POST
def nominate(request: HttpRequest, title_id: int) -> HttpResponse:
    found = _title_for(request, title_id)
    form = forms.NominationForm(request.POST, riders=_nominatable(request))

    def draw(status: int) -> HttpResponse:
        return _title_page(request, found, form=form, status=status)

    if not form.is_valid():
        return draw(400)
    try:
        nomination = services.nomination_create(
            title=found,
            rider=form.cleaned_data["rider"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except ApplicationError as exc:
        if exc.status == 403:  # a rider outside one's area: say so on the form
            exc.status = 400
        return refusal(request, form, exc, draw)
    messages.success(
        request,
        _("%(rider)s is nominated for %(title)s; the street's admins decide.")
        % {"rider": nomination.rider, "title": found},
    )
    return redirect("honours:title", title_id=found.pk)


# --- the console: approvals ----------------------------------------------------------------------


@page(*CONSOLE)
def approvals(request: HttpRequest) -> HttpResponse:
    pending = page_of(selectors.pending_approvals(request.user), request)
    return render(
        request,
        "honours/console/approvals.html",
        {"page": pending, "reject_form": forms.RejectForm()},
    )


def _nomination_for(request: HttpRequest, nomination_id: int) -> Nomination:
    return get_for_user(
        selectors.nominations_for_user(request.user), request.user, pk=nomination_id
    )


@page(*CONSOLE)
@require_POST
def approve(request: HttpRequest, nomination_id: int) -> HttpResponse:
    nomination = _nomination_for(request, nomination_id)
    refused = run_action(
        request,
        lambda: services.nomination_approve(nomination=nomination, actor=request.user),
        success=_("%(rider)s now holds %(title)s.")
        % {"rider": nomination.rider, "title": nomination.title},
    )
    return refused or redirect(reverse("honours:approvals"))


@page(*CONSOLE)
@require_POST
def reject(request: HttpRequest, nomination_id: int) -> HttpResponse:
    nomination = _nomination_for(request, nomination_id)
    form = forms.RejectForm(request.POST)
    if not form.is_valid():
        return error_page(
            request,
            ApplicationError(_("Please give the reason for the rejection."), field="reason"),
        )
    refused = run_action(
        request,
        lambda: services.nomination_reject(
            nomination=nomination, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        success=_("The nomination of %(rider)s was rejected.") % {"rider": nomination.rider},
    )
    return refused or redirect(reverse("honours:approvals"))
