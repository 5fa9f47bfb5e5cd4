"""One domain error type. Services raise it; one handler per interface turns it into a 4xx."""

from typing import Any


class ApplicationError(Exception):
    """A refused action, with a message a person understands (a lazy translated string)."""

    status = 400
    code = "invalid"

    def __init__(
        self,
        message: Any,
        *,
        code: str | None = None,
        detail: Any = None,
        status: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.detail = detail
        self.field = field

    def as_dict(self) -> dict[str, Any]:
        detail = self.detail
        if detail is None and self.field:
            detail = {"field": self.field}
        return {"code": self.code, "message": str(self.message), "detail": detail}


class NotFound(ApplicationError):
    status = 404
    code = "not_found"


class Forbidden(ApplicationError):
    status = 403
    code = "forbidden"


class Conflict(ApplicationError):
    status = 409
    code = "conflict"


class Unauthenticated(ApplicationError):
    status = 401
    code = "unauthenticated"
