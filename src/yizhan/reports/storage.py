"""Where report photos live: the originals in a private folder, the blurred copies in MEDIA_ROOT.

The web server (and Django's ``static()`` helper with DEBUG) serves everything under
``MEDIA_ROOT`` to anyone who knows the path, and the original photos' paths are easy to guess
(``reports/<year>/<month>/r<id>-<stage>-<n>.jpg``). So the originals are written elsewhere:
``PRIVATE_MEDIA_ROOT`` when set, else a folder next to ``MEDIA_ROOT`` named ``<MEDIA_ROOT>-private``
(``var/media-private``). Nothing serves that folder; permitted staff see an original only through
``reports:photo_original``, which checks their scope and writes an audit entry. The face-blurred
copies stay public under random names (``reports/public/<year>/<month>/<32 hex>.jpg``).

With media in object storage (``S3_BUCKET``, ``yizhan.config.storage``) the originals go to the
same bucket under ``S3_PRIVATE_PREFIX`` (``private/reports/…``) with a private ACL, through
``reports.storage_s3.PrivateS3Storage``, which has no URL either; the copies go to the default
storage (the bucket's root). :func:`private_storage` answers the one or the other, as settings
say at the moment of use (a test's ``override_settings`` switches it).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.deconstruct import deconstructible
from django.utils.functional import LazyObject, empty

from yizhan.config.storage import PRIVATE_STORAGE

NO_URL = "report originals have no URL: link reports:photo_original instead"


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
        raise ValueError(NO_URL)


class _ReportOriginals(LazyObject):
    """The storage of the originals as settings say now: ``STORAGES["private"]`` when set
    (object storage), else the private folder. Chosen on first use and again after a change of
    STORAGES (``override_settings`` in tests), like Django's ``default_storage``."""

    def _setup(self) -> None:
        if PRIVATE_STORAGE in settings.STORAGES:
            self._wrapped = storages[PRIVATE_STORAGE]
        else:
            self._wrapped = PrivateStorage()


_PRIVATE = _ReportOriginals()


@receiver(setting_changed)
def _storages_changed(*, setting: str, **kwargs) -> None:
    if setting == "STORAGES":
        _PRIVATE._wrapped = empty


def private_storage() -> Storage:
    """The storage of report originals (a callable, so migrations name it, not its folder)."""
    return _PRIVATE  # type: ignore[return-value]
