"""Optional error reporting to Sentry or a Sentry-compatible service (GlitchTip, self-hosted
Sentry), switched on by ``SENTRY_DSN``.

Yizhan holds personal information (PIPL): an error report must not carry it off the server. So
nothing personal leaves: no cookies, no headers but the user agent, no query string, no body,
no user, no local variables of the stack frames (a rider's phone number may be one); the event
keeps the exception, the stack (code only), the URL path, the release and the request id, which
finds the full story in our own logs.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration

import yizhan

_KEPT_HEADERS = {"user-agent", "x-request-id"}


def scrub(event: dict[str, Any], _hint: Any = None) -> dict[str, Any]:
    """Drop everything personal from an event before it is sent."""
    from yizhan.core.ops import current_request_id

    request = event.get("request")
    if isinstance(request, dict):
        headers = request.get("headers") or {}
        event["request"] = {
            "url": request.get("url", ""),
            "method": request.get("method", ""),
            "headers": {k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS},
        }
    event.pop("user", None)
    request_id = current_request_id()
    if request_id != "-":
        event.setdefault("tags", {})["request_id"] = request_id
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for crumb in (event.get("breadcrumbs") or {}).get("values") or []:
        crumb.pop("data", None)  # SQL parameters, HTTP bodies
    return event


def init_sentry(dsn: str, environment: str, traces_sample_rate: float = 0.0) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=f"yizhan@{yizhan.__version__}",
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        before_send=scrub,
        before_send_transaction=scrub,
    )
