"""Where report photos live: the originals in a private folder, the blurred copies in MEDIA_ROOT.

The web server (and Django's ``static()`` helper with DEBUG) serves everything under
``MEDIA_ROOT`` to anyone who knows the path, and the original photos' paths are easy to guess
(``reports/<year>/<month>/r<id>-<stage>-<n>.jpg``). So the originals are written elsewhere:
``PRIVATE_MEDIA_ROOT`` when set, else a folder next to ``MEDIA_ROOT`` named ``<MEDIA_ROOT>-private``
(``var/media-private``). Nothing serves that folder; permitted staff see an original only through
``reports:photo_original``, which checks their scope and writes an audit entry. The face-blurred
copies stay public under random names (``reports/public/<year>/<month>/<32 hex>.jpg``).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible


def private_root() -> Path:
    configured = getattr(settings, "PRIVATE_MEDIA_ROOT", None)
    if configured:
        return Path(configured)
    media = Path(settings.MEDIA_ROOT)
    return media.with_name(f"{media.name}-private")


@deconstructible
class PrivateStorage(FileSystemStorage):
    """A file system storage outside MEDIA_ROOT with no URL (it follows setting changes, so a
    test's temporary MEDIA_ROOT gets its own private folder)."""

    @property
    def base_location(self) -> str:  # type: ignore[override]
        return str(private_root())

    @property
    def location(self) -> str:  # type: ignore[override]
        return str(private_root().resolve())

    def url(self, name: str | None) -> str:
        # Nothing serves this folder: a template or an API that asks for an original's URL is a
        # leak in the making, so it fails loudly instead of printing a dead /media/ link.
        raise ValueError("report originals have no URL: link reports:photo_original instead")


_PRIVATE = PrivateStorage()


def private_storage() -> PrivateStorage:
    """The storage of report originals (a callable, so migrations name it, not its folder)."""
    return _PRIVATE
