"""Faces in photos: find them with OpenCV's bundled Haar cascades and blur them for good.

A report photo is shown to other riders, to the department and (through Open311) to the public;
the people who happen to stand in it did not agree to that. :func:`blur_faces` takes the
re-encoded display JPEG (``core.images.process_image``: upright, no metadata), finds faces and
returns a derivative in which each face is pixelated and then smoothed, together with the
number of faces blurred.

- **Detection** runs on a grey copy at most ``DETECT_SIDE`` pixels on its long side (histogram
  equalised), with the frontal cascade and the profile cascade (on the picture and on its
  mirror image: the profile cascade knows faces turned one way only). The boxes are scaled back
  to the display size and padded by ``PAD`` of their size on each side (a cascade's box stops
  at the brow and the chin: hair, ears and jaw identify a person too).
- **Blurring** is irreversible: each padded box is reduced to ``BLOCKS`` × ``BLOCKS`` cells
  (each cell the mean of its pixels: the detail is gone, not hidden) and the blocks are then
  smoothed with a Gaussian so no edge is left for a detector or an eye to work on.
- **No face:** the derivative is the display JPEG itself, byte for byte (nothing re-encoded).
- **Failure is closed.** :func:`blur_faces` never raises: a picture OpenCV cannot read, an
  error inside the detector, anything unexpected gives ``ok=False`` and no derivative. The
  caller then shows nobody but permitted staff the photo (the public sees a placeholder),
  rather than the original with faces it could not look for.

Haar cascades miss faces (small, dark, turned, masked) and sometimes blur a patch of wall;
``docs/privacy.md`` says so. Number plates are not blurred here.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np

logger = logging.getLogger(__name__)

#: The long side of the grey copy the detector looks at (a face ≥ 24 px there is found: about
#: 40 px in a 1600-px display photo).
DETECT_SIDE = 960
#: The step between the detector's scales: 1.1 for the frontal cascade (the faces that matter
#: most), a coarser 1.2 for the profile passes (they cost as much again each).
FRONTAL_STEP = 1.1
PROFILE_STEP = 1.2
#: Padding added on each side of a detected box, as a share of its width / height.
PAD = 0.3
#: Cells across a blurred box (before the smoothing).
BLOCKS = 6
#: The thumbnail's long side (as ``reports.services.PHOTO_SIZES``).
THUMB_SIDE = 400
JPEG_QUALITY = 82

FRONTAL = "haarcascade_frontalface_default.xml"
PROFILE = "haarcascade_profileface.xml"

Box = tuple[int, int, int, int]  # x, y, width, height (pixels of the picture given)

_local = threading.local()


@dataclass
class FaceResult:
    """What :func:`blur_faces` made: ``ok`` False means "could not look, show nothing"."""

    ok: bool
    faces: int = 0
    #: The blurred display JPEG and thumbnail (None when not ``ok``).
    display: bytes | None = None
    thumb: bytes | None = None
    boxes: list[Box] = field(default_factory=list)
    error: str = ""


def _cascades() -> tuple[cv2.CascadeClassifier, cv2.CascadeClassifier]:
    """The two classifiers, loaded once per thread (a classifier is not safe to share)."""
    loaded = getattr(_local, "cascades", None)
    if loaded is None:
        loaded = tuple(
            cv2.CascadeClassifier(cv2.data.haarcascades + name) for name in (FRONTAL, PROFILE)
        )
        if any(c.empty() for c in loaded):
            raise RuntimeError("OpenCV's face cascades could not be loaded")
        _local.cascades = loaded
    return loaded


def detect_faces(image: np.ndarray) -> list[Box]:
    """Padded boxes of the faces in a BGR (or grey) picture, in its own pixels. May raise."""
    height, width = image.shape[:2]
    if height < 16 or width < 16:
        return []
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    scale = min(1.0, DETECT_SIDE / max(width, height))
    if scale < 1:
        grey = cv2.resize(
            grey,
            (max(1, round(width * scale)), max(1, round(height * scale))),
            interpolation=cv2.INTER_AREA,
        )
    grey = cv2.equalizeHist(grey)
    frontal, profile = _cascades()
    found: list[tuple[float, float, float, float]] = []
    small_w = grey.shape[1]
    for x, y, w, h in _detect(frontal, grey, FRONTAL_STEP):
        found.append((x, y, w, h))
    for x, y, w, h in _detect(profile, grey, PROFILE_STEP):
        found.append((x, y, w, h))
    for x, y, w, h in _detect(profile, cv2.flip(grey, 1), PROFILE_STEP):
        found.append((small_w - x - w, y, w, h))
    boxes = []
    for x, y, w, h in found:
        x, y, w, h = x / scale, y / scale, w / scale, h / scale
        left = max(0, int(x - w * PAD))
        top = max(0, int(y - h * PAD))
        right = min(width, int(np.ceil(x + w * (1 + PAD))))
        bottom = min(height, int(np.ceil(y + h * (1 + PAD))))
        if right > left and bottom > top:
            boxes.append((left, top, right - left, bottom - top))
    return boxes


def _detect(cascade: cv2.CascadeClassifier, grey: np.ndarray, step: float) -> list:
    found = cascade.detectMultiScale(grey, scaleFactor=step, minNeighbors=5, minSize=(24, 24))
    return [tuple(int(v) for v in box) for box in found]


def blur_boxes(image: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """A copy of ``image`` with each box pixelated to ``BLOCKS`` cells and smoothed."""
    out = image.copy()
    for x, y, w, h in boxes:
        region = out[y : y + h, x : x + w]
        cells = (max(1, min(BLOCKS, w)), max(1, min(BLOCKS, h)))
        coarse = cv2.resize(region, cells, interpolation=cv2.INTER_AREA)
        blocky = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_NEAREST)
        # An odd kernel about one cell wide: the cell edges melt, nothing comes back.
        kernel = max(3, (max(w, h) // BLOCKS) | 1)
        out[y : y + h, x : x + w] = cv2.GaussianBlur(blocky, (kernel, kernel), 0)
    return out


def _jpeg(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return encoded.tobytes()


def _thumbnail(image: np.ndarray, side: int) -> np.ndarray:
    height, width = image.shape[:2]
    scale = side / max(width, height)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def blur_faces(
    display: bytes, *, thumb: bytes | None = None, thumb_side: int = THUMB_SIDE
) -> FaceResult:
    """The face-blurred derivative of a display JPEG (and its thumbnail); never raises.

    ``thumb``, the thumbnail made with the display size, is returned as it is when no face is
    found; with faces the derivative's thumbnail is made from the blurred display picture (a
    face must not survive in the small copy).
    """
    try:
        pixels = cv2.imdecode(np.frombuffer(display, dtype=np.uint8), cv2.IMREAD_COLOR)
        if pixels is None or pixels.size == 0:
            return FaceResult(ok=False, error="unreadable")
        boxes = detect_faces(pixels)
        if not boxes:
            small = thumb if thumb is not None else _jpeg(_thumbnail(pixels, thumb_side))
            return FaceResult(ok=True, faces=0, display=display, thumb=small)
        blurred = blur_boxes(pixels, boxes)
        return FaceResult(
            ok=True,
            faces=len(_distinct(boxes)),
            display=_jpeg(blurred),
            thumb=_jpeg(_thumbnail(blurred, thumb_side)),
            boxes=boxes,
        )
    except Exception as exc:  # noqa: BLE001 - fail closed: the caller hides the photo
        logger.warning("face blurring failed: %s", exc, exc_info=True)
        return FaceResult(ok=False, error=type(exc).__name__)


def _distinct(boxes: list[Box]) -> list[Box]:
    """Boxes that do not mostly overlap one another (the frontal and profile cascades often
    find the same face): the count of faces, not of detections."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: -b[2] * b[3]):
        if all(_overlap(box, other) < 0.5 for other in kept):
            kept.append(box)
    return kept


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    if w <= 0 or h <= 0:
        return 0.0
    return (w * h) / min(aw * ah, bw * bh)
