"""The installable web app: manifest, service worker, offline page, outbox page, text size.

Riders use Yizhan from a phone's browser, often in basements and lifts without signal. This
module serves what makes the site an app a phone can install and use offline:

- ``/manifest.webmanifest``: the Chinese name, the icons, the start page, standalone display.
- ``/sw.js``: the service worker, served from the root so that its scope is the whole site.
  It caches the app shell (styles, scripts, icons, the offline page) under a version computed
  from those files' contents, so a deploy that changes one replaces the cache; pages are
  fetched from the network first and a copy of the rider's main pages is kept for reading
  offline (cleared when someone logs in or out: phones are shared).
- ``/offline/``: what a page the phone cannot load shows instead. It knows no user (it is
  cached once for everyone): it lists the phone's outbox, and on a station's QR address it
  offers the check-in that is sent once the connection returns.
- ``/outbox/``: the rider's outbox (reports and check-ins kept on the phone, in IndexedDB, by
  ``static/yizhan/outbox.js``), with the state of each and what to do.
- ``/settings/text-size/``: a larger text for everyone who needs it (a cookie; no account).

The outbox itself lives in the browser; the server's part is that every write it repeats
carries an idempotency key, so a resend never makes a second report or check-in.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from yizhan.core.errors import ApplicationError
from yizhan.core.pages import back, error_page

#: Static files every page needs, cached when the service worker installs.
SHELL_STATIC = (
    "yizhan/site.css",
    "yizhan/site.js",
    "yizhan/outbox.js",
    "yizhan/favicon.svg",
    "yizhan/icons/icon-192.png",
    "vendor/htmx-2.0.11/htmx.min.js",
)
#: The rider's pages whose last copy is kept on the phone for reading offline.
OFFLINE_PAGES = ("people:rider_home", "reports:new", "stations:nearby", "outbox")
TEXT_SIZE_COOKIE = "yz_text"
TEXT_SIZES = ("normal", "large")


def outbox_owner(user) -> str:
    """Who the phone's outbox items belong to: an opaque value per account (a keyed hash of its
    id, no identity in it), on every page as ``<body data-user>``. The outbox sends an item only
    while its owner is the one logged in: a shared phone never sends one rider's report as
    another's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return salted_hmac("yizhan.outbox-owner", str(user.pk)).hexdigest()[:20]


@lru_cache(maxsize=1)
def shell_version() -> str:
    """A short hash of the shell's files and of the service worker's own template: it changes
    whenever a deploy changes one of them, and the new worker then replaces the old cache."""
    digest = hashlib.sha256()
    for name in (*SHELL_STATIC, "yizhan/sw.js"):
        path = finders.find(name)
        if path:
            with open(path, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()[:12]


@require_GET
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest (Chrome on Android offers "Install app" from it)."""
    icons = [
        {"src": static("yizhan/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("yizhan/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {
            "src": static("yizhan/icons/icon-maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ]
    data = {
        "id": "/",
        "name": _("Yizhan: riders in the community"),
        "short_name": _("Yizhan"),
        "description": _(
            "Find a rest station, report a hazard, earn and spend points: for delivery riders "
            "and couriers."
        ),
        "lang": "zh-Hans",
        "dir": "ltr",
        "start_url": "/?source=app",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f6f7f9",
        "theme_color": "#b42318",
        "categories": ["social", "utilities"],
        "icons": icons,
        "shortcuts": [
            {"name": _("Report a problem"), "url": reverse("reports:new")},
            {"name": _("Stations nearby"), "url": reverse("stations:nearby")},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json; charset=utf-8"
    return response


@lru_cache(maxsize=1)
def _worker_source() -> str:
    path = finders.find("yizhan/sw.js")
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker script, at the root so that it controls every page: its settings
    (the cache version, the shell, the pages kept offline) and then ``static/yizhan/sw.js``."""
    config = {
        "version": shell_version(),
        "offline": reverse("offline"),
        "shell": [reverse("offline"), *(static(name) for name in SHELL_STATIC)],
        "static": settings.STATIC_URL,
        "pages": [reverse(name) for name in OFFLINE_PAGES],
        "clearOn": [reverse("people:login"), reverse("people:logout")],
    }
    body = f"self.YIZHAN = {json.dumps(config)};\n{_worker_source()}"
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    # Browsers check for a new worker on navigations; it must never come from a cache.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """The page shown when the phone cannot load one (cached by the service worker)."""
    return render(request, "core/offline.html")


@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """The phone's outbox: what is waiting to be sent (the list is drawn by outbox.js)."""
    return render(request, "core/outbox.html")


@require_POST
def text_size(request: HttpRequest) -> HttpResponse:
    """Normal or large text, remembered in a cookie for a year."""
    size = request.POST.get("size", "")
    if size not in TEXT_SIZES:
        return error_page(request, ApplicationError(_("Unknown text size."), field="size"))
    response = back(request, reverse("home"))
    response.set_cookie(
        TEXT_SIZE_COOKIE,
        size,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response
