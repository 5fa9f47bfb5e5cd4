"""Every write of the micro-wishes (微心愿).

The workflow::

    pending ──approve──► published ──claim──► claimed ──fulfil──► fulfilled ──confirm──► confirmed
       │                  ▲    │               │                     │  (rider)              ▲
       ├─reject──► rejected│    └─withdraw─┐   └─release──► published │ N days, no answer    │
       └─withdraw──► withdrawn ◄───────────┘                         ▼                      │
                           └────────────reopen (staff)──── timed_out ──confirm (staff/rider)┘

Each transition checks its actor (the permission layer for staff; ownership for the rider and
the claimer) and the wish's ``can_*`` predicate under a row lock, changes the state, writes a
:class:`WishEvent` and an audit entry, and tells the people concerned through the inbox.

A confirmed fulfilment pays the claimer (``points.services.points_earn``, activity
``wish_fulfilled``, once per wish by its idempotency key) when the claimer collects points —
riders and volunteers; merchants and staff do not, so nothing is paid for them. Points need a
staff member's authority: when staff confirm it is theirs; when the rider confirms, the
authority is that of the staff member who approved the wish for publication. When that person
may not pay this claimer (a volunteer of another area), the points wait for staff who may
(``wish_points_pay``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, NotFound, Unauthenticated
from yizhan.core.idempotency import run_once
from yizhan.core.images import process_image
from yizhan.core.permissions import Action, is_authenticated, require
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.core.validation import clean_text as _text
from yizhan.notifications.services import notify
from yizhan.people.choices import RegistrationStatus
from yizhan.people.models import User
from yizhan.people.selectors import console_staff_ids
from yizhan.points.choices import Activity
from yizhan.points.services import points_earn
from yizhan.wishes.choices import (
    OPEN_STATUSES,
    ClaimStatus,
    PointsStatus,
    WishCategory,
    WishStatus,
)
from yizhan.wishes.models import Wish, WishClaim, WishEvent
from yizhan.wishes.selectors import CLAIMER_ROLES, claimable

MAX_TEXT = 300
PHOTO_SIZES = {"display": 1200, "thumb": 400}
#: Who collects points (``points`` pays riders and volunteers only).
MEMBER_ROLES = (Role.RIDER, Role.VOLUNTEER)


def confirm_days() -> int:
    """Days the rider has to confirm a fulfilment before staff take it (``WISH_CONFIRM_DAYS``)."""
    return settings.WISH_CONFIRM_DAYS


def max_open() -> int:
    """How many open wishes a rider may have at once (``WISH_MAX_OPEN``)."""
    return settings.WISH_MAX_OPEN


# --- helpers -----------------------------------------------------------------------------------


def _authenticated(actor: Any) -> None:
    if not is_authenticated(actor):
        raise Unauthenticated(_("Please log in first."))


def _is_staff(actor: Any) -> bool:
    return bool(actor.is_superuser or actor.role in CONSOLE_ROLES)


def _photo(upload: Any, field: str):
    """Decode, strip and resize a photo before anything is written (None when none was sent)."""
    if not upload:
        return None
    return process_image(upload, sizes=PHOTO_SIZES, field=field)


def _store(file_field, name: str, processed, saved: list) -> None:
    """Save the display size; remember it so a failure later removes it again."""
    file_field.save(name, processed.files["display"], save=False)
    saved.append((file_field.storage, file_field.name))


def _discard(saved: list) -> None:
    for storage, name in saved:
        storage.delete(name)
    saved.clear()


def _event(
    wish: Wish,
    *,
    action: str,
    actor: Any,
    before: str = "",
    note: str = "",
    data: dict | None = None,
) -> WishEvent:
    event = WishEvent.objects.create(
        wish=wish,
        area_code=wish.area_code,
        action=action,
        from_status=before,
        to_status=wish.status,
        actor=actor if is_authenticated(actor) else None,
        note=note,
        data=data or {},
    )
    log_action(
        actor=actor,
        action=f"wish.{action}",
        target=wish,
        data={"from": before, "to": wish.status, "note": note[:100], **(data or {})},
    )
    return event


def wish_url(wish: Wish, *, staff: bool = False) -> str:
    name = "wishes:console_detail" if staff else "wishes:detail"
    try:
        return reverse(name, args=[wish.pk])
    except Exception:  # the pages may not be mounted (a bare API deployment)
        return ""


def _tell(recipients: list, wish: Wish, kind: str, title: Any, body: Any = "", staff=False):
    notify(
        recipients=recipients,
        kind=kind,
        title=title,
        body=body,
        url=wish_url(wish, staff=staff),
        target=wish,
    )


def _lock(wish: Wish) -> Wish:
    # ``of=self``: PostgreSQL cannot lock the nullable side of an outer join.
    return (
        Wish.objects.select_for_update(of=("self",))
        .select_related("community", "rider", "current_claim", "current_claim__claimer")
        .get(pk=wish.pk)
    )


def _refuse(wish: Wish, what: str) -> Conflict:
    return Conflict(
        _("This wish is %(status)s: it cannot be %(what)s now.")
        % {"status": wish.get_status_display(), "what": what},
        code="invalid_transition",
    )


def _staff_only(actor: Any) -> None:
    if not _is_staff(actor):
        raise Forbidden(_("Only community staff do this."), code="staff_only")


# --- posting -----------------------------------------------------------------------------------


def wish_post(
    *,
    rider: Any,
    category: Any,
    text: Any,
    idempotency_key: str,
    photo: Any = None,
) -> Wish:
    """A rider posts a wish (up to 300 characters, an optional photo); it waits for their
    community's staff to approve it. A retry with the same key returns the first wish; a rider
    with ``WISH_MAX_OPEN`` open wishes is refused until one is done or withdrawn."""
    _authenticated(rider)
    if rider.role != Role.RIDER:
        raise Forbidden(_("Only riders post wishes."), code="riders_only")
    profile = getattr(rider, "rider", None)
    if profile is None or profile.status != RegistrationStatus.VERIFIED:
        raise Forbidden(
            _("Your registration must be verified by your community before you post a wish."),
            code="not_verified",
        )
    if category not in WishCategory.values:
        raise ApplicationError(
            _("Please choose a category."), code="invalid_category", field="category"
        )
    text = _text(
        text,
        field="text",
        limit=MAX_TEXT,
        required=True,
        message=_("Please say in a few words what you wish for."),
    )
    payload = {
        "rider": rider.pk,
        "category": category,
        "text": text,
        "photo": getattr(photo, "size", None) if photo else None,
    }
    processed = _photo(photo, "photo")  # decoded before the transaction: the slow part
    community = Area.objects.get(pk=profile.community_id)
    saved: list = []

    def work() -> Wish:
        # The rider's row lock serialises their posts, so two at once cannot pass the limit.
        User.objects.select_for_update().filter(pk=rider.pk).first()
        limit = max_open()
        if Wish.objects.filter(rider=rider, status__in=OPEN_STATUSES).count() >= limit:
            raise Conflict(
                _(
                    "You already have %(n)s open wishes: wait until one is fulfilled, or "
                    "withdraw one."
                )
                % {"n": limit},
                code="too_many_open_wishes",
            )
        wish = Wish(
            rider=rider,
            community=community,
            area_code=profile.area_code or community.code,
            category=category,
            text=text,
        )
        if processed is not None:
            wish.save()
            _store(wish.photo, f"w{wish.pk}.jpg", processed, saved)
        wish.save()
        _event(wish, action="posted", actor=rider)
        _tell(
            console_staff_ids(wish.community.code, beneath=True),
            wish,
            "wish_pending",
            lambda: _("A new wish to approve: %(text)s") % {"text": wish.text[:40]},
            staff=True,
        )
        return wish

    try:
        with transaction.atomic():
            return run_once(
                scope="wishes.post", key=idempotency_key, payload=payload, model=Wish, work=work
            )
    except BaseException:
        _discard(saved)
        raise


@transaction.atomic
def wish_withdraw(*, wish: Wish, actor: Any) -> Wish:
    """The rider takes back a wish nobody has claimed yet."""
    _authenticated(actor)
    wish = _lock(wish)
    if wish.rider_id != actor.pk:
        raise Forbidden(_("Only the rider who posted a wish withdraws it."), code="not_yours")
    if not wish.can_withdraw():
        raise _refuse(wish, _("withdrawn"))
    before = wish.status
    wish.status = WishStatus.WITHDRAWN
    wish.save(update_fields=["status", "updated_at"])
    _event(wish, action="withdrawn", actor=actor, before=before)
    return wish


# --- approval ----------------------------------------------------------------------------------


@transaction.atomic
def wish_approve(*, wish: Wish, actor: Any, note: Any = "") -> Wish:
    """The community's staff publish the wish on the wall."""
    require(actor, Action.OPERATE, wish)
    _staff_only(actor)
    wish = _lock(wish)
    if not wish.can_decide():
        raise _refuse(wish, _("approved"))
    note = _text(note, field="note", limit=300)
    before = wish.status
    wish.status, wish.decided_by, wish.decided_at = WishStatus.PUBLISHED, actor, timezone.now()
    wish.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    _event(wish, action="approved", actor=actor, before=before, note=note)
    _tell(
        [wish.rider_id],
        wish,
        "wish_status",
        lambda: _("Your wish was published: %(text)s") % {"text": wish.text[:40]},
    )
    return wish


@transaction.atomic
def wish_reject(*, wish: Wish, actor: Any, reason: Any) -> Wish:
    require(actor, Action.OPERATE, wish)
    _staff_only(actor)
    reason = _text(
        reason,
        field="reason",
        limit=300,
        required=True,
        message=_("Please tell the rider why the wish is not published."),
    )
    wish = _lock(wish)
    if not wish.can_decide():
        raise _refuse(wish, _("rejected"))
    before = wish.status
    wish.status, wish.rejection_reason = WishStatus.REJECTED, reason
    wish.decided_by, wish.decided_at = actor, timezone.now()
    wish.save(
        update_fields=["status", "rejection_reason", "decided_by", "decided_at", "updated_at"]
    )
    _event(wish, action="rejected", actor=actor, before=before, note=reason)
    _tell(
        [wish.rider_id],
        wish,
        "wish_status",
        lambda: _("Your wish was not published: %(text)s") % {"text": wish.text[:40]},
        reason,
    )
    return wish


# --- claiming ----------------------------------------------------------------------------------


def may_claim(actor: Any) -> bool:
    return is_authenticated(actor) and (actor.is_superuser or actor.role in CLAIMER_ROLES)


def in_reach(actor: Any, wish: Wish) -> bool:
    """Whether the wish lies where the claimer helps (see ``selectors.claimable``)."""
    return claimable(actor, published_only=False).filter(pk=wish.pk).exists()


@transaction.atomic
def wish_claim(*, wish: Wish, actor: Any) -> WishClaim:
    """Take a published wish on. Only one claimer: the wish's row lock makes a second claimer
    wait, then find it claimed (409); the partial unique index is the backstop. A repeat by the
    claimer who holds it returns their claim."""
    _authenticated(actor)
    if not may_claim(actor):
        raise Forbidden(
            _("Riders post wishes; volunteers, merchants and staff claim them."),
            code="claimers_only",
        )
    if not in_reach(actor, wish):
        raise NotFound(_("Not found, or you may not see it."))
    wish = _lock(wish)
    held = wish.current_claim
    if held is not None and held.claimer_id == actor.pk and held.status == ClaimStatus.ACTIVE:
        return held
    if not wish.can_claim():
        if wish.status == WishStatus.CLAIMED:
            raise Conflict(_("Someone else claimed this wish first."), code="already_claimed")
        raise _refuse(wish, _("claimed"))
    try:
        with transaction.atomic():
            claim = WishClaim.objects.create(wish=wish, claimer=actor, area_code=wish.area_code)
    except IntegrityError:
        raise Conflict(_("Someone else claimed this wish first."), code="already_claimed") from None
    before = wish.status
    wish.status, wish.current_claim = WishStatus.CLAIMED, claim
    wish.save(update_fields=["status", "current_claim", "updated_at"])
    _event(wish, action="claimed", actor=actor, before=before, data={"claim": claim.pk})
    _tell(
        [wish.rider_id],
        wish,
        "wish_status",
        lambda: _("Someone claimed your wish: %(text)s") % {"text": wish.text[:40]},
    )
    return claim


def _own_claim(wish: Wish, actor: Any) -> WishClaim:
    claim = wish.current_claim
    if claim is None or claim.claimer_id != actor.pk:
        raise Forbidden(_("You did not claim this wish."), code="not_your_claim")
    return claim


@transaction.atomic
def wish_release(*, wish: Wish, actor: Any, note: Any = "") -> Wish:
    """The claimer gives the wish back before fulfilling it: it is published again."""
    _authenticated(actor)
    wish = _lock(wish)
    if wish.current_claim is None or not wish.can_release():
        raise _refuse(wish, _("released"))
    claim = _own_claim(wish, actor)
    note = _text(note, field="note", limit=300)
    claim.status, claim.ended_at = ClaimStatus.RELEASED, timezone.now()
    claim.save(update_fields=["status", "ended_at"])
    before = wish.status
    wish.status, wish.current_claim = WishStatus.PUBLISHED, None
    wish.save(update_fields=["status", "current_claim", "updated_at"])
    _event(wish, action="released", actor=actor, before=before, note=note)
    return wish


def wish_fulfil(*, wish: Wish, actor: Any, note: Any = "", photo: Any = None) -> Wish:
    """The claimer did it (an optional note and photo); the rider has ``WISH_CONFIRM_DAYS``
    days to confirm before it goes to staff."""
    _authenticated(actor)
    note = _text(note, field="note", limit=300)
    processed = _photo(photo, "photo")
    saved: list = []
    try:
        with transaction.atomic():
            wish = _lock(wish)
            claim = _own_claim(wish, actor)
            if not wish.can_fulfil():
                raise _refuse(wish, _("fulfilled"))
            now = timezone.now()
            claim.status, claim.note = ClaimStatus.FULFILLED, note
            fields = ["status", "note"]
            if processed is not None:
                _store(claim.photo, f"w{wish.pk}-c{claim.pk}.jpg", processed, saved)
                fields.append("photo")
            claim.save(update_fields=fields)
            before = wish.status
            wish.status, wish.fulfilled_at = WishStatus.FULFILLED, now
            wish.confirm_due_at = now + timedelta(days=confirm_days())
            wish.save(update_fields=["status", "fulfilled_at", "confirm_due_at", "updated_at"])
            _event(wish, action="fulfilled", actor=actor, before=before, note=note)
            _tell(
                [wish.rider_id],
                wish,
                "wish_status",
                lambda: (
                    _("Your wish was fulfilled: please confirm. %(text)s")
                    % {"text": wish.text[:40]}
                ),
                note,
            )
            return wish
    except BaseException:
        _discard(saved)
        raise


# --- confirmation ------------------------------------------------------------------------------


@transaction.atomic
def wish_confirm(*, wish: Wish, actor: Any, note: Any = "") -> Wish:
    """The rider confirms the fulfilment; after the time-out staff of the area may too.

    A confirmed fulfilment pays the claimer (see the module doc)."""
    _authenticated(actor)
    note = _text(note, field="note", limit=300)
    if wish.rider_id == actor.pk:
        wish = _lock(wish)
        if not wish.can_rider_confirm():
            raise _refuse(wish, _("confirmed"))
        payer = wish.decided_by
    else:
        require(actor, Action.OPERATE, wish)  # another rider: Forbidden
        _staff_only(actor)
        wish = _lock(wish)
        if wish.status == WishStatus.FULFILLED:
            raise Conflict(
                _("The rider confirms this until %(when)s; after that, staff may.")
                % {"when": f"{timezone.localtime(wish.confirm_due_at):%Y-%m-%d %H:%M}"},
                code="rider_confirms_first",
            )
        if not wish.can_staff_confirm():
            raise _refuse(wish, _("confirmed"))
        payer = actor
    claim = wish.current_claim
    now = timezone.now()
    claim.status, claim.ended_at = ClaimStatus.CONFIRMED, now
    claim.save(update_fields=["status", "ended_at"])
    before = wish.status
    wish.status, wish.confirmed_at, wish.confirmed_by = WishStatus.CONFIRMED, now, actor
    wish.save(update_fields=["status", "confirmed_at", "confirmed_by", "updated_at"])
    _event(wish, action="confirmed", actor=actor, before=before, note=note)
    _pay(wish, claim.claimer, payer)
    _tell(
        [claim.claimer_id],
        wish,
        "wish_confirmed",
        lambda: (
            _("Thank you! The wish you fulfilled was confirmed: %(text)s")
            % {"text": wish.text[:40]}
        ),
    )
    return wish


@transaction.atomic
def wish_reopen(*, wish: Wish, actor: Any, note: Any = "") -> Wish:
    """Staff find a timed-out fulfilment did not happen: the wish is published again."""
    require(actor, Action.OPERATE, wish)
    _staff_only(actor)
    note = _text(
        note,
        field="note",
        limit=300,
        required=True,
        message=_("Please say why the wish is reopened."),
    )
    wish = _lock(wish)
    if not wish.can_reopen():
        raise _refuse(wish, _("reopened"))
    claim = wish.current_claim
    claim.status, claim.ended_at = ClaimStatus.REOPENED, timezone.now()
    claim.save(update_fields=["status", "ended_at"])
    before = wish.status
    wish.status, wish.current_claim = WishStatus.PUBLISHED, None
    wish.fulfilled_at = wish.confirm_due_at = wish.timed_out_at = None
    wish.save(
        update_fields=[
            "status",
            "current_claim",
            "fulfilled_at",
            "confirm_due_at",
            "timed_out_at",
            "updated_at",
        ]
    )
    _event(wish, action="reopened", actor=actor, before=before, note=note)
    _tell(
        [claim.claimer_id, wish.rider_id],
        wish,
        "wish_status",
        lambda: _("A wish was reopened: %(text)s") % {"text": wish.text[:40]},
        note,
    )
    return wish


# --- points ------------------------------------------------------------------------------------


def _earn(wish: Wish, claimer: Any, payer: Any) -> tuple[str, int]:
    """Pay the claimer once for the wish; the points status and what was paid."""
    if claimer.role not in MEMBER_ROLES:
        return PointsStatus.NOT_MEMBER, 0
    if payer is None or not is_authenticated(payer):
        return PointsStatus.HELD, 0
    try:
        record = points_earn(
            member=claimer,
            activity=Activity.WISH_FULFILLED,
            reason=_("Micro-wish #%(id)s fulfilled") % {"id": wish.pk},
            actor=payer,
            idempotency_key=f"wish-{wish.pk}-fulfilled",
            source=wish,
        )
    except (Forbidden, Unauthenticated) as exc:
        if getattr(exc, "code", "") == "own_points":
            return PointsStatus.NOT_MEMBER, 0
        return PointsStatus.HELD, 0
    except ApplicationError as exc:
        if exc.code == "no_rule":
            return PointsStatus.NO_RULE, 0
        if exc.code in ("not_a_member", "no_street"):
            return PointsStatus.NOT_MEMBER, 0
        raise
    if record.paid == 0 and record.capped:
        return PointsStatus.CAPPED, 0
    return PointsStatus.PAID, record.paid


def _pay(wish: Wish, claimer: Any, payer: Any) -> None:
    status, paid = _earn(wish, claimer, payer)
    wish.points_status, wish.points_paid = status, paid
    wish.save(update_fields=["points_status", "points_paid", "updated_at"])
    _event(wish, action="points", actor=payer, data={"status": status, "paid": paid})


@transaction.atomic
def wish_points_pay(*, wish: Wish, actor: Any) -> Wish:
    """Staff who may pay the claimer pay the points a confirmation left waiting."""
    require(actor, Action.OPERATE, wish)
    _staff_only(actor)
    wish = _lock(wish)
    if wish.points_status != PointsStatus.HELD:
        raise Conflict(_("These points are not waiting for anyone."), code="points_not_held")
    claimer = wish.current_claim.claimer
    status, _paid = _earn(wish, claimer, actor)
    if status == PointsStatus.HELD:
        raise Forbidden(
            _("You may not pay this claimer: ask staff of the area they belong to."),
            code="points_out_of_scope",
        )
    _pay(wish, claimer, actor)
    return wish


# --- the time-out ------------------------------------------------------------------------------


def wishes_time_out(*, now: datetime | None = None) -> int:
    """Run by the scheduler: fulfilled wishes the rider did not confirm in time go to the
    community's staff, who confirm or reopen them. Safe to run twice (row locks, a re-check)."""
    now = now or timezone.now()
    due = Wish.objects.filter(status=WishStatus.FULFILLED, confirm_due_at__lt=now)
    count = 0
    for pk in list(due.order_by("confirm_due_at", "pk").values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            wish = _lock(Wish(pk=pk))
            if wish.status != WishStatus.FULFILLED or wish.confirm_due_at >= now:
                continue
            wish.status, wish.timed_out_at = WishStatus.TIMED_OUT, now
            wish.save(update_fields=["status", "timed_out_at", "updated_at"])
            _event(wish, action="timed_out", actor=None, before=WishStatus.FULFILLED)
            _tell(
                console_staff_ids(wish.community.code, beneath=True),
                wish,
                "wish_timed_out",
                lambda wish=wish: (
                    _("Not confirmed in time: please confirm or reopen wish #%(id)s")
                    % {"id": wish.pk}
                ),
                staff=True,
            )
            count += 1
    return count


def community_of(code: str) -> Area:
    """A community by its code (the public wall), or 404."""
    found = Area.objects.filter(code=code, level=AreaLevel.COMMUNITY).first()
    if found is None:
        raise NotFound(_("There is no community with that code."))
    return found
