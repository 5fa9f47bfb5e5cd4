"""Where uploaded files live: the local disk (the embedded default) or S3-compatible object storage.

With ``S3_BUCKET`` set, settings.STORAGES gets two entries built here:

- ``default``: django-storages' ``S3Storage`` at the root of the bucket; every public upload
  (the face-blurred copies of report photos, station, duty, wish and reward photos) goes there.
  Its URLs are presigned (``S3_QUERYSTRING_AUTH``, on by default, so the bucket stays private)
  or, with ``S3_CUSTOM_DOMAIN``, point at that host.
- ``private`` (:data:`PRIVATE_STORAGE`): the original report photos (faces not blurred), under
  ``S3_PRIVATE_PREFIX`` in the same bucket, uploaded with a private ACL and without any URL
  (``yizhan.reports.storage_s3.PrivateS3Storage``): only ``reports:photo_original`` streams them.

Without ``S3_BUCKET`` neither is set here: ``default`` stays Django's file system storage
(MEDIA_ROOT) and the originals go to the private folder (``reports.storage.private_root``).
Nothing here touches ``STORAGES["staticfiles"]``.
"""

from __future__ import annotations

from typing import Any

#: The STORAGES alias of the report originals' object storage (absent: the private folder).
PRIVATE_STORAGE = "private"
S3_BACKEND = "storages.backends.s3.S3Storage"
PRIVATE_S3_BACKEND = "yizhan.reports.storage_s3.PrivateS3Storage"


def s3_client_config(*, path_style: bool) -> Any:
    """botocore's client settings: SigV4, path-style addressing for a self-hosted endpoint
    (MinIO answers on one host name, not one per bucket), and short timeouts with few retries,
    so a store that is down fails a request (and /readyz) in seconds, not minutes."""
    from botocore.config import Config

    return Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if path_style else "auto"},
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": 3, "mode": "standard"},
    )


def s3_storages(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    access_key: str = "",
    secret_key: str = "",
    custom_domain: str = "",
    querystring_auth: bool = True,
    private_prefix: str = "private",
    private_acl: str = "private",
) -> dict[str, dict[str, Any]]:
    """The ``default`` and ``private`` entries of settings.STORAGES for one bucket.

    Empty strings mean "not given": no endpoint is AWS itself, no keys is boto3's own chain
    (environment, ~/.aws, an instance role). Files never overwrite each other
    (``file_overwrite`` off: a second photo named like the first gets a suffix, as on disk)."""
    private_prefix = private_prefix.strip("/")
    if not bucket:
        raise ValueError("s3_storages needs a bucket")
    if not private_prefix:
        raise ValueError("S3_PRIVATE_PREFIX must not be empty: the originals need their own prefix")
    common: dict[str, Any] = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region or None,
        "access_key": access_key or None,
        "secret_key": secret_key or None,
        "file_overwrite": False,
        "client_config": s3_client_config(path_style=bool(endpoint_url)),
    }
    # The custom domain may carry its scheme ("http://media.local:9000" for a local MinIO);
    # without one its links are https.
    scheme, _, host = custom_domain.rpartition("://")
    public = {
        **common,
        "location": "",
        "querystring_auth": querystring_auth,
        "custom_domain": host.strip("/") or None,
        "url_protocol": f"{scheme or 'https'}:",
        # No ACL sent: the bucket's policy says who may read (with S3_QUERYSTRING_AUTH on,
        # nobody without a signed link).
        "default_acl": None,
    }
    private = {
        **common,
        "location": private_prefix,
        "querystring_auth": True,
        "custom_domain": None,
        "default_acl": private_acl or None,
    }
    return {
        "default": {"BACKEND": S3_BACKEND, "OPTIONS": public},
        PRIVATE_STORAGE: {"BACKEND": PRIVATE_S3_BACKEND, "OPTIONS": private},
    }
