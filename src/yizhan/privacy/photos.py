"""Original report photos and their displayed derivatives: the one place that removes an original.

A report photo is stored twice (``reports.models.ReportPhoto``): the original (``image`` and
``thumbnail``, in private storage, shown only to permitted staff) and the face-blurred copy
(``public_image`` and ``public_thumbnail``) that everyone else sees. Once a photo has its
blurred copy (``has_blurred_derivative``) the original is personal data of the people in it
(faces, number plates) that nobody needs long after the report is closed, so
:func:`original_remove` clears ``image`` and ``thumbnail`` and hands back their files for
deletion. A photo without a blurred copy keeps its original: it is then the only picture there
is (and the pages show a placeholder to everyone else meanwhile).

Idempotent: once ``image`` is empty there is nothing left to remove.
"""

from __future__ import annotations

from typing import Any

#: The photo model's test for "the displayed derivative exists".
DERIVATIVE_TEST = "has_blurred_derivative"
#: The fields holding the original (removed) and the derivative (kept).
ORIGINAL_FIELDS = ("image", "thumbnail")
DERIVATIVE_FIELDS = ("public_image", "public_thumbnail")


def has_derivative(photo: Any) -> bool:
    return bool(getattr(photo, DERIVATIVE_TEST, False))


def has_original(photo: Any) -> bool:
    """The photo still holds an original, and a derivative exists to show instead."""
    return bool(photo.image and photo.image.name) and has_derivative(photo)


def display_url(photo: Any) -> str:
    """The URL of the picture a rider is shown (the blurred copy), or '' (a placeholder)."""
    return getattr(photo, "public_url", "") or ""


StoredFile = tuple[Any, str]  # (storage, name)


def original_remove(photo: Any, *, dry_run: bool = False) -> list[StoredFile]:
    """Clear the photo's original fields; returns their files (storage, name) to delete after
    the caller's transaction commits (:func:`delete_files`), or [] when there was nothing to
    remove. With ``dry_run`` nothing changes and the files that would go are returned."""
    if not has_original(photo):
        return []
    files = []
    for name in ORIGINAL_FIELDS:
        value = getattr(photo, name)
        if value and value.name:
            files.append((value.storage, value.name))
    if dry_run:
        return files
    model = type(photo)
    model.objects.filter(pk=photo.pk, image=photo.image.name).update(
        **{name: "" for name in ORIGINAL_FIELDS}
    )
    for name in ORIGINAL_FIELDS:
        getattr(photo, name).name = ""
    return files


def delete_files(files: list[StoredFile]) -> int:
    """Delete stored files (missing ones are fine); how many were there."""
    removed = 0
    for storage, name in files:
        if name and storage.exists(name):
            storage.delete(name)
            removed += 1
    return removed
