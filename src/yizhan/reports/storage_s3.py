"""The report originals in object storage (``S3_BUCKET``; see ``reports.storage``). A module of
its own so that boto3 is imported only when object storage is switched on."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from storages.backends.s3 import S3Storage

from yizhan.reports.storage import NO_URL


class PrivateS3Storage(S3Storage):
    """The originals in object storage: under their own prefix (never the bucket's root, where
    the public files are), uploaded with a private ACL (``S3_PRIVATE_ACL``), and with no URL —
    not even a presigned one, which anyone holding it could open for an hour unaudited."""

    def __init__(self, **options):
        super().__init__(**options)
        if not self.location.strip("/"):
            raise ImproperlyConfigured(
                "The report originals need a prefix of their own in the bucket: set "
                "S3_PRIVATE_PREFIX (default 'private')."
            )
        # A custom domain is public by construction; the originals are never linked anyway.
        self.custom_domain = None
        self.querystring_auth = True

    def url(self, name, parameters=None, expire=None, http_method=None) -> str:
        raise ValueError(NO_URL)
