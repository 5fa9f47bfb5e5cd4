import logging
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import translation

logger = logging.getLogger(__name__)


class UserLanguageMiddleware:
    """A signed-in user's chosen language beats Accept-Language and the language cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None else ""
        if language and user.is_authenticated:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


def tile_source(url: str) -> str:
    """The CSP source for a map tile URL template: its scheme and host, with a ``*`` label
    where the template varies the host (``https://t{s}.tianditu.gov.cn/…`` →
    ``https://*.tianditu.gov.cn``). A relative URL is served by this site: ``''``."""
    parts = urlsplit(url or "")
    if not parts.scheme or not parts.netloc:
        return ""
    labels = parts.netloc.split(".")
    varying = [i for i, label in enumerate(labels) if "{" in label]
    if varying:
        labels = ["*", *labels[varying[-1] + 1 :]]
    return f"{parts.scheme}://{'.'.join(labels)}"


#: The origin uploaded files are linked at when not this site (None: not worked out yet).
_media_origin: str | None = None


def media_source() -> str:
    """The CSP source of the links to uploaded files (photos) when another origin serves them:
    the object store's endpoint or S3_CUSTOM_DOMAIN (``S3_BUCKET``), or a CDN in MEDIA_URL;
    ``''`` when this site serves them (``/media/…``). Taken from a link the default storage
    makes (for S3 a presigned one, made locally), once, and again after STORAGES or MEDIA_URL
    change."""
    global _media_origin
    if _media_origin is None:
        try:
            origin = tile_source(default_storage.url("csp/probe.jpg"))
        except Exception as exc:  # noqa: BLE001 - no link: fall back to what the storage names
            logger.warning("CSP: the storage made no link (%s); using its endpoint", exc)
            domain = getattr(default_storage, "custom_domain", None)
            protocol = getattr(default_storage, "url_protocol", "https:")
            endpoint = getattr(default_storage, "endpoint_url", None)
            origin = tile_source(f"{protocol}//{domain}/" if domain else endpoint or "")
        _media_origin = origin
    return _media_origin


@receiver(setting_changed)
def _media_changed(*, setting: str, **kwargs) -> None:
    global _media_origin
    if setting in {"STORAGES", "MEDIA_URL"}:
        _media_origin = None


@lru_cache(maxsize=8)
def _policy(tile_url: str, extra_img: tuple[str, ...], report_uri: str, media: str = "") -> str:
    img = ["'self'", "data:", "blob:"]
    tiles = tile_source(tile_url)
    if tiles:
        img.append(tiles)
    if media:
        img.append(media)
    img.extend(extra_img)
    directives = [
        "default-src 'self'",
        # No inline script, no eval: page scripts are static files (htmx with allowEval off,
        # Leaflet, static/yizhan/*.js); data for them comes in json_script blocks.
        "script-src 'self'",
        # No inline <style> and no style="" attributes; Leaflet styles through the CSSOM,
        # which a policy does not restrict.
        "style-src 'self'",
        "img-src " + " ".join(dict.fromkeys(img)),
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    if report_uri:
        directives.append(f"report-uri {report_uri}")
    return "; ".join(directives)


def content_security_policy() -> str:
    return _policy(
        settings.MAP_TILE_URL,
        tuple(getattr(settings, "CSP_EXTRA_IMG_SRC", ())),
        getattr(settings, "CSP_REPORT_URI", ""),
        media_source(),
    )


class SecurityHeadersMiddleware:
    """The headers Django's SecurityMiddleware does not set: Content-Security-Policy (Django
    5.2 has none built in) and Permissions-Policy (location and camera for this site only).

    A response that already carries a policy (a view that needs another one) keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(settings, "CSP_ENABLED", True):
            header = (
                "Content-Security-Policy-Report-Only"
                if getattr(settings, "CSP_REPORT_ONLY", False)
                else "Content-Security-Policy"
            )
            if header not in response:
                response[header] = content_security_policy()
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        return response
