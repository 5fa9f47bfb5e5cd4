"""A reward's photo goes through ``core.images`` like every other upload (found with the upload
torture corpus: the catalogue form stored the file as it came, EXIF and appended payload
included)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.core.torture import upload
from yizhan.core.errors import ApplicationError
from yizhan.rewards.models import Reward
from yizhan.rewards.services import reward_create, reward_update


def _phone_jpeg() -> SimpleUploadedFile:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (40.0, 5.0, 42.7), 3: "E", 4: (113.0, 18.0, 1.0)}
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(out, "JPEG", exif=exif.tobytes())
    return SimpleUploadedFile("raincoat.jpg", out.getvalue(), content_type="image/jpeg")


def test_the_photo_is_stored_re_encoded_without_metadata(shop, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    reward = reward_create(
        street=shop.street_a, name="雨衣", cost=15, actor=shop.street_admin, photo=_phone_jpeg()
    )
    with reward.photo.open("rb") as stored:
        image = Image.open(io.BytesIO(stored.read()))
    assert image.format == "JPEG" and image.size == (400, 300)
    assert not image.getexif()


@pytest.mark.parametrize("torture", ["jpeg_zip_polyglot", "png_dimension_bomb", "giant_exif_png"])
def test_a_bad_photo_is_refused_and_nothing_is_stored(shop, settings, tmp_path, torture):
    settings.MEDIA_ROOT = str(tmp_path)
    with pytest.raises(ApplicationError) as refused:
        reward_create(
            street=shop.street_a, name="头盔", cost=15, actor=shop.street_admin,
            photo=upload(torture),
        )  # fmt: skip
    assert refused.value.code == "invalid_image"
    assert not Reward.objects.filter(name="头盔").exists()
    assert not any(tmp_path.rglob("*.*"))


def test_a_bad_photo_is_refused_on_update(shop, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    with pytest.raises(ApplicationError):
        reward_update(
            reward=shop.reward, actor=shop.street_admin, photo=upload("jpeg_zip_polyglot")
        )
    shop.reward.refresh_from_db()
    assert not shop.reward.photo
