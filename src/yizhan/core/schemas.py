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


def file_download(filename: str, *content_types: str, description: str = "The file") -> dict:
    """``openapi_extra`` for an operation that answers 200 with a file download: a binary body
    in each of ``content_types`` and a ``Content-Disposition`` naming ``filename`` (a pattern
    such as ``dashboard-<area>-<period>.xlsx``)."""

    def body(kind: str) -> dict:
        # A JSON download is still JSON to a client that parses it (schemathesis does).
        if kind == "application/json":
            return {"schema": {"type": "object"}}
        return {"schema": {"type": "string", "format": "binary"}}

    return {
        "responses": {
            200: {
                "description": description,
                "content": {
                    kind.split(";")[0].strip(): body(kind.split(";")[0].strip())
                    for kind in content_types
                },
                "headers": {
                    "Content-Disposition": {
                        "description": f'attachment; filename="{filename}"',
                        "schema": {"type": "string"},
                    }
                },
            }
        }
    }
