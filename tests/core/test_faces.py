"""core.faces: a real face is found and blurred beyond recognition (the detector no longer finds
it, its detail is gone), the rest of the picture stays, a picture without faces comes back byte
for byte, and nothing — a broken file, a tiny or odd picture, a failing detector — raises: it
fails closed (no copy)."""

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from yizhan.core import faces

ASTRONAUT = Path(__file__).parent.parent / "reports" / "fixtures" / "astronaut.jpg"
#: Where the astronaut's face is in the 512 × 512 fixture (x, y, w, h), by the frontal cascade.
FACE = (177, 66, 95, 95)


def decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)


def jpeg(image: Image.Image, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, **params)
    return out.getvalue()


def frontal_faces(pixels: np.ndarray) -> list:
    grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + faces.FRONTAL)
    return list(cascade.detectMultiScale(grey, 1.1, 3, minSize=(24, 24)))


def covers(box, face=FACE) -> bool:
    x, y, w, h = box
    fx, fy, fw, fh = face
    return x <= fx and y <= fy and x + w >= fx + fw and y + h >= fy + fh


def centred_in(box, region) -> bool:
    x, y, w, h = box
    rx, ry, rw, rh = region
    cx, cy = x + w / 2, y + h / 2
    return rx <= cx <= rx + rw and ry <= cy <= ry + rh


def sharpness(grey: np.ndarray) -> float:
    """Variance of the Laplacian: the detail (edges) in a patch."""
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


@pytest.fixture(scope="module")
def astronaut() -> bytes:
    return ASTRONAUT.read_bytes()


def test_the_fixture_is_small_and_its_face_is_there(astronaut):
    assert len(astronaut) <= 60 * 1024
    found = frontal_faces(decode(astronaut))
    assert any(abs(x - FACE[0]) < 15 and abs(y - FACE[1]) < 15 for x, y, _w, _h in found)


def test_a_face_is_found_and_its_padded_box_covers_it(astronaut):
    result = faces.blur_faces(astronaut)

    assert result.ok and result.faces == 1
    assert any(covers(box) for box in result.boxes)
    assert result.display != astronaut


def test_the_blurred_face_is_gone_for_the_detector_and_for_the_eye(astronaut):
    original = decode(astronaut)
    result = faces.blur_faces(astronaut)
    blurred = decode(result.display)

    # The detector (even at its most willing) no longer finds a face where the face was.
    assert not [box for box in frontal_faces(blurred) if covers(box, (200, 90, 50, 50))]
    assert not faces.detect_faces(blurred)
    # The detail in the face's box is gone: the Laplacian's variance falls by more than 95 %,
    # and the pixels are far from what they were.
    x, y, w, h = FACE
    before = cv2.cvtColor(original[y : y + h, x : x + w], cv2.COLOR_BGR2GRAY)
    after = cv2.cvtColor(blurred[y : y + h, x : x + w], cv2.COLOR_BGR2GRAY)
    assert sharpness(after) < 0.05 * sharpness(before)
    assert np.abs(before.astype(int) - after.astype(int)).mean() > 10


def test_the_rest_of_the_picture_stays_as_it_was(astronaut):
    original = decode(astronaut).astype(int)
    result = faces.blur_faces(astronaut)
    blurred = decode(result.display).astype(int)
    outside = np.ones(original.shape[:2], dtype=bool)
    for x, y, w, h in result.boxes:
        outside[max(0, y - 8) : y + h + 8, max(0, x - 8) : x + w + 8] = False

    assert outside.mean() > 0.8
    assert np.abs(original - blurred)[outside].mean() < 3  # a JPEG re-encode, no more


def test_the_thumbnail_is_made_from_the_blurred_picture(astronaut):
    thumb = jpeg(Image.open(io.BytesIO(astronaut)).resize((400, 400)))
    result = faces.blur_faces(astronaut, thumb=thumb)
    small = decode(result.thumb)

    assert result.thumb != thumb and small.shape[:2] == (400, 400)
    # Nothing found where the face was (a cascade may still fire on the suit elsewhere).
    face = tuple(round(v * 400 / 512) for v in FACE)
    assert not [box for box in faces.detect_faces(small) if centred_in(box, face)]
    x, y, w, h = face
    before = cv2.cvtColor(decode(thumb)[y : y + h, x : x + w], cv2.COLOR_BGR2GRAY)
    after = cv2.cvtColor(small[y : y + h, x : x + w], cv2.COLOR_BGR2GRAY)
    assert sharpness(after) < 0.05 * sharpness(before)


def drawn() -> Image.Image:
    """A street scene of shapes: a doorway, bikes, a sign — no face."""
    image = Image.new("RGB", (640, 480), (170, 190, 210))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 640, 480), fill=(90, 90, 95))
    draw.rectangle((250, 120, 390, 300), fill=(120, 70, 40))
    for x in (60, 460):
        draw.ellipse((x, 330, x + 70, 400), outline=(20, 20, 20), width=6)
        draw.ellipse((x + 90, 330, x + 160, 400), outline=(20, 20, 20), width=6)
    draw.text((270, 90), "EXIT", fill=(0, 120, 0))
    return image


def test_a_photo_without_faces_comes_back_byte_for_byte():
    display = jpeg(drawn())
    thumb = jpeg(drawn().resize((400, 300)))

    result = faces.blur_faces(display, thumb=thumb)

    assert result.ok and result.faces == 0 and result.boxes == []
    assert result.display == display and result.thumb == thumb


def test_without_a_thumbnail_one_is_made():
    result = faces.blur_faces(jpeg(drawn()))
    assert result.ok and decode(result.thumb).shape[:2] == (300, 400)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a picture at all",
        b"\xff\xd8\xff\xe0" + b"\x00" * 200,  # a JPEG's start and nothing after
        pytest.param("truncated", id="truncated-jpeg"),
    ],
)
def test_what_cannot_be_read_fails_closed_without_raising(data, astronaut):
    if data == "truncated":
        data = astronaut[:300]
    result = faces.blur_faces(data)
    assert result.ok is False and result.display is None and result.thumb is None


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGB", (1, 1), (255, 0, 0)),
        Image.new("RGB", (15, 9), (0, 0, 0)),
        Image.new("L", (300, 200), 128),  # grey JPEG
        Image.new("RGB", (4000, 12), (10, 200, 10)),  # a long strip
        Image.new("RGB", (12, 3000), (200, 10, 10)),
    ],
    ids=["1x1", "tiny", "grey", "wide-strip", "tall-strip"],
)
def test_odd_pictures_give_an_answer(image):
    data = jpeg(image)
    result = faces.blur_faces(data)
    assert result.ok and result.faces == 0 and result.display == data


def test_a_detector_failure_fails_closed(astronaut, monkeypatch):
    def broken(_pixels):
        raise cv2.error("simulated")

    monkeypatch.setattr(faces, "detect_faces", broken)

    result = faces.blur_faces(astronaut)

    assert result.ok is False and result.display is None and result.error == "error"


def test_a_large_photo_is_looked_at_in_a_smaller_copy_and_the_boxes_scaled_back(astronaut):
    # The astronaut in a 1600 × 1200 scene: detection runs at DETECT_SIDE, boxes come back in
    # the scene's pixels.
    scene = Image.new("RGB", (1600, 1200), (120, 130, 140))
    scene.paste(Image.open(io.BytesIO(astronaut)).resize((768, 768)), (700, 300))
    result = faces.blur_faces(jpeg(scene))

    face_in_scene = (700 + 177 * 1.5, 300 + 66 * 1.5, 95 * 1.5, 95 * 1.5)
    assert result.ok and result.faces >= 1
    assert any(covers(box, tuple(int(v) for v in face_in_scene)) for box in result.boxes)
