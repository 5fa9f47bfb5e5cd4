"""Protection at rest for phone and ID numbers: Fernet encryption plus a keyed blind index.

The ciphertext can be read back only with the key; the blind index (HMAC-SHA256) lets us find
"the account with this phone" and enforce uniqueness without storing the number in clear.

Key rotation: ``FIELD_ENCRYPTION_KEY`` is the current key (``SECRET_KEY`` when unset) and the
only one anything is written with; ``FIELD_ENCRYPTION_OLD_KEYS`` are keys being rotated out.
Reading tries the current key first, then the old ones (``MultiFernet``); a lookup by blind
index matches the current key's index or any old key's (:func:`blind_indexes`), so nothing is
lost between deploying a new key and ``manage.py rotate_field_keys`` finishing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = [
    "InvalidToken",
    "blind_index",
    "blind_indexes",
    "decrypt",
    "decrypt_strict",
    "derive_key",
    "derive_keys",
    "encrypt",
    "is_current",
    "reencrypt",
]


def _master_key() -> str:
    return settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY


def _master_keys() -> tuple[str, ...]:
    """The current key, then the old keys still accepted for reading (no repeats, no blanks)."""
    keys = [_master_key()]
    for old in getattr(settings, "FIELD_ENCRYPTION_OLD_KEYS", None) or ():
        old = (old or "").strip()
        if old and old not in keys:
            keys.append(old)
    return tuple(keys)


@lru_cache(maxsize=32)
def _derive(master: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"yizhan-field", info=purpose).derive(
        master.encode()
    )


@lru_cache(maxsize=16)
def _fernet(master: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(master, b"encrypt")))


@lru_cache(maxsize=16)
def _multi(masters: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet(m) for m in masters])


def encrypt(value: str) -> str:
    """Ciphertext of ``value`` under the current key."""
    return _fernet(_master_key()).encrypt(value.encode()).decode()


def decrypt_strict(token: str) -> str:
    """The clear value under the current or an old key; raises ``InvalidToken`` otherwise."""
    return _multi(_master_keys()).decrypt(token.encode()).decode()


def decrypt(token: str) -> str:
    """The clear value, or '' if no configured key opens the token (never raises to a page)."""
    if not token:
        return ""
    try:
        return decrypt_strict(token)
    except (InvalidToken, ValueError, TypeError):
        return ""


def is_current(token: str) -> bool:
    """Whether ``token`` was made with the current key (rotation has nothing to do for it)."""
    try:
        _fernet(_master_key()).decrypt(token.encode())
    except (InvalidToken, ValueError, TypeError):
        return False
    return True


def reencrypt(token: str) -> str:
    """``token`` under the current key (raises ``InvalidToken`` if no configured key opens it)."""
    return encrypt(decrypt_strict(token))


def _index(master: str, value: str, purpose: str) -> str:
    key = _derive(master, b"index:" + purpose.encode())
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def blind_index(value: str, *, purpose: str = "phone") -> str:
    """The keyed hash of ``value`` under the current key: what is stored."""
    return _index(_master_key(), value, purpose)


def blind_indexes(value: str, *, purpose: str = "phone") -> list[str]:
    """The keyed hashes of ``value`` under the current key, then each old key: what a lookup
    matches (``phone_index__in=blind_indexes(phone)``) while a rotation is under way."""
    return [_index(master, value, purpose) for master in _master_keys()]


def derive_key(purpose: bytes) -> bytes:
    """A 32-byte key for one purpose (e.g. signing QR codes), derived from the master key."""
    return _derive(_master_key(), b"key:" + purpose)


def derive_keys(purpose: bytes) -> list[bytes]:
    """:func:`derive_key` under the current key, then each old key: for checking a signature
    made before the rotation (a printed QR code), never for making one."""
    return [_derive(master, b"key:" + purpose) for master in _master_keys()]
