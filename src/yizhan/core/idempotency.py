"""Writes a phone can repeat: the same key and payload give the first result, once.

Usage inside a service::

    return run_once(
        scope="points.award", key=idempotency_key, payload={...},
        model=Posting, work=lambda: _award(...),
    )

``run_once`` claims the key *before* the work, inside one savepoint with it. A repeat fails on
the unique index and replays the stored result; one that arrives while the first is still
running waits on that index (PostgreSQL; SQLite has a single writer) and, once the first
commits, finds its result. A repeat with a different payload is a
``Conflict`` (409). If the work is refused (an ``ApplicationError``), the key is released with it,
so the client may try again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from yizhan.core.errors import ApplicationError, Conflict
from yizhan.core.models import IdempotencyRecord

T = TypeVar("T", bound=models.Model)

_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,100}$")


def check_key(key: Any) -> str:
    """A client key: 8–100 letters, digits or ``. _ : -`` (a UUID fits)."""
    if not isinstance(key, str) or not _KEY.match(key):
        raise ApplicationError(
            _("The request needs an idempotency key: 8 to 100 letters, digits or . _ : -"),
            code="invalid_idempotency_key",
            field="idempotency_key",
        )
    return key


def completed(scope: str, key: Any) -> bool:
    """A write with this key already succeeded: a repeat will only replay it (so, e.g., it
    must not count against a rate limit a second time)."""
    if not isinstance(key, str) or not _KEY.match(key):
        return False
    return IdempotencyRecord.objects.filter(scope=scope, key=key).exclude(result_id="").exists()


def fingerprint(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _replay(record: IdempotencyRecord, print_: str, model: type[T]) -> T:
    if record.fingerprint != print_:
        raise Conflict(
            _("This idempotency key was already used for a different request."),
            code="idempotency_key_reused",
            field="idempotency_key",
        )
    return model._default_manager.get(pk=record.result_id)


def run_once(*, scope: str, key: str, payload: Any, model: type[T], work: Callable[[], T]) -> T:
    """Run ``work`` once per (scope, key); a repeat returns the first result (see module doc)."""
    key = check_key(key)
    print_ = fingerprint(payload)
    try:
        # Claim the key first: most keys are new, and a repeat fails here, before any work.
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(scope=scope, key=key, fingerprint=print_)
            result = work()
            record.result_type = result._meta.label_lower
            record.result_id = str(result.pk)
            record.save(update_fields=["result_type", "result_id"])
            return result
    except IntegrityError:
        # The key was used before, or by a concurrent request that committed first (we waited
        # for it on the unique index): replay its result.
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None or not existing.result_id:
            raise
        return _replay(existing, print_, model)
