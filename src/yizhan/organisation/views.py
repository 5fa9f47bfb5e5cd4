"""Organisation pages, all in the staff console: the overview (the branches one serves, the
streets one administers), a street's page for its admins (the switch, branches, branch staff,
counts per stage), a branch's pipeline for its staff (by stage, filtered, paginated, with the
form to record an application), and a record's page with its history and the forms to advance,
close or transfer it.

Views are thin: gate the account type (``core.pages.page``), read through
``organisation.selectors``, write through ``organisation.services``. A street whose switch is
off answers 404 with a message on every page but its admins' street page (where it is turned
on).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.errors import ApplicationError
from yizhan.core.masking import mask_name
from yizhan.core.pages import error_page, page
from yizhan.core.pagination import page_of
from yizhan.core.permissions import Action, get_for_user
from yizhan.core.roles import CONSOLE_ROLES
from yizhan.organisation import forms, selectors, services
from yizhan.organisation.models import Branch, BranchStaff, PipelineRecord
from yizhan.people.models import User
from yizhan.points.views import refusal

CONSOLE = tuple(CONSOLE_ROLES)


def _masked(record: PipelineRecord) -> str:
    return mask_name(record.rider.user.name or record.rider.user.username)


# --- the overview ----------------------------------------------------------------------------


@page(*CONSOLE)
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    branches = list(selectors.branches_for_user(user))
    served = {b.pk for b in selectors.served_branches(user)}
    for branch in branches:
        branch.counts = selectors.count_rows(selectors.counts_of(branch))
        branch.served = branch.pk in served
    context = {
        "streets": list(selectors.managed_streets(user)),
        "branches": branches,
    }
    return render(request, "organisation/console/index.html", context)


# --- a street's admins: the switch, branches, staff ------------------------------------------


def _street_page(
    request: HttpRequest, street: Area, *, forms_: dict | None = None, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {"street": street, "enabled": street.org_enabled}
    forms_ = forms_ or {}
    if street.org_enabled:
        branches = list(
            selectors.branches_for_user(request.user, street=street).prefetch_related(
                "staff_links__user__area"
            )
        )
        # Everyone who might serve on a branch of the street, in one query; each branch keeps
        # those on its line of the tree (services.may_serve) who are not on it yet.
        people = list(
            User.objects.filter(
                is_active=True,
                is_superuser=False,
                role__in=CONSOLE_ROLES,
                area_code__startswith=street.code,
            )
            .select_related("area")
            .order_by("area_code", "username")
        )
        for branch in branches:
            branch.counts = selectors.count_rows(selectors.counts_of(branch))
            on_staff = {link.user_id for link in branch.staff_links.all()}
            branch.candidates = [
                u for u in people if u.pk not in on_staff and services.may_serve(u, branch)
            ]
        context.update(
            branches=branches,
            counts=selectors.count_rows(selectors.street_counts(street)),
            branch_form=forms_.get("branch") or forms.BranchForm(areas=_branch_areas(street)),
            staff_error=forms_.get("staff"),
        )
    return render(request, "organisation/console/street.html", context, status=status)


def _branch_areas(street: Area):
    return Area.objects.filter(code__startswith=street.code).filter(
        level__in=(AreaLevel.STREET, AreaLevel.COMMUNITY)
    )


@page(*CONSOLE)
def street(request: HttpRequest, code: str) -> HttpResponse:
    return _street_page(request, selectors.managed_street(request.user, code))


@page(*CONSOLE)
@require_POST
def switch(request: HttpRequest, code: str) -> HttpResponse:
    found = selectors.managed_street(request.user, code)
    form = forms.SwitchForm(request.POST)
    if not form.is_valid():
        return error_page(
            request, ApplicationError(_("Please say whether the pipeline is on or off."))
        )
    enabled = form.cleaned_data["enabled"]
    try:
        services.organisation_set(street=found, enabled=enabled, actor=request.user)
    except ApplicationError as exc:
        return error_page(request, exc)
    message = (
        _("The organisation pipeline is on in %(street)s.")
        if enabled
        else _("The organisation pipeline is off in %(street)s.")
    )
    messages.success(request, message % {"street": found.name})
    return redirect("organisation:street", code=found.code)


@page(*CONSOLE)
@require_POST
def branch_create(request: HttpRequest, code: str) -> HttpResponse:
    found = selectors.managed_street(request.user, code)
    services.require_enabled(found.code, found.name)
    form = forms.BranchForm(request.POST, areas=_branch_areas(found))

    def draw(status: int) -> HttpResponse:
        return _street_page(request, found, forms_={"branch": form}, status=status)

    if not form.is_valid():
        return draw(400)
    try:
        branch = services.branch_create(actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("The branch %(branch)s was created.") % {"branch": branch})
    return redirect("organisation:street", code=found.code)


def _managed_branch(request: HttpRequest, branch_id: int) -> Branch:
    return selectors.branch_for_user(request.user, branch_id, Action.CONFIGURE)


@page(*CONSOLE)
@require_POST
def staff_add(request: HttpRequest, branch_id: int) -> HttpResponse:
    branch = _managed_branch(request, branch_id)
    form = forms.StaffForm(request.POST, users=selectors.staff_candidates(branch))
    if not form.is_valid():
        return error_page(
            request,
            ApplicationError(_("Please choose a console user of the branch's area."), field="user"),
        )
    user = form.cleaned_data["user"]
    try:
        services.branch_staff_add(branch=branch, user=user, actor=request.user)
    except ApplicationError as exc:
        return error_page(request, exc)
    messages.success(
        request, _("%(user)s now serves on %(branch)s.") % {"user": user, "branch": branch}
    )
    return redirect("organisation:street", code=branch.street.code)


@page(*CONSOLE)
@require_POST
def staff_remove(request: HttpRequest, branch_id: int, user_id: int) -> HttpResponse:
    branch = _managed_branch(request, branch_id)
    link = get_for_user(
        BranchStaff.objects.filter(branch=branch).select_related("user"),
        request.user,
        user_id=user_id,
    )
    try:
        services.branch_staff_remove(branch=branch, user=link.user, actor=request.user)
    except ApplicationError as exc:
        return error_page(request, exc)
    messages.success(
        request,
        _("%(user)s no longer serves on %(branch)s.") % {"user": link.user, "branch": branch},
    )
    return redirect("organisation:street", code=branch.street.code)


# --- a branch's staff: the pipeline ----------------------------------------------------------


def _served_branch(request: HttpRequest, branch_id: int) -> Branch:
    """A branch the user serves (404 when they may not see it, 403 for its admins)."""
    branch = selectors.branch_for_user(request.user, branch_id)
    services.require_branch_staff(request.user, branch)
    return branch


def _branch_page(
    request: HttpRequest, branch: Branch, *, form: Any = None, status: int = 200
) -> HttpResponse:
    filters = forms.FilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    records = page_of(
        selectors.records_for_user(
            request.user, branch=branch, stage=chosen.get("stage"), status=chosen.get("status")
        ),
        request,
    )
    records.object_list = list(records.object_list)
    for record in records.object_list:
        record.display_name = _masked(record)
    query = "&".join(f"{k}={v}" for k, v in chosen.items() if v)
    context = {
        "branch": branch,
        "page": records,
        "filters": filters,
        "query": query,
        "counts": selectors.count_rows(selectors.branch_counts(branch)),
        "form": form or forms.OpenForm(riders=selectors.candidates(branch)),
    }
    return render(request, "organisation/console/branch.html", context, status=status)


@page(*CONSOLE)
def branch(request: HttpRequest, branch_id: int) -> HttpResponse:
    return _branch_page(request, _served_branch(request, branch_id))


@page(*CONSOLE)
@require_POST
def record_open(request: HttpRequest, branch_id: int) -> HttpResponse:
    found = _served_branch(request, branch_id)
    form = forms.OpenForm(request.POST, riders=selectors.candidates(found))

    def draw(status: int) -> HttpResponse:
        return _branch_page(request, found, form=form, status=status)

    if not form.is_valid():
        return draw(400)
    try:
        record = services.record_open(branch=found, actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("The application was recorded."))
    return redirect("organisation:record", record_id=record.pk)


# --- a record --------------------------------------------------------------------------------


def _record_page(
    request: HttpRequest, record: PipelineRecord, *, forms_: dict | None = None, status: int = 200
) -> HttpResponse:
    forms_ = forms_ or {}
    next_stage = record.next_stage
    context = {
        "record": record,
        "history": list(selectors.history_of(record, request.user)),
        "advance_form": forms_.get("advance")
        or forms.AdvanceForm(initial={"stage": next_stage} if next_stage else None),
        "close_form": forms_.get("close") or forms.CloseForm(),
        "transfer_form": forms_.get("transfer")
        or forms.TransferForm(branches=selectors.transfer_targets(record)),
        "next_label": dict(forms.Stage.choices).get(next_stage, ""),
        "next_stage": next_stage,
        "bad_form": next(iter(forms_.values()), None),
    }
    return render(request, "organisation/console/record.html", context, status=status)


def _record_for(request: HttpRequest, record_id: int) -> PipelineRecord:
    return selectors.record_for_user(request.user, record_id)


@page(*CONSOLE)
def record(request: HttpRequest, record_id: int) -> HttpResponse:
    return _record_page(request, _record_for(request, record_id))


def _record_action(request, record_id, key, make_form, call, success) -> HttpResponse:
    found = _record_for(request, record_id)
    form = make_form(found)

    def draw(status: int) -> HttpResponse:
        return _record_page(request, found, forms_={key: form}, status=status)

    if not form.is_valid():
        return draw(400)
    form.cleaned_data["from_branch"] = found.branch_id
    try:
        call(found, form.cleaned_data)
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, success)
    if key == "transfer":  # the sender's staff no longer see it: back to their branch
        return redirect("organisation:branch", branch_id=form.cleaned_data["from_branch"])
    return redirect("organisation:record", record_id=found.pk)


@page(*CONSOLE)
@require_POST
def advance(request: HttpRequest, record_id: int) -> HttpResponse:
    return _record_action(
        request, record_id, "advance",
        lambda record: forms.AdvanceForm(request.POST),
        lambda record, data: services.record_advance(
            record=record, actor=request.user, stage=data["stage"], on=data["on"],
            note=data["note"],
        ),
        _("The record moved to the next stage."),
    )  # fmt: skip


@page(*CONSOLE)
@require_POST
def close(request: HttpRequest, record_id: int) -> HttpResponse:
    return _record_action(
        request, record_id, "close",
        lambda record: forms.CloseForm(request.POST),
        lambda record, data: services.record_close(
            record=record, actor=request.user, reason=data["reason"], on=data["on"]
        ),
        _("The record was closed."),
    )  # fmt: skip


@page(*CONSOLE)
@require_POST
def transfer(request: HttpRequest, record_id: int) -> HttpResponse:
    return _record_action(
        request, record_id, "transfer",
        lambda record: forms.TransferForm(
            request.POST, branches=Branch.objects.filter(street_id=record.branch.street_id)
        ),
        lambda record, data: services.record_transfer(
            record=record, actor=request.user, to_branch=data["branch"], note=data["note"]
        ),
        _("The record was handed over to the receiving branch."),
    )  # fmt: skip
