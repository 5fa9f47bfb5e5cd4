"""Protection at rest for phone and ID numbers: Fernet encryption plus a keyed blind index.

The ciphertext can be read back only with the key; the blind index (HMAC-SHA256) lets us find
"the account with this phone" and enforce uniqueness without storing the number in clear.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _master_key() -> str:
    return settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY


@lru_cache(maxsize=8)
def _derive(master: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"yizhan-field", info=purpose).derive(
        master.encode()
    )


@lru_cache(maxsize=8)
def _fernet(master: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(master, b"encrypt")))


def encrypt(value: str) -> str:
    return _fernet(_master_key()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The clear value, or '' if the token was made with another key (never raises to a page)."""
    if not token:
        return ""
    try:
        return _fernet(_master_key()).decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def blind_index(value: str, *, purpose: str = "phone") -> str:
    key = _derive(_master_key(), b"index:" + purpose.encode())
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def derive_key(purpose: bytes) -> bytes:
    """A 32-byte key for one purpose (e.g. signing QR codes), derived from the master key."""
    return _derive(_master_key(), b"key:" + purpose)
