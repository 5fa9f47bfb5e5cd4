"""Points pages: the rider's balance, history and leaderboard; the staff ledger, awards,
approvals, earning rules and leaderboard.

Views are thin: gate the account type (``core.pages.page``), read through selectors, write
through ``points.services``, and show a refusal on the form (400, or the service's 409) or as
the error page with the service's status (403/404). Forms that write carry a hidden idempotency
key made when the page is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.areas.selectors import areas_in_scope
from yizhan.core.errors import ApplicationError
from yizhan.core.masking import mask_name
from yizhan.core.pages import back, error_page, form_error, is_htmx, page, run_action
from yizhan.core.pagination import page_of
from yizhan.core.permissions import Action, can, get_for_user, scope_code
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.people.choices import RegistrationStatus
from yizhan.people.selectors import riders_for_user
from yizhan.points import forms, selectors, services
from yizhan.points.choices import AwardFlag, AwardStatus, SeasonKind
from yizhan.points.models import ManualAward, PointsSettings, Posting
from yizhan.points.seasons import ALL_TIME, area_levels

CONSOLE = tuple(CONSOLE_ROLES)


# --- shared helpers (the rewards pages use them too) -------------------------------------------


def streets_of(user: Any) -> QuerySet[Area]:
    """The streets a console account looks after: the one it works in, or those beneath it."""
    streets = Area.objects.filter(level=AreaLevel.STREET).order_by("code")
    if getattr(user, "is_superuser", False):
        return streets
    code = scope_code(user)
    if not code:
        return streets.none()
    if len(code) >= 9:
        return streets.filter(code=code[:9])
    return streets.filter(code__startswith=code)


def chosen_street(streets: QuerySet[Area], code: str | None) -> Area | None:
    """The street asked for (``?street=``) when it is on offer, else the first one."""
    listed = list(streets)
    for street in listed:
        if street.code == code:
            return street
    return listed[0] if listed else None


def refusal(
    request: HttpRequest,
    form: Any,
    exc: ApplicationError,
    draw: Callable[[int], HttpResponse],
) -> HttpResponse:
    """A service refused a form: what the user may not do (403/404) is the error page; anything
    they can correct is shown on the form, with the service's status (400, 409)."""
    if exc.status in (401, 403, 404):
        return error_page(request, exc)
    form_error(form, exc)
    return draw(exc.status)


def season_label(season: str) -> str:
    """``m2026-05`` → 2026-05, ``q2026-2`` → 2026 Q2, ``y2026`` → 2026, ``all`` → All time."""
    if season == ALL_TIME:
        return _("All time")
    if season.startswith("q"):
        year, quarter = season[1:].split("-")
        return _("%(year)s Q%(quarter)s") % {"year": year, "quarter": quarter}
    return season[1:]


def _source_label(source_type: str) -> str:
    """What a posting came from, in words (the model's name; no import of the app above)."""
    if not source_type:
        return ""
    try:
        model = apps.get_model(source_type)
    except (LookupError, ValueError):
        return source_type
    return capfirst(model._meta.verbose_name)


def _with_labels(postings: Iterable[Posting]) -> list[Posting]:
    rows = list(postings)
    for posting in rows:
        posting.source_label = _source_label(posting.source_type)
    return rows


# --- the rider's pages -------------------------------------------------------------------------


def _street_code(user: Any) -> str:
    code = getattr(user, "area_code", "") or ""
    return code[:9] if len(code) >= 9 else ""


@page(Role.RIDER)
def rider_points(request: HttpRequest) -> HttpResponse:
    user = request.user
    account = selectors.account_of(user)
    street = _street_code(user)
    history = page_of(selectors.history_of(user), request)
    history.object_list = _with_labels(history.object_list)
    ranks = {}
    if street:
        for kind in (SeasonKind.MONTH, SeasonKind.ALL):
            season = selectors.current_season(kind)
            ranks[kind] = selectors.rank_of(account, season=season, area_code=street)
    context = {
        "balance": account.balance if account is not None else 0,
        "expiring": selectors.expiring_soon(user),
        "rank_month": ranks.get(SeasonKind.MONTH),
        "rank_all": ranks.get(SeasonKind.ALL),
        "street": Area.objects.filter(code=street).first() if street else None,
        "page": history,
    }
    return render(request, "points/rider_points.html", context)


def _board(
    request: HttpRequest,
    *,
    areas: list[tuple[str, str]],
    default_area: str,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A leaderboard page's common part: the selectors, the season, the ranked page."""
    form = forms.LeaderboardForm(
        request.GET or None,
        areas=areas,
        initial={"season": SeasonKind.MONTH, "area": default_area},
    )
    kind, area_code = form.choice(default_area)
    season = selectors.current_season(kind)
    board = page_of(selectors.leaderboard(season=season, area_code=area_code), request)
    board.object_list = list(board.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "form": form,
        "season": season,
        "season_name": season_label(season),
        "area_code": area_code,
        "area_name": (names or dict(areas)).get(area_code, "").strip(),
        "page": board,
        "first_rank": board.start_index(),
        "query": query.urlencode(),
    }


@page(Role.RIDER)
def leaderboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    levels = area_levels(getattr(user, "area_code", "") or "")[1:]  # street, community, grid
    names = dict(Area.objects.filter(code__in=levels).values_list("code", "name"))
    labels = {9: _("My street"), 12: _("My community"), 15: _("My grid")}
    areas = [
        (code, f"{labels[len(code)]} · {names[code]}") for code in reversed(levels) if code in names
    ]
    default = levels[0] if levels else ""
    context = _board(request, areas=areas, default_area=default, names=names)
    account = selectors.account_of(user)
    for row in context["page"].object_list:
        owner = row.member.owner
        row.mine = account is not None and row.member_id == account.pk
        name = owner.name if owner is not None else ""
        row.display_name = name if row.mine else mask_name(name)
    context["my_rank"] = selectors.rank_of(
        account, season=context["season"], area_code=context["area_code"]
    )
    return render(request, "points/leaderboard.html", context)


# --- the staff console: the ledger ---------------------------------------------------------------


@page(*CONSOLE)
def ledger(request: HttpRequest) -> HttpResponse:
    filters = forms.LedgerFilterForm(request.GET or None)
    wanted = filters.filters() if request.GET else {}
    rows = selectors.postings_for_user(request.user, **wanted).select_related("reversed_by")
    postings = page_of(rows, request)
    postings.object_list = _with_labels(postings.object_list)
    for posting in postings.object_list:
        posting.reverse_key = forms.new_key()
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "points/console/ledger.html",
        {"page": postings, "filters": filters, "query": query.urlencode()},
    )


@page(*CONSOLE)
@require_POST
def posting_reverse(request: HttpRequest, posting_id: int) -> HttpResponse:
    posting = get_for_user(
        Posting.objects.select_related("member__owner"), request.user, Action.OPERATE, pk=posting_id
    )
    form = forms.ReverseForm(request.POST)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    refused = run_action(
        request,
        lambda: services.points_reverse(
            posting=posting,
            actor=request.user,
            reason=data.get("reason", ""),
            idempotency_key=data.get("idempotency_key", ""),
        ),
        success=_("%(n)s points of %(name)s were reversed.")
        % {"n": posting.amount, "name": posting.member},
    )
    if refused:
        return refused
    if is_htmx(request):
        return render(request, "points/console/reversed.html", {"posting": posting})
    return back(request, reverse("points:ledger"))


# --- the staff console: awards and approvals -------------------------------------------------


def _thresholds(streets: Iterable[Area]) -> list[tuple[Area, int]]:
    """Each street's second-approval threshold (the default where none was set yet)."""
    streets = list(streets)
    found = {
        s.street_id: s.approval_threshold for s in PointsSettings.objects.filter(street__in=streets)
    }
    default = PointsSettings._meta.get_field("approval_threshold").default
    return [(street, found.get(street.pk, default)) for street in streets]


@page(*CONSOLE)
def award(request: HttpRequest) -> HttpResponse:
    riders = riders_for_user(
        request.user, status=RegistrationStatus.VERIFIED, action=Action.OPERATE
    ).order_by("user__name", "id")
    form = forms.AwardForm(
        request.POST or None,
        riders=riders,
        initial={"idempotency_key": forms.new_key(), "rider": request.GET.get("rider")},
    )

    def draw(status: int = 200) -> HttpResponse:
        context = {"form": form, "thresholds": _thresholds(streets_of(request.user))}
        return render(request, "points/console/award.html", context, status=status)

    if request.method != "POST":
        return draw()
    if not form.is_valid():
        return draw(400)
    data = form.cleaned_data
    rider = data["rider"]
    try:
        made = services.points_award(
            member=rider.user,
            amount=data["amount"],
            reason=data["reason"],
            evidence=data["evidence"],
            actor=request.user,
            idempotency_key=data["idempotency_key"],
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    if made.status == AwardStatus.HELD:
        messages.warning(
            request,
            _(
                "%(n)s points for %(name)s are held for review (%(why)s): they are paid only "
                "when another staff member releases them in the review queue."
            )
            % {
                "n": made.amount,
                "name": rider.user.name,
                "why": ", ".join(str(AwardFlag(f).label) for f in made.flags),
            },
        )
    elif made.status == AwardStatus.PENDING:
        messages.info(
            request,
            _(
                "%(n)s points for %(name)s wait for a second staff member's approval "
                "(above the street's threshold)."
            )
            % {"n": made.amount, "name": rider.user.name},
        )
    else:
        messages.success(
            request, _("%(name)s received %(n)s points.") % {"n": made.amount, "name": rider.user}
        )
    return redirect("points:award")


@page(*CONSOLE)
def approvals(request: HttpRequest) -> HttpResponse:
    awards = page_of(selectors.pending_awards(request.user), request)
    return render(
        request,
        "points/console/approvals.html",
        {"page": awards, "note_form": forms.DecisionNoteForm()},
    )


def _award_for(request: HttpRequest, award_id: int) -> ManualAward:
    return get_for_user(
        ManualAward.objects.select_related("member__owner", "requested_by"),
        request.user,
        Action.OPERATE,
        pk=award_id,
    )


def _award_answer(request: HttpRequest, award: ManualAward) -> HttpResponse:
    if is_htmx(request):
        award.refresh_from_db()
        return render(request, "points/console/award_done.html", {"award": award})
    return back(request, reverse("points:approvals"))


@page(*CONSOLE)
@require_POST
def award_approve(request: HttpRequest, award_id: int) -> HttpResponse:
    award = _award_for(request, award_id)
    refused = run_action(
        request,
        lambda: services.points_award_approve(award=award, actor=request.user),
        success=_("%(name)s received %(n)s points.") % {"name": award.member, "n": award.amount},
    )
    return refused or _award_answer(request, award)


@page(*CONSOLE)
@require_POST
def award_reject(request: HttpRequest, award_id: int) -> HttpResponse:
    award = _award_for(request, award_id)
    form = forms.DecisionNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    refused = run_action(
        request,
        lambda: services.points_award_reject(award=award, actor=request.user, note=note),
        success=_("The award was turned down."),
    )
    return refused or _award_answer(request, award)


# --- the staff console: earning rules and settings ---------------------------------------------


def _rules_page(
    request: HttpRequest,
    *,
    streets: QuerySet[Area],
    street: Area | None,
    rule_form: forms.RuleForm | None = None,
    settings_form: forms.SettingsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {"streets": list(streets), "street": street}
    if street is not None:
        settings = PointsSettings.objects.filter(street=street).first() or PointsSettings(
            street=street
        )
        rules = list(selectors.rules_of(street))
        if rule_form is None:
            wanted = {"street": street.code, "is_active": True}
            for rule in rules:
                if rule.activity == request.GET.get("activity") and rule.category == (
                    request.GET.get("category") or ""
                ):
                    wanted.update(
                        activity=rule.activity,
                        category=rule.category,
                        points=rule.points,
                        daily_cap=rule.daily_cap,
                        weekly_cap=rule.weekly_cap,
                        is_active=rule.is_active,
                    )
            rule_form = forms.RuleForm(streets=streets, initial=wanted)
        if settings_form is None:
            settings_form = forms.SettingsForm(
                streets=streets,
                initial={
                    "street": street.code,
                    "approval_threshold": settings.approval_threshold,
                    "expiry_enabled": settings.expiry_enabled,
                    "expiry_month": settings.expiry_month,
                    "expiry_day": settings.expiry_day,
                    **{name: getattr(settings, name) for name in services.REVIEW_FIELDS},
                },
            )
        context.update(
            settings=settings,
            rules=rules,
            rule_form=rule_form,
            settings_form=settings_form,
            can_configure=can(request.user, Action.CONFIGURE, street),
            next_expiry=services.expiry_date(settings, timezone.localdate().year - 1)
            if settings.expiry_enabled
            else None,
        )
    return render(request, "points/console/rules.html", context, status=status)


@page(*CONSOLE)
def rules(request: HttpRequest) -> HttpResponse:
    streets = streets_of(request.user)
    if request.method != "POST":
        street = chosen_street(streets, request.GET.get("street"))
        return _rules_page(request, streets=streets, street=street)
    form = forms.RuleForm(request.POST, streets=streets)
    if not form.is_valid():
        street = chosen_street(streets, request.POST.get("street"))
        return _rules_page(request, streets=streets, street=street, rule_form=form, status=400)
    data = form.cleaned_data
    street = data.pop("street")
    try:
        rule = services.earning_rule_set(street=street, actor=request.user, **data)
    except ApplicationError as exc:
        return refusal(
            request,
            form,
            exc,
            lambda status: _rules_page(
                request, streets=streets, street=street, rule_form=form, status=status
            ),
        )
    messages.success(
        request,
        _("%(rule)s now pays %(n)s points.") % {"rule": rule, "n": rule.points},
    )
    return redirect(f"{reverse('points:rules')}?street={street.code}")


@page(*CONSOLE)
@require_POST
def settings_update(request: HttpRequest) -> HttpResponse:
    streets = streets_of(request.user)
    form = forms.SettingsForm(request.POST, streets=streets)
    if not form.is_valid():
        street = chosen_street(streets, request.POST.get("street"))
        return _rules_page(request, streets=streets, street=street, settings_form=form, status=400)
    data = form.cleaned_data
    street = data.pop("street")
    try:
        services.points_settings_update(street=street, actor=request.user, **data)
    except ApplicationError as exc:
        return refusal(
            request,
            form,
            exc,
            lambda status: _rules_page(
                request, streets=streets, street=street, settings_form=form, status=status
            ),
        )
    messages.success(
        request, _("The points settings of %(street)s were saved.") % {"street": street}
    )
    return redirect(f"{reverse('points:rules')}?street={street.code}")


# --- the staff console: leaderboard --------------------------------------------------------------


@page(*CONSOLE)
def console_leaderboard(request: HttpRequest) -> HttpResponse:
    indent = {12: "\u3000", 15: "\u3000\u3000"}
    areas = [(a.code, indent.get(len(a.code), "") + a.name) for a in areas_in_scope(request.user)]
    mine = scope_code(request.user)
    codes = [code for code, _label in areas]
    default = mine if mine in codes else (codes[0] if codes else "")
    context = _board(request, areas=areas, default_area=default)
    for row in context["page"].object_list:
        owner = row.member.owner
        row.display_name = owner.name if owner is not None else _("(deleted account)")
        row.mine = False
    context["console"] = True
    return render(request, "points/leaderboard.html", context)
