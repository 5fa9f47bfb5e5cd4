"""Points-shop pages (积分超市): the rider's catalogue, reservations and pickup codes; the staff
catalogue, stock, priority windows and the pickup counter.

Views are thin: gate the account type (``core.pages.page``), read through
``rewards.selectors`` (the permission layer), write through ``rewards.services``, and show a
refusal on the form (400, or the service's 409) or as the error page with the service's
status. A reserve form carries a hidden idempotency key made when the page is drawn, so a double
tap reserves once.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.areas.models import Area
from yizhan.core import ratelimit
from yizhan.core.errors import ApplicationError
from yizhan.core.pages import error_page, form_error, page, run_action
from yizhan.core.pagination import page_of
from yizhan.core.permissions import Action, can, get_for_user, restrict
from yizhan.core.qr import qr_svg
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.points import selectors as points_selectors
from yizhan.points.forms import new_key
from yizhan.points.services import street_of
from yizhan.points.views import chosen_street, refusal, season_label, streets_of
from yizhan.rewards import forms, selectors, services
from yizhan.rewards.choices import COUNTED_STATUSES, RedemptionStatus
from yizhan.rewards.models import PriorityWindow, Redemption, Reward, Stock, StockChange
from yizhan.stations.models import Station

CONSOLE = tuple(CONSOLE_ROLES)


# --- the rider's pages -------------------------------------------------------------------------


@page(Role.RIDER)
def shop(request: HttpRequest) -> HttpResponse:
    user = request.user
    street = street_of(user)
    balance = points_selectors.balance_of(user)
    rewards = page_of(selectors.catalogue(street, on_offer=True), request)
    rewards.object_list = list(rewards.object_list)
    taken = dict(
        Redemption.objects.filter(
            user=user, reward__in=rewards.object_list, status__in=COUNTED_STATUSES
        )
        .values_list("reward")
        .annotate(n=Count("id"))
        .values_list("reward", "n")
    )
    windows = selectors.open_windows_ranked(street, user)
    for window in windows:
        window.season_name = season_label(window.season)
    now = timezone.now()
    for reward in rewards.object_list:
        reward.taken = taken.get(reward.pk, 0)
        reward.limit_reached = (
            reward.per_rider_limit is not None and reward.taken >= reward.per_rider_limit
        )
        reward.not_yet = reward.available_from is not None and reward.available_from > now
        reward.short_by = max(0, reward.cost - balance)
        applying = [w for w in windows if w.reward_id in (None, reward.pk)]
        reward.kept_out = next((w for w in applying if not any(a.admits for a in applying)), None)
        reward.can_reserve = not (
            reward.limit_reached or reward.not_yet or reward.short_by or reward.kept_out
        )
        reward.in_stock = any(row.available for row in reward.rows)
        for row in reward.rows:
            row.key = new_key()
    context = {
        "street": street,
        "balance": balance,
        "page": rewards,
        "windows": windows,
    }
    return render(request, "rewards/shop.html", context)


@page(Role.RIDER)
@require_POST
def reserve(request: HttpRequest, reward_id: int) -> HttpResponse:
    user = request.user
    street = street_of(user)
    # Only my street's catalogue: another street's reward is not there to see.
    reward = get_for_user(Reward.objects.filter(street=street), user, pk=reward_id)
    stations = Station.objects.filter(area_code__startswith=reward.area_code)
    form = forms.ReserveForm(request.POST, stations=stations)
    if not form.is_valid():
        return error_page(
            request,
            ApplicationError(
                _("Please choose a station of your street that has it."), field="station"
            ),
        )
    station = form.cleaned_data["station"]
    try:
        ratelimit.hit_request(
            "redemption",
            request,
            replay=("rewards.reserve", form.cleaned_data["idempotency_key"]),
        )
        redemption = services.redemption_reserve(
            user=user,
            reward=reward,
            station=station,
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except ApplicationError as exc:
        return error_page(request, exc)
    messages.success(
        request,
        _("%(reward)s is reserved for you. Show code %(code)s at %(station)s before %(when)s.")
        % {
            "reward": redemption.reward,
            "code": redemption.pickup_code,
            "station": redemption.station,
            "when": f"{timezone.localtime(redemption.expires_at):%Y-%m-%d %H:%M}",
        },
    )
    return redirect("rewards:redemptions")


@page(Role.RIDER)
def redemptions(request: HttpRequest) -> HttpResponse:
    mine = selectors.my_redemptions(request.user)
    held = list(mine.filter(status=RedemptionStatus.HELD).order_by("expires_at", "id"))
    for redemption in held:
        redemption.qr = qr_svg(redemption.qr_payload)
    closed = page_of(
        mine.exclude(status=RedemptionStatus.HELD).order_by("-closed_at", "-id"), request
    )
    return render(
        request,
        "rewards/redemptions.html",
        {"held": held, "page": closed, "balance": points_selectors.balance_of(request.user)},
    )


@page(Role.RIDER)
@require_POST
def cancel(request: HttpRequest, redemption_id: int) -> HttpResponse:
    redemption = get_for_user(
        Redemption.objects.select_related("reward"), request.user, pk=redemption_id
    )
    refused = run_action(
        request,
        lambda: services.redemption_cancel(redemption=redemption, actor=request.user),
        success=_("Your reservation of %(reward)s was cancelled; the points are back.")
        % {"reward": redemption.reward},
    )
    return refused or redirect("rewards:redemptions")


# --- the staff console: catalogue, stock, windows ------------------------------------------------


def _window_form(street: Area, data: Any = None) -> forms.WindowForm:
    now = timezone.localtime().replace(second=0, microsecond=0)
    return forms.WindowForm(
        data,
        areas=Area.objects.filter(code__startswith=street.code).order_by("code"),
        rewards=Reward.objects.filter(street=street).order_by("name"),
        initial={"ranking_area": street.pk, "season_kind": "month", "opens_at": now},
    )


def _catalogue_page(
    request: HttpRequest,
    *,
    streets: QuerySet[Area],
    street: Area | None,
    reward_form: forms.RewardForm | None = None,
    window_form: forms.WindowForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {"streets": list(streets), "street": street}
    if street is not None:
        rewards = page_of(selectors.catalogue(street, on_offer=False), request)
        windows = list(
            PriorityWindow.objects.filter(street=street)
            .select_related("reward", "ranking_area")
            .order_by("-opens_at", "-id")[:10]
        )
        for window in windows:
            window.season_name = season_label(window.season)
        context.update(
            page=rewards,
            windows=windows,
            now=timezone.now(),
            can_operate=can(request.user, Action.OPERATE, street),
            reward_form=reward_form or forms.RewardForm(),
            window_form=window_form or _window_form(street),
            query=f"street={street.code}",
        )
    return render(request, "rewards/console/catalogue.html", context, status=status)


def _posted_street(request: HttpRequest, streets: QuerySet[Area]) -> Area | None:
    code = request.POST.get("street")
    return next((s for s in streets if s.code == code), None)


def _no_street(request: HttpRequest) -> HttpResponse:
    return error_page(
        request,
        ApplicationError(_("Please choose a street you look after."), field="street"),
    )


@page(*CONSOLE)
def catalogue(request: HttpRequest) -> HttpResponse:
    streets = streets_of(request.user)
    if request.method != "POST":
        street = chosen_street(streets, request.GET.get("street"))
        return _catalogue_page(request, streets=streets, street=street)
    street = _posted_street(request, streets)
    if street is None:
        return _no_street(request)
    form = forms.RewardForm(request.POST, request.FILES)

    def draw(status: int) -> HttpResponse:
        return _catalogue_page(
            request, streets=streets, street=street, reward_form=form, status=status
        )

    if not form.is_valid():
        return draw(400)
    try:
        reward = services.reward_create(street=street, actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("%(reward)s was added to the catalogue.") % {"reward": reward})
    return redirect("rewards:reward_detail", reward_id=reward.pk)


@page(*CONSOLE)
@require_POST
def window_create(request: HttpRequest) -> HttpResponse:
    streets = streets_of(request.user)
    street = _posted_street(request, streets)
    if street is None:
        return _no_street(request)
    form = _window_form(street, request.POST)

    def draw(status: int) -> HttpResponse:
        return _catalogue_page(
            request, streets=streets, street=street, window_form=form, status=status
        )

    if not form.is_valid():
        return draw(400)
    try:
        window = services.window_create(street=street, actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(
        request,
        _("%(window)s: open to the top %(n)s from %(opens)s.")
        % {
            "window": window,
            "n": window.top_n,
            "opens": f"{timezone.localtime(window.opens_at):%Y-%m-%d %H:%M}",
        },
    )
    return redirect(f"{reverse('rewards:catalogue')}?street={street.code}")


def _reward_for(request: HttpRequest, reward_id: int) -> Reward:
    return get_for_user(Reward.objects.select_related("street"), request.user, pk=reward_id)


def _detail_page(
    request: HttpRequest,
    reward: Reward,
    *,
    edit_form: forms.RewardUpdateForm | None = None,
    stock_form: forms.StockForm | None = None,
    status: int = 200,
) -> HttpResponse:
    stations = selectors.stations_to_stock(request.user, reward)
    if edit_form is None:
        edit_form = forms.RewardUpdateForm(
            initial={
                name: getattr(reward, name)
                for name in forms.RewardUpdateForm.base_fields
                if hasattr(reward, name)
            }
        )
    context = {
        "reward": reward,
        "rows": Stock.objects.filter(reward=reward)
        .select_related("station")
        .order_by("station__name", "id"),
        "changes": restrict(StockChange.objects.all(), request.user)
        .filter(stock__reward=reward)
        .select_related("stock__station", "actor")[:30],
        "can_operate": can(request.user, Action.OPERATE, reward),
        "edit_form": edit_form,
        "stock_form": stock_form or forms.StockForm(stations=stations),
        "can_stock": stations.exists(),
    }
    return render(request, "rewards/console/reward_detail.html", context, status=status)


@page(*CONSOLE)
def reward_detail(request: HttpRequest, reward_id: int) -> HttpResponse:
    reward = _reward_for(request, reward_id)
    if request.method != "POST":
        return _detail_page(request, reward)
    form = forms.RewardUpdateForm(request.POST)

    def draw(status: int) -> HttpResponse:
        return _detail_page(request, reward, edit_form=form, status=status)

    if not form.is_valid():
        return draw(400)
    try:
        reward = services.reward_update(reward=reward, actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("%(reward)s was saved.") % {"reward": reward})
    return redirect("rewards:reward_detail", reward_id=reward.pk)


@page(*CONSOLE)
@require_POST
def stock_change(request: HttpRequest, reward_id: int) -> HttpResponse:
    reward = _reward_for(request, reward_id)
    form = forms.StockForm(request.POST, stations=selectors.stations_to_stock(request.user, reward))

    def draw(status: int) -> HttpResponse:
        return _detail_page(request, reward, stock_form=form, status=status)

    if not form.is_valid():
        return draw(400)
    try:
        row = services.stock_change(reward=reward, actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(
        request,
        _("%(station)s now has %(n)s of %(reward)s available.")
        % {"station": row.station, "n": row.available, "reward": reward},
    )
    return redirect("rewards:reward_detail", reward_id=reward.pk)


# --- the staff console: the pickup counter -------------------------------------------------------


@page(*CONSOLE)
def pickup(request: HttpRequest) -> HttpResponse:
    user = request.user
    stations = selectors.counter_stations(user)
    listed = list(stations)
    wanted = request.POST.get("station") or request.GET.get("station")
    station = next((s for s in listed if str(s.pk) == wanted), None)
    if station is None and len(listed) == 1:
        station = listed[0]
    form = forms.PickupForm(request.POST or None, stations=stations, initial={"station": station})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                done = services.redemption_fulfil(
                    station=form.cleaned_data["station"],
                    code=form.cleaned_data["code"],
                    actor=user,
                )
            except ApplicationError as exc:
                if exc.status in (401, 403):
                    return error_page(request, exc)
                form_error(form, exc)  # used, expired, another station's, unknown: say which
                status = exc.status
            else:
                rider = done.user
                messages.success(
                    request,
                    _("Hand over %(reward)s to %(name)s (%(phone)s). The points are spent.")
                    % {
                        "reward": done.reward,
                        "name": rider.name if rider else "—",
                        "phone": rider.phone_masked if rider else "—",
                    },
                )
                return redirect(f"{reverse('rewards:pickup')}?station={done.station_id}")
    held = page_of(selectors.held_at(user, station), request)
    return render(
        request,
        "rewards/console/pickup.html",
        {
            "form": form,
            "station": station,
            "stations": listed,
            "page": held,
            "now": timezone.now(),
            "query": f"station={station.pk}" if station else "",
        },
        status=status,
    )
