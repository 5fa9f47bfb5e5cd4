"""core.crypto under key rotation: the current key writes, old keys still read and match."""

import pytest

from yizhan.core import crypto

A, B, C = "key-a-" + "a" * 40, "key-b-" + "b" * 40, "key-c-" + "c" * 40


def test_old_key_reads_current_key_writes(settings):
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_OLD_KEYS = A, []
    token_a = crypto.encrypt("13812341234")
    index_a = crypto.blind_index("13812341234")
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_OLD_KEYS = B, [A]
    assert crypto.decrypt(token_a) == "13812341234"
    assert not crypto.is_current(token_a)
    token_b = crypto.reencrypt(token_a)
    assert crypto.is_current(token_b) and crypto.decrypt(token_b) == "13812341234"
    assert crypto.blind_indexes("13812341234") == [crypto.blind_index("13812341234"), index_a]
    assert crypto.blind_index("13812341234") != index_a
    assert crypto.derive_keys(b"station-qr")[0] == crypto.derive_key(b"station-qr")
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    assert crypto.decrypt(token_a) == ""  # A dropped: its tokens no longer open
    assert crypto.decrypt(token_b) == "13812341234"
    assert crypto.blind_indexes("13812341234") == [crypto.blind_index("13812341234")]


def test_unknown_key_raises_only_in_strict_mode(settings):
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_OLD_KEYS = C, []
    token_c = crypto.encrypt("x")
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_OLD_KEYS = B, [A]
    assert crypto.decrypt(token_c) == ""
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt_strict(token_c)
    with pytest.raises(crypto.InvalidToken):
        crypto.reencrypt(token_c)


def test_old_keys_ignore_blanks_and_the_current_key(settings):
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_OLD_KEYS = B, ["", " ", B, A, A]
    assert len(crypto.blind_indexes("1")) == 2


def test_unset_key_falls_back_to_secret_key(settings):
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_OLD_KEYS = "", []
    token = crypto.encrypt("1")
    # Moving from SECRET_KEY to a field key: SECRET_KEY's value goes in the old keys.
    settings.FIELD_ENCRYPTION_OLD_KEYS = [settings.SECRET_KEY]
    settings.FIELD_ENCRYPTION_KEY = A
    assert crypto.decrypt(token) == "1" and not crypto.is_current(token)
