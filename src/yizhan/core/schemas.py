"""Shapes every router shares."""

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    detail: Any = None


class OkOut(Schema):
    ok: bool = True


#: The error responses every operation declares in the OpenAPI document.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
#: Operations with a rate limit (core.ratelimit) also declare 429 (with a Retry-After header).
LIMITED = {**ERRORS, 429: ErrorOut}
