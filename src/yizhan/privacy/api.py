"""The rider's privacy operations: download all my data (JSON or Excel), delete my account.

Riders only, and only their own account: no operation takes an id. Downloads are audited
(``export``); deletion needs the password again and ``confirm: true``.
"""

from __future__ import annotations

from django.contrib.auth import logout
from ninja import Field, Router, Schema

from yizhan.core.permissions import require_role
from yizhan.core.roles import Role
from yizhan.core.schemas import LIMITED, file_download
from yizhan.privacy import exports, services
from yizhan.privacy.views import download_response

router = Router(tags=["privacy"])


class DeleteIn(Schema):
    password: str = Field(..., max_length=128, description="The account's password, again")
    confirm: bool = Field(..., description="Must be true: the rider means it")


class DeletedOut(Schema):
    deleted: bool = True
    already: bool = Field(False, description="The account had been deleted before")


@router.get(
    "/privacy/me/data.json",
    response={200: None, **LIMITED},
    summary="Download all my personal data as JSON (riders)",
    openapi_extra=file_download("yizhan-my-data-<id>-<date>.json", exports.JSON_CONTENT_TYPE),
)
def data_json(request):
    """Everything Yizhan holds about the signed-in rider, one section per kind of record, each
    with its column titles and rows; streamed. Recorded in the audit log."""
    require_role(request.user, Role.RIDER)
    return download_response(request, "json")


@router.get(
    "/privacy/me/data.xlsx",
    response={200: None, **LIMITED},
    summary="Download all my personal data as Excel (riders)",
    openapi_extra=file_download("yizhan-my-data-<id>-<date>.xlsx", exports.XLSX_CONTENT_TYPE),
)
def data_xlsx(request):
    """The same data as an Excel workbook: one sheet per kind, Chinese headings, date and
    number cells. Recorded in the audit log."""
    require_role(request.user, Role.RIDER)
    return download_response(request, "xlsx")


@router.post(
    "/privacy/me/delete",
    response={200: DeletedOut, **LIMITED},
    summary="Delete my account (riders; password and confirmation required)",
)
def delete_me(request, payload: DeleteIn):
    """Removes the rider's identity (name, phone, log-in) and keeps their records, which no
    longer point at a person. Wrong password: 400 ``wrong_password`` (429 after five in an
    hour); ``confirm`` not true: 400 ``confirm_required``. Every session and API token of the
    account stops working."""
    require_role(request.user, Role.RIDER)
    result = services.account_delete(
        user=request.user, actor=request.user, password=payload.password, confirm=payload.confirm
    )
    if hasattr(request, "session"):
        logout(request)
    return {"deleted": True, "already": result.already}
