"""The rider's privacy pages: what Yizhan holds about me, download it, delete my account.

Riders only (``core.pages.page``); there is no id in any URL: every page is about the account
signed in, so nobody can reach another person's data here.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from yizhan.core import ratelimit
from yizhan.core.errors import ApplicationError
from yizhan.core.pages import page
from yizhan.core.roles import Role
from yizhan.points.views import refusal
from yizhan.privacy import exports, forms, services


def download_response(request: HttpRequest, fmt: str) -> HttpResponse:
    """The rider's data as a download (audited first); JSON streamed, Excel from a temp file.

    Limited by ``RATE_LIMITS["privacy_export"]`` per account when that limit is set."""
    ratelimit.hit_request("privacy_export", request)
    subject = services.personal_data_export(user=request.user, actor=request.user, fmt=fmt)
    if fmt == "json":
        response = StreamingHttpResponse(
            exports.json_chunks(subject), content_type=exports.JSON_CONTENT_TYPE
        )
    else:
        response = FileResponse(exports.xlsx_file(subject), content_type=exports.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(subject, fmt)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@page(Role.RIDER)
def my_data(request: HttpRequest) -> HttpResponse:
    subject = exports.subject_for(request.user)
    kinds = [str(section.title) for section in exports.sections(subject)]
    return render(request, "privacy/my_data.html", {"kinds": kinds})


@page(Role.RIDER)
def download_json(request: HttpRequest) -> HttpResponse:
    return download_response(request, "json")


@page(Role.RIDER)
def download_xlsx(request: HttpRequest) -> HttpResponse:
    return download_response(request, "xlsx")


@page(Role.RIDER)
def delete(request: HttpRequest) -> HttpResponse:
    form = forms.DeleteForm(request.POST or None)

    def draw(status: int = 200) -> HttpResponse:
        return render(request, "privacy/delete.html", {"form": form}, status=status)

    if request.method != "POST":
        return draw()
    if not form.is_valid():
        return draw(400)
    try:
        services.account_delete(
            user=request.user,
            actor=request.user,
            password=form.cleaned_data["password"],
            confirm=form.cleaned_data["confirm"],
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    logout(request)
    messages.success(request, _("Your account has been deleted. Thank you for riding with us."))
    return redirect("home")
