"""Rate limits: a fixed window counted in the cache (Redis in production, shared by every app
process; the local-memory cache in the embedded default, one process).

A limit is named in ``settings.RATE_LIMITS`` as ``"<count>/<period>"`` (period in seconds, or
with a unit: ``30s``, ``15m``, ``1h``, ``1d``); ``"0"`` or an empty value turns it off, and
``RATELIMIT_ENABLED = False`` turns them all off. A caller names the limit and the key (the
account, the client address, or both), and :func:`hit` either counts the request or raises
:class:`RateLimited` (HTTP 429) saying when to try again; the API and page error handlers add
the ``Retry-After`` header.

A fixed window is enough here: the limits are there to stop bursts and scripts, not to meter
fairly, and a window is one ``add`` plus one ``incr`` (both atomic in Redis and in locmem).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from yizhan.core.errors import ApplicationError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RateLimited(ApplicationError):
    """Too many requests: the answer is 429 with ``Retry-After`` (whole seconds)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message, *, retry_after: int, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))
        if self.detail is None:
            self.detail = {"retry_after": self.retry_after}


@dataclass(frozen=True)
class Rate:
    count: int
    period: int  # seconds


def parse_rate(value: str | None) -> Rate | None:
    """``"20/1h"`` → Rate(20, 3600); ``"0"``, ``""`` or ``None`` → no limit."""
    value = (value or "").strip()
    if not value or value == "0":
        return None
    try:
        count, _sep, period = value.partition("/")
        period = period.strip() or "60"
        unit = period[-1].lower()
        if unit in _UNITS:
            seconds = int(period[:-1] or 1) * _UNITS[unit]
        else:
            seconds = int(period)
        rate = Rate(int(count), seconds)
    except ValueError as exc:
        raise ValueError(f"Not a rate (e.g. 20/1h): {value!r}") from exc
    if rate.count <= 0 or rate.period <= 0:
        return None
    return rate


def rate_for(name: str) -> Rate | None:
    if not getattr(settings, "RATELIMIT_ENABLED", True):
        return None
    return parse_rate(getattr(settings, "RATE_LIMITS", {}).get(name))


def client_ip(request: HttpRequest | None) -> str:
    """The client's address. Behind a proxy, set ``YIZHAN_TRUSTED_PROXY_HOPS`` to the number of
    proxies that append to X-Forwarded-For; by default the header is ignored (a client could
    forge it to escape the per-address limits)."""
    if request is None:
        return ""
    hops = getattr(settings, "YIZHAN_TRUSTED_PROXY_HOPS", 0)
    if hops:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


def _key(name: str, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"rl:{name}:{digest}"


def _window(rate: Rate, now: float) -> tuple[int, int]:
    """The current window's number and the seconds left in it."""
    window = int(now // rate.period)
    return window, max(1, math.ceil((window + 1) * rate.period - now))


def retry_message(retry_after: int) -> str:
    """ "Please try again after 14:35." in local time (and the wait, for a short one)."""
    at = timezone.localtime(timezone.now() + timedelta(seconds=retry_after))
    return _("Please try again after %(time)s.") % {"time": _clock(at)}


def _clock(at: datetime) -> str:
    return time_format(at, "H:i")


def count(name: str, key: str, *, rate: Rate | None = None, now: float | None = None) -> int:
    """Add one to ``key``'s counter for limit ``name`` and return the new count (0: no limit)."""
    rate = rate or rate_for(name)
    if rate is None or not key:
        return 0
    window, left = _window(rate, time.time() if now is None else now)
    cache_key = f"{_key(name, key)}:{window}"
    cache.add(cache_key, 0, timeout=left + 1)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=left + 1)
        return 1


def hit(name: str, *keys: str, message: str | None = None) -> None:
    """Count one request against limit ``name`` for each non-empty key; over the limit for any
    of them raises :class:`RateLimited`. A request that is refused still counts, so a client
    that keeps hammering stays refused until the window ends."""
    rate = rate_for(name)
    if rate is None:
        return
    now = time.time()
    for key in keys:
        if key and count(name, key, rate=rate, now=now) > rate.count:
            _window_no, left = _window(rate, now)
            raise RateLimited(
                message or _("Too many requests. %(when)s") % {"when": retry_message(left)},
                retry_after=left,
            )


def hit_request(
    name: str,
    request: HttpRequest,
    *,
    user: bool = True,
    ip: bool = False,
    message=None,
    replay: tuple[str, Any] | None = None,
) -> None:
    """:func:`hit` keyed by the signed-in account and/or the client's address.

    ``replay=(scope, idempotency_key)``: a retry of a write that already succeeded is not
    counted (it only replays the first answer; a phone that lost the answer must get it, not a
    429)."""
    if replay is not None:
        from yizhan.core.idempotency import completed

        if completed(*replay):
            return
    keys = []
    account = getattr(request, "user", None)
    if user and account is not None and getattr(account, "is_authenticated", False):
        keys.append(f"user:{account.pk}")
    if ip:
        keys.append(f"ip:{client_ip(request)}")
    hit(name, *keys, message=message)


def reset(name: str, key: str, *, rate: Rate | None = None) -> None:
    """Forget ``key``'s counter for limit ``name`` (e.g. after a successful log-in)."""
    rate = rate or rate_for(name)
    if rate is None:
        return
    window, _left = _window(rate, time.time())
    cache.delete(f"{_key(name, key)}:{window}")
