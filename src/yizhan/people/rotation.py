"""Re-encrypting fields and recomputing blind indexes under the current key (key rotation).

Every encrypted field is listed in :data:`FIELDS`. :func:`rotate` walks a field's rows in
primary-key order, a batch at a time, each batch in its own transaction, and rewrites only rows
not yet under the current key: running it again skips what is done, so an interrupted run is
resumed by running it again. A row no configured key can open is counted and named, not fatal.

Not listed, because they cannot be recomputed: ``duties.GiftCode.code_hash`` (a keyed hash of
random digits that were shown once and not kept). Lookups match the old keys' hashes too
(``crypto.blind_indexes``); keep an old key configured until codes issued before the rotation
have expired (``duties.services.CODE_DAYS``, 7 days).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, models, transaction

from yizhan.core import crypto
from yizhan.people.models import TwoFactorDevice, User


@dataclass(frozen=True)
class EncryptedField:
    model: type[models.Model]
    token_field: str
    #: The blind index kept beside the ciphertext (recomputed from the clear value), if any.
    index_field: str | None = None
    index_purpose: str = "phone"

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.token_field}"


FIELDS: tuple[EncryptedField, ...] = (
    EncryptedField(User, "phone_encrypted", index_field="phone_index", index_purpose="phone"),
    EncryptedField(TwoFactorDevice, "secret_encrypted"),
)


@dataclass
class FieldReport:
    label: str
    rows: int = 0
    current: int = 0
    #: Still under an old key (with ``check``) or rewritten under the current one.
    old: int = 0
    rotated: int = 0
    unreadable: list[int] = field(default_factory=list)
    #: Rows changed by someone else while we worked (they were written with the current key).
    skipped: int = 0


def _state(spec: EncryptedField, token: str, index: str | None) -> tuple[str, str | None]:
    """('current' | 'old' | 'unreadable', clear value or None)."""
    try:
        clear = crypto.decrypt_strict(token)
    except (crypto.InvalidToken, ValueError, TypeError):
        return "unreadable", None
    if not crypto.is_current(token):
        return "old", clear
    if spec.index_field and index != crypto.blind_index(clear, purpose=spec.index_purpose):
        return "old", clear
    return "current", clear


def rotate(
    spec: EncryptedField,
    *,
    check: bool = False,
    batch_size: int = 500,
    progress: Callable[[FieldReport, int], None] | None = None,
) -> FieldReport:
    """Bring one field's rows to the current key (``check``: only count what is left)."""
    report = FieldReport(spec.label)
    columns = ["pk", spec.token_field] + ([spec.index_field] if spec.index_field else [])
    manager = spec.model._default_manager
    last = 0
    while True:
        rows = list(
            manager.filter(pk__gt=last)
            .exclude(**{spec.token_field: ""})
            .order_by("pk")
            .values_list(*columns)[:batch_size]
        )
        if not rows:
            break
        last = rows[-1][0]
        with transaction.atomic():
            for row in rows:
                pk, token = row[0], row[1]
                index = row[2] if spec.index_field else None
                report.rows += 1
                state, clear = _state(spec, token, index)
                if state == "unreadable":
                    report.unreadable.append(pk)
                    continue
                if state == "current":
                    report.current += 1
                    continue
                report.old += 1
                if check:
                    continue
                values = {spec.token_field: crypto.encrypt(clear)}
                if spec.index_field:
                    values[spec.index_field] = crypto.blind_index(clear, purpose=spec.index_purpose)
                try:
                    with transaction.atomic():
                        # Only if nobody changed the row since we read it.
                        changed = manager.filter(pk=pk, **{spec.token_field: token}).update(
                            **values
                        )
                except IntegrityError:  # another row holds the same value under the new key
                    report.unreadable.append(pk)
                    continue
                if changed:
                    report.rotated += 1
                else:
                    report.skipped += 1
        if progress is not None:
            progress(report, last)
    return report
