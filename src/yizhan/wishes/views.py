"""Micro-wish pages: the public wall, the rider's wishes, the claimers' pages and the staff
console.

Views are thin: gate the account type (``core.pages.page``), read through
``wishes.selectors``, write through ``wishes.services``; a refusal is shown on the form (400,
or the service's 409) or as the error page with the service's status. The post form carries a
hidden idempotency key made when the page is drawn, so a double tap posts once.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.core.errors import ApplicationError, Forbidden
from yizhan.core.pages import page, run_action
from yizhan.core.pagination import page_of
from yizhan.core.permissions import Action, is_console_user
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.points.forms import new_key
from yizhan.points.views import refusal
from yizhan.wishes import forms, selectors, services
from yizhan.wishes.choices import OPEN_STATUSES, ClaimStatus, PointsStatus, WishStatus
from yizhan.wishes.models import Wish

CONSOLE = tuple(CONSOLE_ROLES)
CLAIMERS = selectors.CLAIMER_ROLES


# --- the public wall ---------------------------------------------------------------------------


@page(login=False)
def wall(request: HttpRequest) -> HttpResponse:
    code = (request.GET.get("community") or "").strip()
    if code:
        return redirect("wishes:wall_community", code=code[:32])
    communities = page_of(selectors.wall_communities(), request)
    return render(request, "wishes/wall.html", {"page": communities, "form": forms.WallForm()})


@page(login=False)
def wall_community(request: HttpRequest, code: str) -> HttpResponse:
    community = services.community_of(code)
    wishes = page_of(selectors.wall(community), request)
    return render(request, "wishes/wall_community.html", {"community": community, "page": wishes})


# --- the rider ---------------------------------------------------------------------------------


@page(Role.RIDER)
def mine(request: HttpRequest) -> HttpResponse:
    wishes = selectors.my_wishes(request.user)
    open_count = wishes.filter(status__in=OPEN_STATUSES).count()
    return render(
        request,
        "wishes/mine.html",
        {
            "page": page_of(wishes, request),
            "open_count": open_count,
            "max_open": services.max_open(),
        },
    )


def _new_page(request: HttpRequest, form: forms.WishForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "wishes/new.html",
        {"form": form, "max_open": services.max_open()},
        status=status,
    )


@page(Role.RIDER)
def new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _new_page(request, forms.WishForm(initial={"idempotency_key": new_key()}))
    form = forms.WishForm(request.POST, request.FILES)
    if not form.is_valid():
        return _new_page(request, form, 400)
    data = form.cleaned_data
    try:
        wish = services.wish_post(
            rider=request.user,
            category=data["category"],
            text=data["text"],
            photo=data.get("photo"),
            idempotency_key=data["idempotency_key"],
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, lambda status: _new_page(request, form, status))
    messages.success(request, _("Your wish was sent: your community's staff will look at it."))
    return redirect("wishes:detail", wish_id=wish.pk)


def _holds(wish: Wish, user: Any) -> bool:
    claim = wish.current_claim
    return claim is not None and claim.claimer_id == user.pk


@page()
def detail(request: HttpRequest, wish_id: int) -> HttpResponse:
    user = request.user
    wish = selectors.wish_for_user(user, wish_id)
    is_rider = wish.rider_id == user.pk
    holds = _holds(wish, user)
    context = {
        "wish": wish,
        "is_rider": is_rider,
        "holds": holds,
        "may_claim": services.may_claim(user) and wish.can_claim(),
        "show_private": is_rider or holds or is_console_user(user),
        "events": selectors.timeline(wish) if is_rider or is_console_user(user) else [],
        "WishStatus": WishStatus,
    }
    return render(request, "wishes/detail.html", context)


@page(Role.RIDER)
@require_POST
def withdraw(request: HttpRequest, wish_id: int) -> HttpResponse:
    wish = selectors.wish_for_user(request.user, wish_id)
    refused = run_action(
        request,
        lambda: services.wish_withdraw(wish=wish, actor=request.user),
        success=_("Your wish was withdrawn."),
    )
    return refused or redirect("wishes:mine")


@page(Role.RIDER)
@require_POST
def confirm(request: HttpRequest, wish_id: int) -> HttpResponse:
    wish = selectors.wish_for_user(request.user, wish_id)
    refused = run_action(
        request,
        lambda: services.wish_confirm(wish=wish, actor=request.user),
        success=_("Thank you for confirming: the person who fulfilled it will be told."),
    )
    return refused or redirect("wishes:detail", wish_id=wish.pk)


# --- claimers ----------------------------------------------------------------------------------


@page(*CLAIMERS)
def browse(request: HttpRequest) -> HttpResponse:
    wishes = selectors.claimable(request.user).order_by("created_at", "id")
    return render(request, "wishes/browse.html", {"page": page_of(wishes, request)})


@page(*CLAIMERS)
def claims(request: HttpRequest) -> HttpResponse:
    mine = selectors.my_claims(request.user)
    return render(request, "wishes/claims.html", {"page": page_of(mine, request)})


@page(*CLAIMERS)
@require_POST
def claim(request: HttpRequest, wish_id: int) -> HttpResponse:
    wish = selectors.wish_for_user(request.user, wish_id)
    refused = run_action(
        request,
        lambda: services.wish_claim(wish=wish, actor=request.user),
        success=_("You claimed this wish. Thank you! Mark it fulfilled when it is done."),
    )
    return refused or redirect("wishes:claims")


@page(*CLAIMERS)
@require_POST
def release(request: HttpRequest, wish_id: int) -> HttpResponse:
    wish = selectors.wish_for_user(request.user, wish_id)
    refused = run_action(
        request,
        lambda: services.wish_release(wish=wish, actor=request.user),
        success=_("You gave the wish back: someone else can claim it now."),
    )
    return refused or redirect("wishes:claims")


def _fulfil_page(
    request: HttpRequest, wish: Wish, form: forms.FulfilForm, status: int = 200
) -> HttpResponse:
    return render(request, "wishes/fulfil.html", {"wish": wish, "form": form}, status=status)


@page(*CLAIMERS)
def fulfil(request: HttpRequest, wish_id: int) -> HttpResponse:
    wish = selectors.wish_for_user(request.user, wish_id)
    if not _holds(wish, request.user) or wish.current_claim.status != ClaimStatus.ACTIVE:
        raise Forbidden(_("You did not claim this wish."), code="not_your_claim")
    if request.method != "POST":
        return _fulfil_page(request, wish, forms.FulfilForm())
    form = forms.FulfilForm(request.POST, request.FILES)
    if not form.is_valid():
        return _fulfil_page(request, wish, form, 400)
    try:
        services.wish_fulfil(
            wish=wish,
            actor=request.user,
            note=form.cleaned_data["note"],
            photo=form.cleaned_data.get("photo"),
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, lambda status: _fulfil_page(request, wish, form, status))
    messages.success(request, _("Marked fulfilled: the rider is asked to confirm."))
    return redirect("wishes:claims")


# --- the staff console -------------------------------------------------------------------------

TABS = {
    "queue": WishStatus.PENDING,
    "timed_out": WishStatus.TIMED_OUT,
    "held": None,
    "all": None,
}


@page(*CONSOLE)
def console(request: HttpRequest) -> HttpResponse:
    user = request.user
    show = request.GET.get("show", "queue")
    show = show if show in TABS else "queue"
    status = request.GET.get("status") or TABS[show]
    if show == "queue":
        wishes = selectors.approval_queue(user)
    else:
        wishes = selectors.filter_wishes(selectors.wishes_for_user(user), status=status)
        if show == "held":
            wishes = wishes.filter(points_status=PointsStatus.HELD)
    counts = {
        "queue": selectors.approval_queue(user).count(),
        "timed_out": selectors.wishes_for_user(user).filter(status=WishStatus.TIMED_OUT).count(),
    }
    return render(
        request,
        "wishes/console/list.html",
        {
            "page": page_of(wishes, request),
            "show": show,
            "status": status if show == "all" else "",
            "statuses": WishStatus.choices,
            "counts": counts,
            "query": f"show={show}" + (f"&status={status}" if show == "all" and status else ""),
        },
    )


def _console_page(
    request: HttpRequest,
    wish: Wish,
    *,
    reject_form: forms.RejectForm | None = None,
    note_form: forms.NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "wishes/console/detail.html",
        {
            "wish": wish,
            "events": selectors.timeline(wish),
            "claims": selectors.claims_of(wish),
            "reject_form": reject_form or forms.RejectForm(),
            "note_form": note_form or forms.NoteForm(),
            "PointsStatus": PointsStatus,
        },
        status=status,
    )


def _staff_wish(request: HttpRequest, wish_id: int) -> Wish:
    return selectors.wish_for_user(request.user, wish_id, Action.VIEW)


@page(*CONSOLE)
def console_detail(request: HttpRequest, wish_id: int) -> HttpResponse:
    return _console_page(request, _staff_wish(request, wish_id))


def _back(wish: Wish) -> HttpResponse:
    return redirect(reverse("wishes:console_detail", args=[wish.pk]))


@page(*CONSOLE)
@require_POST
def approve(request: HttpRequest, wish_id: int) -> HttpResponse:
    wish = _staff_wish(request, wish_id)
    refused = run_action(
        request,
        lambda: services.wish_approve(
            wish=wish, actor=request.user, note=request.POST.get("note", "")
        ),
        success=_("The wish is on the wall now."),
    )
    return refused or redirect(f"{reverse('wishes:console')}?show=queue")


def _with_form(request, wish, form, field, service, success, *, key: str) -> HttpResponse:
    if not form.is_valid():
        return _console_page(request, wish, **{key: form}, status=400)
    try:
        service(form.cleaned_data[field])
    except ApplicationError as exc:
        return refusal(
            request,
            form,
            exc,
            lambda status: _console_page(request, wish, **{key: form}, status=status),
        )
    messages.success(request, success)
    return _back(wish)


@page(*CONSOLE)
@require_POST
def reject(request: HttpRequest, wish_id: int) -> HttpResponse:
    wish = _staff_wish(request, wish_id)
    return _with_form(
        request,
        wish,
        forms.RejectForm(request.POST),
        "reason",
        lambda reason: services.wish_reject(wish=wish, actor=request.user, reason=reason),
        _("The wish was turned down; the rider is told why."),
        key="reject_form",
    )


@page(*CONSOLE)
@require_POST
def staff_confirm(request: HttpRequest, wish_id: int) -> HttpResponse:
    wish = _staff_wish(request, wish_id)
    refused = run_action(
        request,
        lambda: services.wish_confirm(
            wish=wish, actor=request.user, note=request.POST.get("note", "")
        ),
        success=_("The fulfilment is confirmed."),
    )
    return refused or _back(wish)


@page(*CONSOLE)
@require_POST
def reopen(request: HttpRequest, wish_id: int) -> HttpResponse:
    wish = _staff_wish(request, wish_id)
    return _with_form(
        request,
        wish,
        forms.NoteForm(request.POST),
        "note",
        lambda note: services.wish_reopen(wish=wish, actor=request.user, note=note),
        _("The wish is published again."),
        key="note_form",
    )


@page(*CONSOLE)
@require_POST
def points(request: HttpRequest, wish_id: int) -> HttpResponse:
    wish = _staff_wish(request, wish_id)
    refused = run_action(
        request,
        lambda: services.wish_points_pay(wish=wish, actor=request.user),
        success=_("The points were paid."),
    )
    return refused or _back(wish)
