from django.test import override_settings

from yizhan.core import crypto
from yizhan.core.masking import mask_id_number, mask_name, mask_phone


def test_encrypt_round_trip_and_blind_index_is_stable():
    token = crypto.encrypt("13812341234")
    assert "13812341234" not in token
    assert crypto.decrypt(token) == "13812341234"
    assert crypto.blind_index("13812341234") == crypto.blind_index("13812341234")
    assert crypto.blind_index("13812341234") != crypto.blind_index("13812341235")


def test_another_key_cannot_read_and_never_raises():
    token = crypto.encrypt("13812341234")
    with override_settings(FIELD_ENCRYPTION_KEY="another-key"):
        assert crypto.decrypt(token) == ""
    assert crypto.decrypt("garbage") == ""


def test_masks():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_id_number("110101199003077777") == "1***************77"
    assert mask_name("王小明") == "王**"
