"""What every server-rendered page shares: the gate, the error page, forms and htmx.

A page view is wrapped in :func:`page`: it gates the account type through the permission layer
(``require_role``), sends an anonymous visitor to the log-in page, and turns any
``ApplicationError`` that escapes the view into an error page with the error's status and
message (404 for what the user may not see, 403 for what they may not do), never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from yizhan.core.errors import ApplicationError, Unauthenticated
from yizhan.core.permissions import is_authenticated, require_role


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def error_page(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    template = "core/error_fragment.html" if is_htmx(request) else "core/error.html"
    response = render(
        request,
        template,
        {"status": exc.status, "message": exc.message, "code": exc.code},
        status=exc.status,
    )
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:  # core.ratelimit.RateLimited: 429 with when to try again
        response["Retry-After"] = str(retry_after)
    return response


def page(*roles: str, login: bool = True) -> Callable:
    """Decorate a page view: gate by role (any signed-in account when none are named).

    ``login=False`` opens the page to anonymous visitors. Escaping domain errors become error
    pages; an anonymous visitor to a gated page is redirected to log in.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if roles:
                    require_role(request.user, *roles)
                elif login and not is_authenticated(request.user):
                    raise Unauthenticated("")
                return view(request, *args, **kwargs)
            except Unauthenticated:
                return redirect_to_login(request.get_full_path())
            except ApplicationError as exc:
                return error_page(request, exc)

        return wrapper

    return decorator


def form_error(form: forms.Form, exc: ApplicationError) -> None:
    """Put a service's refusal on the form field it names, or on the form as a whole."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, str(exc.message))


def back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Redirect to the page the form came from (same site only), else ``fallback``."""
    target = request.POST.get("next") or request.headers.get("Referer") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(target)
        return HttpResponseRedirect(parts.path + (f"?{parts.query}" if parts.query else ""))
    return HttpResponseRedirect(fallback)


def run_action(
    request: HttpRequest, action: Callable[[], Any], *, success: str
) -> HttpResponse | None:
    """Run a one-button service call from a page.

    Returns ``None`` on success, after adding ``success`` as a flash message (the caller then
    answers: a redirect, or the htmx fragment); on refusal returns the error page with the
    error's status (4xx) and the service's message.
    """
    try:
        action()
    except ApplicationError as exc:
        return error_page(request, exc)
    messages.success(request, success)
    return None
