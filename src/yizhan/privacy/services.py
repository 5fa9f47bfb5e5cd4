"""A rider's rights over their data: download it (:func:`personal_data_export`) and delete their
account (:func:`account_delete`).

Deletion keeps the records and removes the person. The account row stays as a *tombstone*: its
username becomes ``deleted-<random>``, and its name, phone (ciphertext, blind index, mask),
password, language and log-in state are cleared; the rider profile keeps only what the
statistics need (platform, occupation, vehicle, community, grid, status, dates) and its work
address and work location are cleared (the location becomes the community's centre). Nothing
left on either row says who the person was.

Why a tombstone and not deleting the row: reports, ledger postings, appeals, event sign-ups,
welfare receipts, wish claims, honours and the party-membership pipeline refer to the account
or its profile, several of them with ``PROTECT`` (appeals, sign-ups, receipts, wish claims,
nominations, pipeline records) and the rest with ``SET_NULL`` or ``CASCADE``. Deleting the
row would either be refused or would null or delete records that must stay (the ledger must
still reconcile; a report must still say it came from a rider, and its points must still be
traceable to it). A tombstone keeps every record and every constraint (one sign-up per event,
one points account per member) intact while pointing at nobody.

What goes outright: the inbox (notifications), team memberships (a roster of a person who is
gone), the two-factor device and recovery codes. API tokens are revoked (their hashes stay for
the audit log). Open business is closed the way the rider themself would close it, through the
owning apps' services: claims on posts withdrawn (freeing the place), reservations in the
points shop cancelled (points and stock return), sign-ups to events that have not started
cancelled (the waiting list moves up), wishes nobody has claimed yet withdrawn. Consents are
closed (:func:`consents_close`). Every session of the account stops working at once: Django
checks a hash of the password with every request, and the password is replaced; the account is
also inactive.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.core import ratelimit
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Forbidden, Unauthenticated
from yizhan.core.permissions import is_authenticated
from yizhan.core.roles import Role
from yizhan.privacy.exports import Subject, subject_for

TOMBSTONE_PREFIX = "deleted-"
EXPORT_FORMATS = ("json", "xlsx")
#: Wrong passwords on the delete form, per account, before it refuses for a while.
DELETE_ATTEMPTS = ratelimit.Rate(5, 3600)


def is_tombstone(user: Any) -> bool:
    return bool(user.username.startswith(TOMBSTONE_PREFIX) and not user.is_active)


def _require_self_rider(user: Any, actor: Any) -> None:
    if not is_authenticated(actor):
        raise Unauthenticated(_("Please log in first."))
    if actor.pk != user.pk:
        raise Forbidden(_("Only the rider themself may do this."), code="not_yours")
    if actor.role != Role.RIDER:
        raise Forbidden(_("This is for riders' accounts."), code="not_rider")


# --- download ----------------------------------------------------------------------------------


def personal_data_export(*, user: Any, actor: Any, fmt: str) -> Subject:
    """Check and audit a download of ``user``'s data; returns the subject to write.

    The audit entry is written (and committed) before the file is generated: a download that
    fails half-way is still on record as asked for."""
    _require_self_rider(user, actor)
    if fmt not in EXPORT_FORMATS:
        raise ApplicationError(
            _("Please choose JSON or Excel."), code="invalid_format", field="format"
        )
    subject = subject_for(user)
    with transaction.atomic():
        log_action(
            actor=actor,
            action="export",
            target=user,
            area_code=user.area_code,
            data={"kind": "personal_data", "format": fmt},
        )
    return subject


# --- deletion ----------------------------------------------------------------------------------


@dataclass
class Erasure:
    """What an erasure did, by kind (counts only: no personal data)."""

    already: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n


def _check_password(user: Any, password: Any) -> None:
    key = f"user:{user.pk}"
    if not isinstance(password, str) or not password or not user.check_password(password):
        if ratelimit.count("privacy_delete", key, rate=DELETE_ATTEMPTS) > DELETE_ATTEMPTS.count:
            raise ratelimit.RateLimited(
                _("Too many wrong passwords. Please try again later."),
                retry_after=DELETE_ATTEMPTS.period,
            )
        raise ApplicationError(
            _("That password is not right."), code="wrong_password", field="password"
        )


@transaction.atomic
def account_delete(*, user: Any, actor: Any, password: Any, confirm: Any) -> Erasure:
    """The rider deletes their own account, after typing their password and confirming.

    Riders log in with their phone number and password (``people.auth``), so the password is
    the re-authentication; a rider registered on paper has no usable password and cannot log in
    at all until they set one. Staff cannot delete a rider through this (the actor must be the
    account itself). Idempotent: a second call on a deleted account changes nothing."""
    _require_self_rider(user, actor)
    if is_tombstone(user):
        return Erasure(already=True)
    if confirm is not True:
        raise ApplicationError(
            _("Please confirm that you want to delete your account."),
            code="confirm_required",
            field="confirm",
        )
    _check_password(user, password)
    return erase(user=user, actor=user, reason="self")


def consents_close(*, user: Any, actor: Any, now: Any) -> int:
    """Close the account's consents in force (``people.Consent``); how many rows were closed.

    The rider's own deletion withdraws through the people app's ``consent_withdraw`` (the
    privacy consent, which takes the location consent with it, each withdrawal audited); the
    retention job (no actor) closes the rows directly. While the people app has no consent
    records (an older database) this does nothing."""
    try:
        model = apps.get_model("people", "Consent")
    except LookupError:
        return 0
    open_rows = model.objects.filter(user_id=user.pk, withdrawn_at__isnull=True)
    count = open_rows.count()
    if not count:
        return 0
    if actor is not None and actor.pk == user.pk:
        from yizhan.people import services as people_services

        withdraw = getattr(people_services, "consent_withdraw", None)
        if withdraw is not None:
            from yizhan.people.choices import ConsentKind

            withdraw(user=user, actor=actor, kind=ConsentKind.PRIVACY)
    # Whatever is still open (any other kind, or no actor): closed here.
    open_rows.update(withdrawn_at=now)
    return count


def _try(call, *args, **kwargs) -> int:
    """Run one winding-down service; a refusal (already closed, too late) is not an error."""
    try:
        with transaction.atomic():
            call(*args, **kwargs)
        return 1
    except ApplicationError:
        return 0


def _wind_down(user: Any, subject: Subject, result: Erasure) -> None:
    """Close open business as the rider would, through the owning apps' services."""
    from yizhan.events.models import Signup
    from yizhan.events.services import signup_cancel
    from yizhan.people.choices import ClaimStatus
    from yizhan.people.models import PostClaim
    from yizhan.people.services import post_claim_withdraw
    from yizhan.rewards.choices import OPEN_STATUSES
    from yizhan.rewards.models import Redemption
    from yizhan.rewards.services import redemption_cancel
    from yizhan.wishes.choices import WishStatus
    from yizhan.wishes.models import Wish
    from yizhan.wishes.services import wish_withdraw

    if subject.profile is not None:
        claims = PostClaim.objects.filter(
            rider=subject.profile, status__in=[ClaimStatus.PENDING, ClaimStatus.APPROVED]
        ).select_related("rider")
        for claim in claims:
            result.add("post_claims_withdrawn", _try(post_claim_withdraw, claim=claim, actor=user))
    for redemption in Redemption.objects.filter(user=user, status__in=OPEN_STATUSES):
        result.add(
            "redemptions_cancelled", _try(redemption_cancel, redemption=redemption, actor=user)
        )
    signups = Signup.objects.filter(
        user=user, cancelled_at__isnull=True, checked_in_at__isnull=True,
        event__starts_at__gt=timezone.now(),
    ).exclude(status="cancelled")  # fmt: skip
    for signup in signups.select_related("event"):
        result.add("signups_cancelled", _try(signup_cancel, signup=signup, actor=user))
    open_wishes = Wish.objects.filter(
        rider=user, status__in=[WishStatus.PENDING, WishStatus.PUBLISHED]
    )
    for wish in open_wishes:
        if wish.can_withdraw():
            result.add("wishes_withdrawn", _try(wish_withdraw, wish=wish, actor=user))


def erase(*, user: Any, actor: Any, reason: str) -> Erasure:
    """Remove the identity of ``user`` and keep their records (see the module's docstring).

    Shared by the rider's own deletion and the retention job for rejected registrations
    (``actor`` None). Runs inside the caller's transaction; the account row is locked first, so
    two concurrent erasures of one account do the work once."""
    from yizhan.notifications.models import Notification
    from yizhan.people.models import (
        ApiToken,
        RecoveryCode,
        RiderProfile,
        Team,
        TeamMembership,
        TwoFactorDevice,
        User,
    )

    result = Erasure()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if is_tombstone(locked):
            result.already = True
            return result
        subject = subject_for(locked)
        now = timezone.now()
        if actor is not None:
            _wind_down(locked, subject, result)
        if subject.profile is not None:
            profile = subject.profile
            result.add("teams_left", TeamMembership.objects.filter(rider=profile).delete()[0])
            result.add("teams_led", Team.objects.filter(leader=profile).update(leader=None))
            centre = profile.grid or profile.community
            RiderProfile.objects.filter(pk=profile.pk).update(
                work_address="",
                work_lat=centre.center_lat if centre.center_lat is not None else 0.0,
                work_lng=centre.center_lng if centre.center_lng is not None else 0.0,
                rejection_reason="",
                updated_at=now,
            )
        result.add("notifications", Notification.objects.filter(recipient_id=locked.pk).delete()[0])
        result.add(
            "tokens_revoked",
            ApiToken.objects.filter(user_id=locked.pk, revoked_at__isnull=True).update(
                revoked_at=now, name=""
            ),
        )
        TwoFactorDevice.objects.filter(user_id=locked.pk).delete()
        RecoveryCode.objects.filter(user_id=locked.pk).delete()
        result.add("consents_closed", consents_close(user=locked, actor=actor, now=now))

        locked.username = TOMBSTONE_PREFIX + secrets.token_hex(8)
        locked.name = locked.first_name = locked.last_name = locked.email = ""
        locked.set_phone("")
        locked.set_unusable_password()
        locked.is_active = False
        locked.language = ""
        locked.on_duty = False
        locked.locked_until = None
        locked.two_factor_enabled = False
        locked.last_login = None
        locked.save()
        locked.groups.clear()
        locked.user_permissions.clear()
        # No personal data here: the account id (a tombstone now), why, and counts.
        log_action(
            actor=actor,
            action="account.deleted",
            target=locked,
            area_code=locked.area_code,
            data={"reason": reason, **result.counts},
        )
    user.username, user.name, user.is_active = locked.username, "", False
    user.phone_encrypted, user.phone_index, user.phone_masked = "", None, ""
    user.password = locked.password
    return result
