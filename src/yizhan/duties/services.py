"""Every write of the duties app: a rider logs a duty, staff verify or reject it, staff issue
a household's gift code, a household confirms a gift delivery with it. Verified duties are paid
once through ``points.services.points_earn``.

The workflow::

    pending ──verify (staff of the rider's area)──► verified ──► points, once
       │    ──confirm (household's gift code)────►
       └────reject (staff, with a reason)───────► rejected

Points: a patrol or mediation pays ``Activity.DUTY_HOUR`` per whole hour (rounded down; a
duty of 30 to 59 minutes counts as one hour; under 30 minutes pays nothing); help pays
``ELDERLY_CHILD_HELP`` and a gift delivery ``GIFT_DELIVERY`` once per act. The idempotency key
is ``duty-<id>-pay``: whatever path verifies a duty, it is paid once.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.audit import log_action
from yizhan.core.crypto import blind_index, blind_indexes
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, Unauthenticated
from yizhan.core.geo import check_point, parse_crs, to_wgs84
from yizhan.core.idempotency import run_once
from yizhan.core.images import ProcessedImage, process_image
from yizhan.core.permissions import Action, is_authenticated, require
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.core.validation import clean_text
from yizhan.duties.choices import (
    KIND_ACTIVITY,
    KIND_POSTS,
    TIMED_KINDS,
    DutyKind,
    DutyStatus,
    PointsStatus,
    VerifiedBy,
)
from yizhan.duties.models import Duty, GiftCode
from yizhan.notifications.services import notify
from yizhan.people.choices import ClaimStatus, RegistrationStatus
from yizhan.people.models import Post, PostClaim, RiderProfile
from yizhan.people.selectors import may_use_location
from yizhan.points.services import points_earn

MAX_HOURS = 12
#: How far back a duty may be logged.
MAX_AGE = timedelta(days=30)
#: Clock skew allowed between a phone and the server for "not in the future".
SKEW = timedelta(minutes=5)
CODE_DAYS = 7
CODE_DIGITS = 6
PHOTO_SIZES = {"display": 1600, "thumb": 400}


# --- helpers -----------------------------------------------------------------------------------


def _text(value: Any, *, field: str, limit: int, required: bool = False) -> str:
    return clean_text(value, field=field, limit=limit, required=required, missing_code="required")


def _moment(value: Any, *, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise ApplicationError(_("Please give a date and time."), code="invalid_time", field=field)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _times(kind: str, started_at: Any, ended_at: Any) -> tuple[datetime, datetime]:
    start = _moment(started_at, field="started_at")
    if kind in TIMED_KINDS:
        if ended_at is None:
            raise ApplicationError(
                _("A patrol or mediation needs an end time."), code="end_required", field="ended_at"
            )
        end = _moment(ended_at, field="ended_at")
    else:
        # An act has a single time; an end time sent with it must be the same moment.
        end = start if ended_at is None else _moment(ended_at, field="ended_at")
        if end != start:
            raise ApplicationError(
                _("Help and gift deliveries have a single time: leave the end time empty."),
                code="single_time",
                field="ended_at",
            )
    if kind in TIMED_KINDS and end <= start:
        raise ApplicationError(
            _("The end must be after the start."), code="end_before_start", field="ended_at"
        )
    if end - start > timedelta(hours=MAX_HOURS):
        raise ApplicationError(
            _("A duty can last at most %(n)s hours: log a longer one in parts.") % {"n": MAX_HOURS},
            code="too_long_duty",
            field="ended_at",
        )
    now = timezone.now()
    if end > now + SKEW:
        raise ApplicationError(
            _("A duty cannot be logged before it happens."), code="in_future", field="ended_at"
        )
    if start < now - MAX_AGE:
        raise ApplicationError(
            _("Duties older than %(n)s days cannot be logged.") % {"n": MAX_AGE.days},
            code="too_old",
            field="started_at",
        )
    return start, end


def _place(lat: Any, lng: Any, crs: Any) -> tuple[float | None, float | None, str]:
    if lat is None and lng is None:
        return None, None, ""
    system = parse_crs(crs or "wgs84")
    lat, lng = check_point(lat, lng)
    lat, lng = to_wgs84(lat, lng, system)
    return round(lat, 7), round(lng, 7), str(system)


def _rider_of(actor: Any) -> RiderProfile:
    if not is_authenticated(actor):
        raise Unauthenticated(_("Please log in first."))
    rider = RiderProfile.objects.filter(user=actor).first() if actor.role == Role.RIDER else None
    if rider is None:
        raise Forbidden(_("Only riders log duties."), code="not_a_rider")
    if rider.status != RegistrationStatus.VERIFIED:
        raise Forbidden(
            _("Your registration must be verified before you log duties."), code="not_verified"
        )
    return rider


def _check_post(rider: RiderProfile, post: Any, kind: str) -> Post:
    if not isinstance(post, Post):
        raise ApplicationError(_("Please choose one of your posts."), field="post")
    if not PostClaim.objects.filter(rider=rider, post=post, status=ClaimStatus.APPROVED).exists():
        raise Forbidden(
            _("You do not hold this post: claim it and wait for approval first."),
            code="not_post_holder",
            field="post",
        )
    if KIND_POSTS[kind] != post.kind:
        raise ApplicationError(
            _("A %(post)s cannot log this kind of duty.") % {"post": post.get_kind_display()},
            code="kind_not_for_post",
            field="kind",
        )
    return post


def _photo(photo: Any) -> ProcessedImage | None:
    if not photo:
        return None
    return process_image(photo, sizes=PHOTO_SIZES, field="photo")


def duty_url(duty: Duty, *, staff: bool) -> str:
    return reverse("duties:review" if staff else "duties:detail", args=[duty.pk])


# --- logging -----------------------------------------------------------------------------------


def duty_log(
    *,
    actor: Any,
    post: Any,
    kind: Any,
    started_at: Any,
    ended_at: Any = None,
    place: Any,
    lat: Any = None,
    lng: Any = None,
    crs: Any = None,
    note: Any = "",
    photo: Any = None,
    idempotency_key: str,
) -> Duty:
    """A rider logs a duty for a post they hold. A repeat with the same key gives the same
    duty; the same rider, kind and an overlapping time as a duty not rejected is a 409."""
    rider = _rider_of(actor)
    if kind not in DutyKind.values:
        raise ApplicationError(_("Please choose a valid kind of duty."), field="kind")
    post = _check_post(rider, post, kind)
    start, end = _times(kind, started_at, ended_at)
    place = _text(place, field="place", limit=200, required=True)
    note = _text(note, field="note", limit=500)
    lat, lng, system = _place(lat, lng, crs)
    if lat is not None and not may_use_location(actor):
        # A duty's point is where the rider was: kept only with their location consent
        # (docs/privacy.md); the place in words is enough for staff.
        lat, lng, system = None, None, ""
    processed = _photo(photo)
    payload = {
        "post": post.pk,
        "kind": kind,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "place": place,
        "lat": lat,
        "lng": lng,
        "note": note,
        "photo": bool(processed),
    }
    saved: list[Any] = []

    def work() -> Duty:
        # One rider's logs one at a time: the overlap check below holds under concurrency.
        RiderProfile.objects.select_for_update().filter(pk=rider.pk).first()
        clash = (
            Duty.objects.filter(rider=rider, kind=kind, started_at__lte=end, ended_at__gte=start)
            .exclude(status=DutyStatus.REJECTED)
            .first()
        )
        if clash is not None:
            raise Conflict(
                _("You already logged this kind of duty for an overlapping time (#%(id)s).")
                % {"id": clash.pk},
                code="duplicate_duty",
                detail={"duty": clash.pk},
            )
        duty = Duty(
            rider=rider,
            post=post,
            area_code=rider.area_code,
            kind=kind,
            started_at=start,
            ended_at=end,
            minutes=int((end - start).total_seconds() // 60),
            place=place,
            lat=lat,
            lng=lng,
            crs=system,
            note=note,
        )
        duty.save()
        if processed is not None:
            stem = f"d{duty.pk}"
            duty.photo.save(f"{stem}.jpg", processed.files["display"], save=False)
            saved.append((duty.photo.storage, duty.photo.name))
            duty.thumbnail.save(f"{stem}-t.jpg", processed.files["thumb"], save=False)
            saved.append((duty.thumbnail.storage, duty.thumbnail.name))
            duty.photo_width, duty.photo_height = processed.width, processed.height
            duty.save(update_fields=["photo", "thumbnail", "photo_width", "photo_height"])
        log_action(
            actor=actor,
            action="duty.logged",
            target=duty,
            data={"kind": kind, "post": post.pk, "minutes": duty.minutes},
        )
        return duty

    try:
        with transaction.atomic():
            return run_once(
                scope="duties.log", key=idempotency_key, payload=payload, model=Duty, work=work
            )
    except BaseException:
        for storage, name in saved:
            storage.delete(name)
        raise


# --- deciding ----------------------------------------------------------------------------------


def _lock(duty: Duty) -> Duty:
    return Duty.objects.select_for_update().select_related("rider__user", "post").get(pk=duty.pk)


def _refuse(duty: Duty) -> Conflict:
    return Conflict(
        _("This duty was already decided (%(status)s).") % {"status": duty.get_status_display()},
        code="already_decided",
    )


def units_for(duty: Duty) -> int:
    """What a verified duty counts: whole hours for timed duties (30–59 minutes: 1; under 30
    minutes: 0), one for an act."""
    if duty.kind not in TIMED_KINDS:
        return 1
    hours = duty.minutes // 60
    if hours == 0 and duty.minutes >= 30:
        return 1
    return hours


def _pay(duty: Duty, actor: Any) -> None:
    units = units_for(duty)
    if units == 0:
        duty.points_status = PointsStatus.TOO_SHORT
        return
    try:
        record = points_earn(
            member=duty.rider.user,
            activity=KIND_ACTIVITY[duty.kind],
            reason=_("Duty #%(id)s verified: %(kind)s")
            % {"id": duty.pk, "kind": duty.get_kind_display()},
            actor=actor,
            idempotency_key=f"duty-{duty.pk}-pay",
            units=units,
            source=duty,
        )
    except ApplicationError as exc:
        if exc.code in ("no_rule", "no_street", "not_a_member"):
            duty.points_status = PointsStatus.NO_RULE
            return
        raise
    duty.points = record.paid
    duty.points_status = PointsStatus.PAID if record.paid else PointsStatus.CAPPED


def _decided(duty: Duty, title: Any) -> None:
    notify(
        recipients=[duty.rider.user_id],
        kind="duty_decided",
        title=title,
        url=duty_url(duty, staff=False),
        target=duty,
    )


def _verify(duty: Duty, actor: Any, *, method: str, data: dict | None = None) -> Duty:
    duty.status = DutyStatus.VERIFIED
    duty.verified_by = method
    duty.decided_by = actor
    duty.decided_at = timezone.now()
    _pay(duty, actor)
    duty.save(
        update_fields=[
            "status",
            "verified_by",
            "decided_by",
            "decided_at",
            "points",
            "points_status",
            "updated_at",
        ]
    )
    log_action(
        actor=actor,
        action="duty.verified",
        target=duty,
        data={
            "by": method,
            "points": duty.points,
            "points_status": duty.points_status,
            **(data or {}),
        },
    )
    pk, points = duty.pk, duty.points
    _decided(
        duty,
        lambda: _("Your duty #%(id)s was verified: %(n)s points.") % {"id": pk, "n": points},
    )
    return duty


@transaction.atomic
def duty_verify(*, duty: Duty, actor: Any) -> Duty:
    """Staff of the rider's area verify a pending duty; it is paid once."""
    require(actor, Action.OPERATE, duty)
    duty = _lock(duty)
    if not duty.can_decide():
        raise _refuse(duty)
    return _verify(duty, actor, method=VerifiedBy.STAFF)


@transaction.atomic
def duty_reject(*, duty: Duty, actor: Any, reason: Any) -> Duty:
    """Staff turn a pending duty down, with a reason the rider sees."""
    require(actor, Action.OPERATE, duty)
    reason = _text(reason, field="reason", limit=200, required=True)
    duty = _lock(duty)
    if not duty.can_decide():
        raise _refuse(duty)
    duty.status = DutyStatus.REJECTED
    duty.decided_by = actor
    duty.decided_at = timezone.now()
    duty.reason = reason
    duty.save(update_fields=["status", "decided_by", "decided_at", "reason", "updated_at"])
    log_action(actor=actor, action="duty.rejected", target=duty, data={"reason": reason})
    pk = duty.pk
    _decided(
        duty,
        lambda: _("Your duty #%(id)s was not verified: %(reason)s") % {"id": pk, "reason": reason},
    )
    return duty


# --- gift codes --------------------------------------------------------------------------------


def _hash(community_code: str, digits: str) -> str:
    return blind_index(f"{community_code}:{digits}", purpose="duties.gift_code")


def _hashes(community_code: str, digits: str) -> list[str]:
    """The hash under the current key and any old key (codes issued before a key rotation)."""
    return blind_indexes(f"{community_code}:{digits}", purpose="duties.gift_code")


@transaction.atomic
def gift_code_issue(*, community: Any, household: Any, actor: Any) -> tuple[GiftCode, str]:
    """Staff of a community make a one-time code for a household expecting a gift delivery.

    Returns the code row and the 6 digits, which are shown this once (only a keyed hash is
    kept). No two open codes of a community share their digits.
    """
    if not is_authenticated(actor):
        raise Unauthenticated(_("Please log in first."))
    if not (actor.is_superuser or actor.role in CONSOLE_ROLES):
        raise Forbidden(_("Only staff issue gift codes."), code="staff_only")
    if not isinstance(community, Area) or community.level != AreaLevel.COMMUNITY:
        raise ApplicationError(_("Please choose a community."), field="community")
    require(actor, Action.OPERATE, community)
    household = _text(household, field="household", limit=100, required=True)
    now = timezone.now()
    open_codes = GiftCode.objects.filter(
        area_code=community.code, used_at__isnull=True, expires_at__gt=now
    )
    for _attempt in range(20):
        digits = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        code_hash = _hash(community.code, digits)
        if not open_codes.filter(code_hash__in=_hashes(community.code, digits)).exists():
            break
    else:  # pragma: no cover - a community with ~10^6 open codes
        raise Conflict(_("Too many open codes in this community."), code="too_many_codes")
    code = GiftCode.objects.create(
        community=community,
        area_code=community.code,
        household=household,
        code_hash=code_hash,
        issued_by=actor,
        expires_at=now + timedelta(days=CODE_DAYS),
    )
    log_action(
        actor=actor, action="duty.gift_code_issued", target=code, data={"household": household}
    )
    return code, digits


def _bad_code() -> ApplicationError:
    return ApplicationError(
        _("This code is wrong, used or expired. Check the duty number and the 6 digits."),
        code="invalid_code",
        field="code",
    )


@transaction.atomic
def duty_confirm(*, duty_id: Any, code: Any, actor: Any = None) -> Duty:
    """A household confirms a gift delivery with the code staff gave it: the duty is verified
    (by the staff member who issued the code) and paid. No log-in needed; the rider who logged
    the duty may not confirm it themself."""
    digits = code.strip() if isinstance(code, str) else ""
    if isinstance(duty_id, bool) or not isinstance(duty_id, int):
        try:
            duty_id = int(str(duty_id).strip().lstrip("#"))
        except (TypeError, ValueError):
            raise _bad_code() from None
    if len(digits) != CODE_DIGITS or not digits.isdigit():
        raise _bad_code()
    duty = (
        Duty.objects.select_for_update()
        .select_related("rider__user", "post")
        .filter(pk=duty_id, kind=DutyKind.GIFT)
        .first()
    )
    if duty is None:
        raise _bad_code()
    if is_authenticated(actor) and actor.pk == duty.rider.user_id:
        raise Forbidden(
            _("The household confirms a delivery, not the rider who made it."),
            code="own_delivery",
        )
    community = duty.post.area_code
    gift = (
        GiftCode.objects.select_for_update()
        .select_related("issued_by")
        .filter(area_code=community, code_hash__in=_hashes(community, digits))
        .order_by("-created_at")
        .first()
    )
    if gift is None or not gift.is_open:
        raise _bad_code()
    if not duty.can_decide():
        raise _refuse(duty)
    gift.used_at = timezone.now()
    gift.duty = duty
    gift.save(update_fields=["used_at", "duty"])
    return _verify(duty, gift.issued_by, method=VerifiedBy.HOUSEHOLD, data={"gift_code": gift.pk})
