"""Every read of the points shop a page or endpoint needs, through the permission layer."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from yizhan.areas.models import Area
from yizhan.core.permissions import Action, restrict
from yizhan.points import selectors as points_selectors
from yizhan.rewards.choices import RedemptionStatus
from yizhan.rewards.models import PriorityWindow, Redemption, Reward, Stock
from yizhan.stations.choices import StationStatus
from yizhan.stations.models import Station


def catalogue(street: Area, *, on_offer: bool) -> QuerySet[Reward]:
    """A street's rewards with their stock at each station (one query for all the stock)."""
    stock = Stock.objects.select_related("station").order_by("station__name", "id")
    rewards = Reward.objects.filter(street=street)
    if on_offer:
        now = timezone.now()
        rewards = rewards.filter(is_active=True).filter(
            Q(available_until__isnull=True) | Q(available_until__gt=now)
        )
        stock = stock.filter(station__status=StationStatus.OPEN)
    return rewards.prefetch_related(Prefetch("stock", queryset=stock, to_attr="rows")).order_by(
        "-is_active", "cost", "name", "id"
    )


def open_windows_ranked(street: Area, user: Any) -> list[PriorityWindow]:
    """The street's priority windows open now, each with the user's rank in its ranking."""
    now = timezone.now()
    windows = list(
        PriorityWindow.objects.filter(street=street, opens_at__lte=now, closes_at__gt=now)
        .select_related("ranking_area", "reward")
        .order_by("closes_at", "id")
    )
    account = points_selectors.account_of(user)
    for window in windows:
        window.my_rank = points_selectors.rank_of(
            account, season=window.season, area_code=window.ranking_area.code
        )
        window.admits = window.my_rank is not None and window.my_rank <= window.top_n
    return windows


def my_redemptions(user: Any) -> QuerySet[Redemption]:
    return (
        restrict(Redemption.objects.all(), user)
        .filter(user=user)
        .select_related("reward", "station")
    )


def stations_to_stock(user: Any, reward: Reward) -> QuerySet[Station]:
    """Stations of the reward's street where the user may change stock."""
    return (
        restrict(Station.objects.all(), user, Action.OPERATE)
        .filter(area_code__startswith=reward.area_code)
        .order_by("area_code", "name")
    )


def counter_stations(user: Any) -> QuerySet[Station]:
    """Stations where the user may hand rewards out."""
    return restrict(Station.objects.all(), user, Action.OPERATE).order_by("area_code", "name")


def held_at(user: Any, station: Station | None) -> QuerySet[Redemption]:
    rows = (
        restrict(Redemption.objects.all(), user, Action.OPERATE)
        .filter(status=RedemptionStatus.HELD)
        .select_related("reward", "station", "user")
        .order_by("expires_at", "id")
    )
    return rows.filter(station=station) if station is not None else rows
