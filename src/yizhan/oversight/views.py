"""The console pages: the review queue and its decisions; the audit log (administrators)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yizhan.core.errors import ApplicationError
from yizhan.core.pages import back, error_page, is_htmx, page
from yizhan.core.pagination import page_of
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.oversight import api, forms, selectors, services

CONSOLE = tuple(CONSOLE_ROLES)


def _query(values: dict) -> str:
    return urlencode({k: v for k, v in values.items() if v})


@page(*CONSOLE)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    filters = forms.QueueFilterForm(request.GET or None, user=request.user)
    chosen = filters.values() if request.GET else {"kind": None, "flag": None, "area": None}
    items = page_of(selectors.review_queue(request.user, **chosen), request)
    context = {
        "filters": filters,
        "page": items,
        "query": _query(chosen),
        "decision_form": forms.DecisionForm(),
    }
    return render(request, "oversight/queue.html", context)


@page(*CONSOLE)
@require_POST
def decide(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    form = forms.DecisionForm(request.POST)
    if not form.is_valid():
        field = "reason" if "reason" in form.errors else "decision"
        message = (
            _("Please give the reason for your decision.")
            if field == "reason"
            else _("Please choose release or reject.")
        )
        return error_page(request, ApplicationError(message, field=field))
    try:
        row = services.review_decide(
            kind=kind,
            item_id=item_id,
            actor=request.user,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as exc:
        return error_page(request, exc)
    released = form.cleaned_data["decision"] == services.RELEASE
    text = _("Released: the points are paid.") if released else _("Rejected: nothing is paid.")
    if is_htmx(request):
        return render(
            request, "oversight/_decided.html", {"released": released, "text": text, "row": row}
        )
    messages.success(request, text)
    return back(request, reverse("oversight:queue"))


def _audit_form(request: HttpRequest) -> forms.AuditSearchForm:
    return forms.AuditSearchForm(request.GET or None, user=request.user)


@page(Role.ADMIN)
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    form = _audit_form(request)
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
        filters: dict | None = None
    else:
        filters = form.filters() if form.is_bound else {}
    entries = selectors.audit_entries(request.user, **filters) if filters is not None else None
    context = {
        "form": form,
        "page": page_of(entries, request) if entries is not None else None,
        "query": _query({k: v for k, v in request.GET.items() if k != "page"}),
        "export_query": _query({k: v for k, v in request.GET.items() if k != "page"}),
    }
    return render(request, "oversight/audit.html", context, status=status)


@page(Role.ADMIN)
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    form = _audit_form(request)
    if form.is_bound and not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return error_page(request, ApplicationError(first))
    filters = form.filters() if form.is_bound else {}
    try:
        return api.export_response(request.user, filters, request.GET.get("format") or "csv")
    except ApplicationError as exc:
        return error_page(request, exc)
