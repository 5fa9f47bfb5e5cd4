"""Log-in security: throttling and lockout, and two-factor log-in (TOTP) with recovery codes.

Every door that takes a password (the log-in page, the back office's log-in, the API's token
endpoint) calls :func:`login_authenticate`, so the same counters hold whichever door is used.

Lockout: failed log-ins are counted in the cache per account (or, for a name that is no
account, per typed name: the answer is the same, so the page tells nobody which accounts
exist) and per client address. ``LOGIN_FAILURE_LIMIT`` failures within
``LOGIN_FAILURE_WINDOW`` seconds lock the account for ``LOGIN_LOCKOUT_SECONDS``; the lock is
kept in the cache and, for a real account, on ``User.locked_until`` too, so staff see it and can
lift it (:func:`account_unlock`). Every lock is in the audit log.

Two-factor: a :class:`TwoFactorDevice` holds an encrypted TOTP secret (RFC 6238, pyotp);
:func:`two_factor_needed` says whether an account must pass it (enrolled, or its role is in
``YIZHAN_REQUIRE_2FA_ROLES``); the session remembers who passed (:func:`mark_verified`), and
``people.middleware.TwoFactorMiddleware`` keeps everything else out until then.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.core import crypto, ratelimit
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, Unauthenticated
from yizhan.core.models import AuditEntry
from yizhan.core.permissions import Action, is_authenticated, require
from yizhan.core.roles import SCOPED_ROLES
from yizhan.people.models import RecoveryCode, TwoFactorDevice, User
from yizhan.people.validation import normalise_phone_or_none

SESSION_KEY = "yizhan_2fa_user"
RECOVERY_CODES = 10
# 31 letters and digits that cannot be mistaken for each other: 10 of them are ~49.5 bits.
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class AccountLocked(ratelimit.RateLimited):
    code = "account_locked"


# --- lockout -----------------------------------------------------------------------------------


def _account_for(username: str) -> User | None:
    """The account a typed name means, found the way the log-in backend finds it."""
    phone = normalise_phone_or_none(username)
    user = None
    if phone:
        user = User.objects.filter(phone_index__in=crypto.blind_indexes(phone)).first()
    if user is None:
        user = User.objects.filter(username=username).first()
    return user


def _subject(username: str, user: User | None) -> str:
    if user is not None:
        return f"user:{user.pk}"
    return "name:" + (normalise_phone_or_none(username) or username.strip().lower())


def _lock_key(subject: str) -> str:
    return "login:lock:" + hashlib.sha256(subject.encode()).hexdigest()[:32]


def _failure_rate() -> ratelimit.Rate:
    return ratelimit.Rate(max(1, settings.LOGIN_FAILURE_LIMIT), settings.LOGIN_FAILURE_WINDOW)


def _ip_rate() -> ratelimit.Rate:
    return ratelimit.Rate(max(1, settings.LOGIN_IP_FAILURE_LIMIT), settings.LOGIN_FAILURE_WINDOW)


def _locked_message(until: datetime) -> str:
    return _(
        "Too many failed log-ins: this account is locked. Please try again after %(time)s, "
        "or ask your community's staff to unlock it."
    ) % {"time": ratelimit._clock(timezone.localtime(until))}


def _refuse(until: float) -> AccountLocked:
    when = datetime.fromtimestamp(until, tz=timezone.get_current_timezone())
    return AccountLocked(_locked_message(when), retry_after=int(until - time.time()) + 1)


def _check_not_locked(subject: str, ip: str, user: User | None) -> None:
    now = time.time()
    for key in (_lock_key(subject), _lock_key(f"ip:{ip}")):
        until = cache.get(key)
        if until and until > now:
            raise _refuse(until)
    if user is not None and user.locked_until and user.locked_until > timezone.now():
        raise _refuse(user.locked_until.timestamp())


def _lock(subject: str, *, user: User | None, ip: str, reason: str) -> float:
    until = time.time() + settings.LOGIN_LOCKOUT_SECONDS
    cache.set(_lock_key(subject), until, timeout=settings.LOGIN_LOCKOUT_SECONDS + 1)
    when = datetime.fromtimestamp(until, tz=timezone.get_current_timezone())
    with transaction.atomic():
        if user is not None:
            User.objects.filter(pk=user.pk).update(locked_until=when)
            log_action(
                actor=None,
                action="account.locked",
                target=user,
                data={"until": when.isoformat(), "ip": ip, "reason": reason},
            )
        else:
            # A name that is no account, or a client address: no row to point at, and the typed
            # name is not kept (it may be a password typed in the wrong box).
            AuditEntry.objects.create(
                action="login.address_blocked" if reason == "address" else "login.name_locked",
                target_type="login",
                target_id=(ip if reason == "address" else _lock_key(subject)[-12:])[:64],
                data={"until": when.isoformat(), "ip": ip},
            )
    return until


def login_authenticate(*, request: HttpRequest | None, username: str, password: str) -> User:
    """Check a password log-in through the lockout. Returns the account, or raises
    ``Unauthenticated`` (wrong name or password, one message for both) or ``AccountLocked``
    (429, saying when to try again)."""
    username = (username or "").strip()
    ip = ratelimit.client_ip(request)
    user = _account_for(username) if username else None
    subject = _subject(username, user)
    _check_not_locked(subject, ip, user)
    found = authenticate(request, username=username, password=password)
    if found is None:
        now = time.time()
        failures = ratelimit.count("login_fail", subject, rate=_failure_rate(), now=now)
        from_ip = ratelimit.count("login_fail_ip", f"ip:{ip}", rate=_ip_rate(), now=now)
        if failures >= settings.LOGIN_FAILURE_LIMIT:
            raise _refuse(_lock(subject, user=user, ip=ip, reason="failures"))
        if ip and from_ip >= settings.LOGIN_IP_FAILURE_LIMIT:
            raise _refuse(_lock(f"ip:{ip}", user=None, ip=ip, reason="address"))
        raise Unauthenticated(
            _("The phone number, username or password is not right."), code="invalid_login"
        )
    ratelimit.reset("login_fail", subject, rate=_failure_rate())
    if found.locked_until is not None:
        User.objects.filter(pk=found.pk).update(locked_until=None)
        found.locked_until = None
    return found


@transaction.atomic
def account_unlock(*, user: User, actor: Any) -> User:
    """Staff lift a lockout early (the account's own area, as for any operation on it)."""
    require(actor, Action.OPERATE, user)
    cache.delete(_lock_key(f"user:{user.pk}"))
    ratelimit.reset("login_fail", f"user:{user.pk}", rate=_failure_rate())
    was = user.locked_until
    User.objects.filter(pk=user.pk).update(locked_until=None)
    user.locked_until = None
    log_action(
        actor=actor,
        action="account.unlocked",
        target=user,
        data={"was_locked_until": was.isoformat() if was else None},
    )
    return user


def is_locked(user: User) -> bool:
    return bool(user.locked_until and user.locked_until > timezone.now())


# --- two-factor log-in ---------------------------------------------------------------------------


def may_use_two_factor(user: Any) -> bool:
    """Staff, handlers, admins and the platform operator may turn it on."""
    return is_authenticated(user) and (user.is_superuser or user.role in SCOPED_ROLES)


def two_factor_required(user: Any) -> bool:
    roles = set(getattr(settings, "YIZHAN_REQUIRE_2FA_ROLES", ()) or ())
    if not roles or not is_authenticated(user):
        return False
    return user.role in roles or ("superuser" in roles and user.is_superuser)


def two_factor_needed(user: Any) -> bool:
    """Whether this account must pass a second factor after its password."""
    return is_authenticated(user) and (user.two_factor_enabled or two_factor_required(user))


def is_verified(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    return bool(user is not None and session is not None and session.get(SESSION_KEY) == user.pk)


def mark_verified(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = request.user.pk
    # A new session id once the second factor is passed, as after the password.
    request.session.cycle_key()


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=6, interval=30)


def provisioning_uri(device: TwoFactorDevice) -> str:
    user = device.user
    label = user.username or f"user-{user.pk}"
    return _totp(device.secret).provisioning_uri(name=label, issuer_name=settings.TWO_FACTOR_ISSUER)


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _clean_code(code: Any) -> str:
    return "".join(ch for ch in str(code or "") if ch.isalnum()).lower()[:32]


def _matching_step(device: TwoFactorDevice, code: str, *, at: float | None = None) -> int | None:
    """The time step a 6-digit code belongs to (now, or one step either side for clock drift),
    if it is right and newer than the last accepted one."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = _totp(device.secret)
    now = time.time() if at is None else at
    current = int(now // 30)
    for step in (current, current - 1, current + 1):
        if step > device.last_step and secrets.compare_digest(totp.at(step * 30), code):
            return step
    return None


@transaction.atomic
def two_factor_begin(*, user: Any) -> TwoFactorDevice:
    """Start enrolment: a new secret (any earlier unconfirmed one is replaced)."""
    if not may_use_two_factor(user):
        raise Forbidden(_("Two-factor log-in is for staff accounts."), code="not_staff")
    device = TwoFactorDevice.objects.select_for_update().filter(user=user).first()
    if device is not None and device.confirmed_at is not None:
        raise Conflict(_("Two-factor log-in is already on."), code="two_factor_on")
    secret = crypto.encrypt(pyotp.random_base32())
    if device is None:
        device = TwoFactorDevice.objects.create(user=user, secret_encrypted=secret)
    else:
        device.secret_encrypted, device.last_step = secret, 0
        device.save(update_fields=["secret_encrypted", "last_step"])
    return device


def _new_recovery_codes(user: Any) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _i in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _j in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=_hash_code(_clean_code(c))) for c in codes]
    )
    return codes


def _wrong_code() -> ApplicationError:
    return ApplicationError(
        _("The code is not right. Type the 6 digits your authenticator app shows now."),
        code="wrong_code",
        field="code",
    )


@transaction.atomic
def two_factor_confirm(*, user: Any, code: str, at: float | None = None) -> list[str]:
    """Finish enrolment with a right code; returns the recovery codes (shown once)."""
    ratelimit.hit("two_factor", f"user:{user.pk}")
    device = TwoFactorDevice.objects.select_for_update().filter(user=user).first()
    if device is None or device.confirmed_at is not None:
        raise Conflict(_("Start the set-up again."), code="no_enrolment")
    step = _matching_step(device, _clean_code(code), at=at)
    if step is None:
        raise _wrong_code()
    device.confirmed_at, device.last_step = timezone.now(), step
    device.save(update_fields=["confirmed_at", "last_step"])
    User.objects.filter(pk=user.pk).update(two_factor_enabled=True)
    user.two_factor_enabled = True
    log_action(actor=user, action="two_factor.enabled", target=user)
    return _new_recovery_codes(user)


@transaction.atomic
def two_factor_verify(*, user: Any, code: str, at: float | None = None) -> str:
    """Check a second factor: a current TOTP code (each good once) or an unused recovery code
    (then used up). Returns "totp" or "recovery"; raises on a wrong code. Tries are limited
    (``RATE_LIMITS["two_factor"]``)."""
    ratelimit.hit("two_factor", f"user:{user.pk}")
    device = (
        TwoFactorDevice.objects.select_for_update()
        .filter(user=user, confirmed_at__isnull=False)
        .first()
    )
    if device is None:
        raise Conflict(_("Two-factor log-in is not set up."), code="no_two_factor")
    cleaned = _clean_code(code)
    step = _matching_step(device, cleaned, at=at)
    if step is not None:
        TwoFactorDevice.objects.filter(pk=device.pk).update(last_step=step)
        return "totp"
    used = RecoveryCode.objects.filter(
        user=user, code_hash=_hash_code(cleaned), used_at__isnull=True
    ).update(used_at=timezone.now())
    if used:
        left = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
        log_action(actor=user, action="two_factor.recovery_used", target=user, data={"left": left})
        return "recovery"
    raise _wrong_code()


@transaction.atomic
def recovery_codes_renew(*, user: Any, code: str) -> list[str]:
    """New recovery codes (the old ones stop working), after a right second factor."""
    two_factor_verify(user=user, code=code)
    codes = _new_recovery_codes(user)
    log_action(actor=user, action="two_factor.recovery_renewed", target=user)
    return codes


def recovery_codes_left(user: Any) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def _remove_two_factor(user: Any) -> None:
    TwoFactorDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    User.objects.filter(pk=user.pk).update(two_factor_enabled=False)
    user.two_factor_enabled = False


@transaction.atomic
def two_factor_disable(*, user: Any, code: str) -> None:
    """The owner turns it off with a right code, unless their role requires it."""
    if two_factor_required(user):
        raise Forbidden(
            _("Your account type must use two-factor log-in."), code="two_factor_required"
        )
    two_factor_verify(user=user, code=code)
    _remove_two_factor(user)
    log_action(actor=user, action="two_factor.disabled", target=user)


@transaction.atomic
def two_factor_reset(*, user: User, actor: Any) -> User:
    """Staff of the account's area remove a lost authenticator; the owner enrols again at the
    next log-in if their role requires it. Nobody resets their own."""
    require(actor, Action.OPERATE, user)
    if actor.pk == user.pk:
        raise Forbidden(_("Ask another administrator to do this."), code="own_account")
    _remove_two_factor(user)
    log_action(actor=actor, action="two_factor.reset", target=user)
    return user


def token_expiry(days: int | None) -> datetime:
    """When a new API token ends: the default life, or the asked one within the maximum."""
    if days is None:
        days = settings.API_TOKEN_TTL_DAYS
    if days < 1 or days > settings.API_TOKEN_MAX_TTL_DAYS:
        raise ApplicationError(
            _("A token lives between 1 and %(n)s days.") % {"n": settings.API_TOKEN_MAX_TTL_DAYS},
            code="invalid_ttl",
            field="ttl_days",
        )
    return timezone.now() + timedelta(days=days)
