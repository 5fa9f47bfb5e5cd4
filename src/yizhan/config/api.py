"""JSON API v1: one NinjaAPI, routers from each app, one error shape.

Errors are ``{"code": …, "message": …, "detail": …}`` with a message a person understands.
Pages use the session (with CSRF); API clients send ``Authorization: Bearer <token>``. Both
resolve to the same user, and every endpoint then goes through the permission layer.
"""

import functools

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth

import yizhan
from yizhan.core.errors import ApplicationError, Forbidden
from yizhan.core.schemas import ERRORS

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    openapi_description = (
        "A token from POST /api/v1/auth/token. Scope `read` allows GET only; `write` allows "
        "every call the account may make."
    )

    def authenticate(self, request, token):
        from yizhan.people.models import TokenScope
        from yizhan.people.services import token_lookup

        found = token_lookup(token)
        if found is None:
            return None
        # A read-only token reads; any other method needs the write scope. The account's own
        # permissions then apply as for any request.
        if found.scope != TokenScope.WRITE and request.method not in SAFE_METHODS:
            raise Forbidden(
                _("This token may only read. Ask for a token with the write scope."),
                code="token_scope",
            )
        request.user = found.user
        request.api_token = found
        return found.user


api = NinjaAPI(
    title="Yizhan 驿站 API",
    version="1",
    description=(
        "Riders (小哥) in community governance: areas, registration (社区报到), posts, teams, "
        "points and the points shop (积分超市), stations and caring corners with the nearby "
        "search (一刻钟服务圈), check-ins and inspections, reports (随手拍: categories, duplicates "
        "before submit, intake with photos, triage, dispatch to a department, handling, on-site "
        "checks, closing and reopening, with a timeline) and the notifications inbox. Writes a "
        "phone may repeat take an "
        "Idempotency-Key header. "
        "Errors: {code, message, detail}. Lists are paginated with page and page_size."
    ),
    urls_namespace="api",
    auth=[TokenAuth(), django_auth],
    docs_url="/docs",
)


BIGINT_MAX = 2**63 - 1


def _too_large(value) -> bool:
    """Whether a validated value holds an integer no database column here can store."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not -BIGINT_MAX - 1 <= value <= BIGINT_MAX
    if isinstance(value, list | tuple | set | frozenset):
        return any(_too_large(item) for item in value)
    if isinstance(value, dict):
        return any(_too_large(item) for item in value.values())
    if isinstance(value, Schema):
        return any(_too_large(getattr(value, name)) for name in type(value).model_fields)
    return False


def _refuse_huge_numbers(view_func):
    """One answer on every database for an id beyond 64 bits: SQLite raised OverflowError (a
    400), PostgreSQL compared it as a numeric and answered 200 with nothing found."""

    @functools.wraps(view_func)
    def wrapper(request, *args, **kwargs):
        if _too_large(list(kwargs.values())):
            raise OverflowError("integer beyond 64 bits")
        return view_func(request, *args, **kwargs)

    return wrapper


api.add_decorator(_refuse_huge_numbers, mode="operation")


def _error(request, status: int, code: str, message, detail=None):
    return api.create_response(
        request, {"code": code, "message": str(message), "detail": detail}, status=status
    )


@api.exception_handler(ApplicationError)
def application_error(request, exc: ApplicationError):
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:  # core.ratelimit.RateLimited, a locked account: 429 with when to retry
        response["Retry-After"] = str(retry_after)
    return response


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    fields = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        fields.append(".".join(loc[1:] if loc and loc[0] == "payload" else loc) or "request")
    message = _("Some fields are missing or not valid: %(fields)s.") % {
        "fields": ", ".join(dict.fromkeys(fields))
    }
    detail = [
        {"field": f, "message": e.get("msg", ""), "type": e.get("type", "")}
        for f, e in zip(fields, exc.errors, strict=True)
    ]
    return _error(request, 422, "invalid", message, detail)


@api.exception_handler(AuthenticationError)
def authentication_error(request, exc):
    return _error(request, 401, "unauthenticated", _("Please log in first."))


@api.exception_handler(AuthorizationError)
def authorization_error(request, exc):
    return _error(request, 403, "forbidden", _("You do not have permission to do this."))


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    # ninja's own refusals, e.g. a body that is not JSON: the same shape as every other error.
    if exc.status_code == 400:
        message = _("The request body could not be read: please send valid JSON.")
        return _error(request, 400, "invalid_body", message)
    return _error(request, exc.status_code, "error", exc.message)


@api.exception_handler(MultiPartParserError)
def malformed_multipart(request, exc):
    # A multipart body without a boundary (or a broken one): Django raises this, not a 400.
    message = _("The request body could not be read: the multipart form is malformed.")
    return _error(request, 400, "invalid_body", message)


@api.exception_handler(RequestDataTooBig)
def body_too_large(request, exc):
    # More than DATA_UPLOAD_MAX_MEMORY_SIZE outside the files: Django's 400 page is HTML.
    message = _("The request body is too large: at most %(mb).1f MB besides the files.") % {
        "mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1_048_576
    }
    return _error(request, 413, "too_large", message)


@api.exception_handler(OverflowError)
def number_too_large(request, exc):
    # An id or number beyond what the database stores (SQLite raises this for a query
    # parameter such as ?department=-31898274325332894534973).
    return _error(request, 400, "out_of_range", _("A number in the request is too large."))


@api.exception_handler(DataError)
def value_out_of_range(request, exc):
    # PostgreSQL's refusal of a value its column cannot hold (numeric out of range …).
    return _error(request, 400, "out_of_range", _("A value in the request is out of range."))


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "not_found", _("Not found, or you may not see it."))


class VersionOut(Schema):
    name: str
    version: str
    api: str


@api.get(
    "/version",
    response={200: VersionOut, **ERRORS},
    auth=None,
    summary="Which Yizhan answers here (a cheap call for monitors and benchmarks)",
)
def version(request):
    return {"name": "yizhan", "version": yizhan.__version__, "api": api.version}


def _mount() -> None:
    from yizhan.appeals.api import router as appeals_router
    from yizhan.areas.api import router as areas_router
    from yizhan.dashboards.api import router as dashboards_router
    from yizhan.duties.api import router as duties_router
    from yizhan.events.api import router as events_router
    from yizhan.honours.api import router as honours_router
    from yizhan.notifications.api import router as notifications_router
    from yizhan.organisation.api import router as organisation_router
    from yizhan.oversight.api import router as oversight_router
    from yizhan.people.api import router as people_router
    from yizhan.points.api import router as points_router
    from yizhan.privacy.api import router as privacy_router
    from yizhan.reports.api import router as reports_router
    from yizhan.rewards.api import router as rewards_router
    from yizhan.stations.api import router as stations_router
    from yizhan.wishes.api import router as wishes_router

    api.add_router("/", areas_router)
    api.add_router("/", people_router)
    api.add_router("/", points_router)
    api.add_router("/", rewards_router)
    api.add_router("/", stations_router)
    api.add_router("/", reports_router)
    api.add_router("/", notifications_router)
    api.add_router("/", events_router)
    api.add_router("/", duties_router)
    api.add_router("/", wishes_router)
    api.add_router("/", appeals_router)
    api.add_router("/", honours_router)
    api.add_router("/", organisation_router)
    api.add_router("/", dashboards_router)
    api.add_router("/", privacy_router)
    api.add_router("/", oversight_router)


_mount()
