"""Every write to the points shop.

A redemption is two-phase: ``redemption_reserve`` holds the points (a ledger posting) and one
item of stock (a conditional ``UPDATE``) in one transaction and gives a pickup code; staff at the
station ``redemption_fulfil`` it by that code (the points are spent, the item handed out), or the
rider ``redemption_cancel``s it, or ``redemptions_expire`` releases it when the pickup time has
passed. Every path is a single transaction; a refused step leaves nothing half-written.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, NotFound, Unauthenticated
from yizhan.core.idempotency import run_once
from yizhan.core.images import process_image
from yizhan.core.permissions import Action, require
from yizhan.points import services as points
from yizhan.points.choices import SeasonKind
from yizhan.points.models import PointsAccount
from yizhan.points.seasons import season_key
from yizhan.points.selectors import rank_of
from yizhan.rewards.choices import COUNTED_STATUSES, RedemptionStatus
from yizhan.rewards.models import PriorityWindow, Redemption, Reward, Stock, StockChange
from yizhan.stations.choices import StationStatus
from yizhan.stations.models import Station

_CODE = re.compile(r"^\d{6}$")
_SEASON = {
    SeasonKind.MONTH: re.compile(r"^m\d{4}-(0[1-9]|1[0-2])$"),
    SeasonKind.QUARTER: re.compile(r"^q\d{4}-[1-4]$"),
    SeasonKind.YEAR: re.compile(r"^y\d{4}$"),
    SeasonKind.ALL: re.compile(r"^all$"),
}
_QR = re.compile(r"^YZR-(\d+)-(\d{6})$")


# --- catalogue and stock ---------------------------------------------------------------------


def _positive(value: Any, *, field: str, limit: int, allow_none: bool = False) -> int | None:
    if allow_none and value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise ApplicationError(
            _("Please give a whole number from 1 to %(n)s.") % {"n": limit}, field=field
        )
    return value


def _photo(upload: Any) -> Any:
    """A reward's photo as every uploaded picture is kept: checked, decoded, stripped of its
    metadata and re-encoded (``core.images``); what was uploaded is never stored as it came."""
    return process_image(upload, sizes={"display": 1200}, field="photo").files["display"]


def _window_dates(start: datetime | None, end: datetime | None, *, field: str) -> None:
    if start is not None and end is not None and end <= start:
        raise ApplicationError(_("The end must come after the start."), field=field)


@transaction.atomic
def reward_create(
    *,
    street: Any,
    name: Any,
    cost: Any,
    actor: Any,
    description: str = "",
    per_rider_limit: Any = None,
    available_from: datetime | None = None,
    available_until: datetime | None = None,
    pickup_hours: Any = 72,
    photo: Any = None,
) -> Reward:
    """Add a reward to a street's catalogue (street staff and above)."""
    if not isinstance(street, Area) or street.level != AreaLevel.STREET:
        raise ApplicationError(_("The catalogue belongs to a street."), field="street")
    require(actor, Action.OPERATE, street)
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 100:
        raise ApplicationError(_("A reward needs a name of at most 100 characters."), field="name")
    if Reward.objects.filter(street=street, name=name).exists():
        raise Conflict(_("The catalogue already has a reward of that name."), field="name")
    _window_dates(available_from, available_until, field="available_until")
    photo = _photo(photo) if photo else None
    reward = Reward(
        street=street,
        area_code=street.code,
        name=name,
        description=(description or "")[:300],
        cost=_positive(cost, field="cost", limit=100_000),
        per_rider_limit=_positive(
            per_rider_limit, field="per_rider_limit", limit=1000, allow_none=True
        ),
        available_from=available_from,
        available_until=available_until,
        pickup_hours=_positive(pickup_hours, field="pickup_hours", limit=24 * 90),
    )
    if photo:
        reward.photo = photo
    reward.save()
    log_action(actor=actor, action="reward.created", target=reward, data={"cost": reward.cost})
    return reward


_EDITABLE = ("description", "cost", "per_rider_limit", "available_from", "available_until",
             "pickup_hours", "is_active", "photo")  # fmt: skip


@transaction.atomic
def reward_update(*, reward: Reward, actor: Any, **changes: Any) -> Reward:
    """Change a reward; reservations already made keep the cost they were made at."""
    require(actor, Action.OPERATE, reward)
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    if "cost" in changes:
        changes["cost"] = _positive(changes["cost"], field="cost", limit=100_000)
    if "per_rider_limit" in changes:
        changes["per_rider_limit"] = _positive(
            changes["per_rider_limit"], field="per_rider_limit", limit=1000, allow_none=True
        )
    if "pickup_hours" in changes:
        changes["pickup_hours"] = _positive(
            changes["pickup_hours"], field="pickup_hours", limit=24 * 90
        )
    if "description" in changes:
        changes["description"] = str(changes["description"] or "")[:300]
    if "is_active" in changes:
        changes["is_active"] = bool(changes["is_active"])
    if changes.get("photo"):
        changes["photo"] = _photo(changes["photo"])
    for name, value in changes.items():
        setattr(reward, name, value)
    _window_dates(reward.available_from, reward.available_until, field="available_until")
    reward.save()
    log_action(
        actor=actor,
        action="reward.updated",
        target=reward,
        data={k: str(v) for k, v in changes.items()},
    )
    return reward


def _station_of_street(station: Any, reward: Reward) -> Station:
    if not isinstance(station, Station):
        raise ApplicationError(_("Please choose a station."), field="station")
    if not station.area_code.startswith(reward.area_code):
        raise ApplicationError(
            _("%(station)s is not in the street this reward belongs to.")
            % {"station": station.name},
            code="other_street",
            field="station",
        )
    return station


@transaction.atomic
def stock_change(*, reward: Reward, station: Any, change: Any, reason: Any, actor: Any) -> Stock:
    """Add items to a station's stock (or take some away, only from what is not reserved)."""
    station = _station_of_street(station, reward)
    require(actor, Action.OPERATE, station)
    if (
        isinstance(change, bool)
        or not isinstance(change, int)
        or change == 0
        or abs(change) > 100_000
    ):
        raise ApplicationError(
            _("Please give how many items to add (or, below zero, to remove)."), field="change"
        )
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise ApplicationError(_("Please give a reason for the change."), field="reason")
    stock, _created = Stock.objects.get_or_create(
        reward=reward, station=station, defaults={"area_code": station.area_code}
    )
    if change > 0:
        Stock.objects.filter(pk=stock.pk).update(available=F("available") + change)
    elif not Stock.objects.filter(pk=stock.pk, available__gte=-change).update(
        available=F("available") + change
    ):
        raise Conflict(
            _("Only %(n)s items are in stock and not reserved.") % {"n": stock.available},
            code="not_enough_stock",
            field="change",
        )
    StockChange.objects.create(stock=stock, change=change, reason=reason[:200], actor=actor)
    log_action(
        actor=actor,
        action="reward.stock_changed",
        target=stock,
        data={"change": change, "reason": reason[:200]},
    )
    stock.refresh_from_db()
    return stock


@transaction.atomic
def window_create(
    *,
    street: Any,
    name: Any,
    top_n: Any,
    season_kind: str,
    opens_at: datetime,
    closes_at: datetime,
    actor: Any,
    reward: Reward | None = None,
    ranking_area: Area | None = None,
    season: str | None = None,
) -> PriorityWindow:
    """Open (some of) the shop first to the top N of a season's ranking."""
    if not isinstance(street, Area) or street.level != AreaLevel.STREET:
        raise ApplicationError(_("A priority window belongs to a street."), field="street")
    require(actor, Action.OPERATE, street)
    if season_kind not in SeasonKind.values:
        raise ApplicationError(_("Please choose a season."), field="season_kind")
    ranking_area = ranking_area or street
    if not ranking_area.code.startswith(street.code):
        raise ApplicationError(
            _("Rank within the street or an area inside it."), field="ranking_area"
        )
    if reward is not None and reward.street_id != street.pk:
        raise ApplicationError(_("The reward belongs to another street."), field="reward")
    if not isinstance(opens_at, datetime) or not isinstance(closes_at, datetime):
        raise ApplicationError(_("Please give when the window opens and closes."), field="opens_at")
    _window_dates(opens_at, closes_at, field="closes_at")
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise ApplicationError(_("Please give the window a name."), field="name")
    season = season or season_key(season_kind, opens_at)
    if not isinstance(season, str) or not _SEASON[season_kind].match(season):
        raise ApplicationError(
            _("%(season)s is not a %(kind)s season (for example %(example)s).")
            % {
                "season": season,
                "kind": SeasonKind(season_kind).label,
                "example": season_key(season_kind, opens_at),
            },
            code="invalid_season",
            field="season",
        )
    window = PriorityWindow.objects.create(
        street=street,
        area_code=street.code,
        name=name[:100],
        reward=reward,
        top_n=_positive(top_n, field="top_n", limit=10_000),
        season_kind=season_kind,
        season=season,
        ranking_area=ranking_area,
        opens_at=opens_at,
        closes_at=closes_at,
    )
    log_action(actor=actor, action="reward.window_created", target=window, data={"top": top_n})
    return window


# --- redemptions -----------------------------------------------------------------------------


def open_windows(reward: Reward, when: datetime) -> list[PriorityWindow]:
    return list(
        PriorityWindow.objects.filter(
            street_id=reward.street_id, opens_at__lte=when, closes_at__gt=when
        )
        .filter(Q(reward=reward) | Q(reward__isnull=True))
        .select_related("ranking_area")
    )


def _check_reward(reward: Reward, when: datetime) -> None:
    if not reward.is_active:
        raise Conflict(_("%(reward)s is not on offer.") % {"reward": reward}, code="unavailable")
    if reward.available_from and when < reward.available_from:
        raise Conflict(
            _("%(reward)s is on offer from %(when)s.")
            % {
                "reward": reward,
                "when": f"{timezone.localtime(reward.available_from):%Y-%m-%d %H:%M}",
            },
            code="not_yet_available",
        )
    if reward.available_until and when >= reward.available_until:
        raise Conflict(
            _("%(reward)s was on offer until %(when)s.")
            % {
                "reward": reward,
                "when": f"{timezone.localtime(reward.available_until):%Y-%m-%d %H:%M}",
            },
            code="no_longer_available",
        )


def _check_windows(user: Any, reward: Reward, when: datetime) -> None:
    windows = open_windows(reward, when)
    if not windows:
        return
    account = PointsAccount.objects.filter(owner=user).first()
    for window in windows:
        rank = rank_of(account, season=window.season, area_code=window.ranking_area.code)
        if rank is not None and rank <= window.top_n:
            return
    window = windows[0]
    raise Forbidden(
        _(
            "Until %(until)s this reward is open to the top %(n)s of %(area)s's ranking only "
            "(points earned in the season). Please come back then."
        )
        % {
            "until": f"{timezone.localtime(window.closes_at):%Y-%m-%d %H:%M}",
            "n": window.top_n,
            "area": window.ranking_area.name,
        },
        code="priority_window",
    )


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


@transaction.atomic
def redemption_reserve(
    *, user: Any, reward: Reward, station: Any, idempotency_key: str
) -> Redemption:
    """A rider reserves one item for pickup at a station: points and stock are held.

    Refused (4xx, nothing changed) when the reward is not on offer, a priority window keeps
    the rider out, the rider reached the reward's limit, the station has none left, or the
    balance does not cover it. Repeating with the same key returns the same reservation.
    """
    station = _station_of_street(station, reward)
    if not getattr(user, "is_authenticated", False):
        raise Unauthenticated(_("Please log in first."))
    street = points.street_of(user)
    if street.pk != reward.street_id:
        # Points are held and spent in the rider's own street's accounts.
        raise ApplicationError(
            _("%(reward)s belongs to another street's shop.") % {"reward": reward},
            code="other_street",
            field="reward",
        )

    def work() -> Redemption:
        now = timezone.now()
        # The catalogue may have changed since the page was drawn: cost and limits as of now.
        current = Reward.objects.get(pk=reward.pk)
        if station.status != StationStatus.OPEN:
            raise Conflict(
                _("%(station)s is closed for now.") % {"station": station}, code="closed"
            )
        _check_reward(current, now)
        _check_windows(user, current, now)
        if current.per_rider_limit is not None:
            # One rider at a time past this point, so two taps cannot both fit under the limit.
            PointsAccount.objects.select_for_update().get(pk=points.member_account(user).pk)
            taken = Redemption.objects.filter(
                user=user, reward=current, status__in=COUNTED_STATUSES
            ).count()
            if taken >= current.per_rider_limit:
                raise Conflict(
                    _("You may redeem %(reward)s at most %(n)s times.")
                    % {"reward": current, "n": current.per_rider_limit},
                    code="limit_reached",
                )
        stock = Stock.objects.filter(reward=current, station=station).first()
        if stock is None or not Stock.objects.filter(pk=stock.pk, available__gte=1).update(
            available=F("available") - 1, held=F("held") + 1
        ):
            raise Conflict(
                _("%(station)s has no %(reward)s left.") % {"station": station, "reward": current},
                code="out_of_stock",
            )
        hold = points.points_hold(
            user=user,
            amount=current.cost,
            reason=_("Reserved: %(reward)s") % {"reward": current},
            key=f"hold:{idempotency_key}",
            actor=user,
            source=current,
            street=street,
        )
        for _attempt in range(8):
            try:
                with transaction.atomic():
                    return Redemption.objects.create(
                        user=user,
                        reward=current,
                        station=station,
                        stock=stock,
                        area_code=station.area_code,
                        cost=current.cost,
                        pickup_code=_new_code(),
                        hold=hold,
                        idempotency_key=idempotency_key,
                        expires_at=now + timedelta(hours=current.pickup_hours),
                    )
            except IntegrityError:  # the code is in use at this station: draw another
                continue
        raise Conflict(_("Please try again."), code="busy")

    payload = {"user": user.pk, "reward": reward.pk, "station": station.pk}
    return run_once(
        scope="rewards.reserve",
        key=idempotency_key,
        payload=payload,
        model=Redemption,
        work=work,
    )


def _close(redemption: Redemption, *, status: str, actor: Any, reason: str) -> Redemption:
    """Release a held redemption: its points go back and its item returns to stock."""
    closing = points.points_release(
        hold=redemption.hold, actor=actor, reason=reason, source=redemption
    )
    Stock.objects.filter(pk=redemption.stock_id, held__gte=1).update(
        held=F("held") - 1, available=F("available") + 1
    )
    redemption.status = status
    redemption.closing = closing
    redemption.closed_at = timezone.now()
    redemption.closed_by = actor if getattr(actor, "is_authenticated", False) else None
    redemption.save()
    log_action(actor=actor, action=f"redemption.{status}", target=redemption)
    return redemption


def _lock(redemption: Redemption) -> Redemption:
    return (
        Redemption.objects.select_for_update()
        .select_related("hold", "reward", "station")
        .get(pk=redemption.pk)
    )


@transaction.atomic
def redemption_cancel(*, redemption: Redemption, actor: Any) -> Redemption:
    """The rider (or staff of the station) cancels a reservation; points and stock return."""
    if actor is None or (actor.pk != redemption.user_id):
        require(actor, Action.OPERATE, redemption)
    redemption = _lock(redemption)
    if not redemption.can_close():
        raise Conflict(
            _("This reservation is already closed (%(status)s).")
            % {"status": redemption.get_status_display()},
            code="already_closed",
        )
    return _close(
        redemption,
        status=RedemptionStatus.CANCELLED,
        actor=actor,
        reason=_("Cancelled: %(reward)s") % {"reward": redemption.reward},
    )


def parse_pickup(code: Any) -> tuple[int | None, str]:
    """A typed 6-digit code, or the QR's ``YZR-<id>-<code>``: (redemption id or None, code)."""
    text = code.strip() if isinstance(code, str) else ""
    match = _QR.match(text)
    if match:
        return int(match.group(1)), match.group(2)
    if _CODE.match(text):
        return None, text
    raise ApplicationError(
        _("A pickup code is 6 digits (or scan the rider's QR code)."),
        code="invalid_code",
        field="code",
    )


@transaction.atomic
def redemption_fulfil(*, station: Station, code: Any, actor: Any) -> Redemption:
    """Staff at the station hand the reward over against the rider's code: points are spent."""
    require(actor, Action.OPERATE, station)
    redemption_id, digits = parse_pickup(code)
    held = Redemption.objects.filter(
        station=station, pickup_code=digits, status=RedemptionStatus.HELD
    )
    if redemption_id is not None:
        held = held.filter(pk=redemption_id)
    found = held.first()
    if found is None:
        elsewhere = Redemption.objects.filter(pickup_code=digits, status=RedemptionStatus.HELD)
        if redemption_id is not None:
            elsewhere = elsewhere.filter(pk=redemption_id)
        other = elsewhere.select_related("station").first()
        if other is not None:
            raise Conflict(
                _("This code is for pickup at %(station)s, not here.") % {"station": other.station},
                code="other_station",
            )
        closed = Redemption.objects.filter(station=station, pickup_code=digits)
        if redemption_id is not None:
            closed = closed.filter(pk=redemption_id)
        last = closed.order_by("-created_at").first()
        if last is not None:
            raise Conflict(
                _("This code was already used or is no longer valid (%(status)s).")
                % {"status": last.get_status_display()},
                code="code_used",
            )
        raise NotFound(_("No reservation has this code here."), code="unknown_code")
    redemption = _lock(found)
    if not redemption.can_close():
        raise Conflict(
            _("This code was already used or is no longer valid (%(status)s).")
            % {"status": redemption.get_status_display()},
            code="code_used",
        )
    if redemption.expires_at <= timezone.now():
        raise Conflict(
            _("This reservation ran out at %(when)s; the rider can reserve again.")
            % {"when": f"{timezone.localtime(redemption.expires_at):%Y-%m-%d %H:%M}"},
            code="code_expired",
        )
    redemption.closing = points.points_settle(hold=redemption.hold, actor=actor, source=redemption)
    Stock.objects.filter(pk=redemption.stock_id, held__gte=1).update(
        held=F("held") - 1, handed_out=F("handed_out") + 1
    )
    redemption.status = RedemptionStatus.FULFILLED
    redemption.closed_at = timezone.now()
    redemption.closed_by = actor
    redemption.save()
    log_action(actor=actor, action="redemption.fulfilled", target=redemption)
    return redemption


def redemptions_expire(*, now: datetime | None = None) -> int:
    """Release every reservation whose pickup time has passed (safe to run any time, again)."""
    now = now or timezone.now()
    done = 0
    due = Redemption.objects.filter(status=RedemptionStatus.HELD, expires_at__lte=now)
    for pk in due.values_list("pk", flat=True).order_by("expires_at", "pk"):
        with transaction.atomic():
            redemption = _lock(Redemption(pk=pk))
            if not redemption.can_close() or redemption.expires_at > now:
                continue
            _close(
                redemption,
                status=RedemptionStatus.EXPIRED,
                actor=None,
                reason=_("Not picked up in time: %(reward)s") % {"reward": redemption.reward},
            )
            done += 1
    return done
