"""The back office of the station registry: read-only, scoped, plus the import and the export.

Stations, the service catalogue, checklists, inspections and visits are listed through the
permission layer (``ScopedAdmin``); nothing is edited here. The station list links to the
import page (an .xlsx or CSV file through ``exchange.import_stations``, as the signed-in user, so
each row is checked against what that user may operate) and to the export (an .xlsx of the
rows the list shows, which re-imports cleanly). Only console users may use either: anyone else
signed in gets a 403, and a file that cannot be imported a 400 with the reason.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from yizhan.core.admin import ReadOnlyInline, ScopedAdmin
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError
from yizhan.core.pages import form_error
from yizhan.core.permissions import is_authenticated, is_console_user, scope_code
from yizhan.stations import exchange
from yizhan.stations import hours as hours_module
from yizhan.stations import models as m
from yizhan.stations.forms import StationImportForm
from yizhan.stations.selectors import service_labels


class StationPhotoInline(ReadOnlyInline):
    model = m.StationPhoto
    fields = ["thumbnail", "caption", "width", "height", "uploaded_by", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


@admin.register(m.Station)
class StationAdmin(ScopedAdmin):
    list_display = ["name", "kind", "ref", "community", "grid", "status", "updated_at"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "address", "ref", "host_name", "area_code"]
    list_select_related = ["community", "grid"]
    fields = [
        "ref",
        "name",
        "kind",
        "status",
        "status_note",
        "community",
        "grid",
        "area_code",
        "address",
        "lat",
        "lng",
        "service_list",
        "hours_text",
        "exceptions_text",
        "zones",
        "merchant",
        "host_name",
        "contact_name",
        "contact_phone",
        "description",
        "qr_version",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [StationPhotoInline]
    actions = ["export_selected"]
    change_list_template = "admin/stations/station/change_list.html"

    @admin.display(description=_("services"))
    def service_list(self, obj: m.Station) -> str:
        return "、".join(label for _code, label in service_labels(obj.services_mask))

    @admin.display(description=_("opening hours"))
    def hours_text(self, obj: m.Station) -> str:
        return hours_module.format_text(obj.opening_hours)

    @admin.display(description=_("special dates"))
    def exceptions_text(self, obj: m.Station) -> str:
        return hours_module.format_exceptions(obj.opening_hours)

    # --- import and export ---------------------------------------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("import/", self._console_view(self.import_view), name=f"{prefix}_import"),
            path("export/", self._console_view(self.export_view), name=f"{prefix}_export"),
            path(
                "template.<str:fmt>",
                self._console_view(self.template_view),
                name=f"{prefix}_template",
            ),
            *super().get_urls(),
        ]

    def _console_view(self, view):
        """``admin_view`` (log-in, CSRF, no caching), and a 403 for a signed-in account that is
        not a console user (the admin would send it to log in again)."""
        inner = self.admin_site.admin_view(view)

        @wraps(view)
        def gate(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if is_authenticated(request.user) and not is_console_user(request.user):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return gate

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not is_console_user(request.user):
            raise PermissionDenied
        form = StationImportForm(request.POST or None, request.FILES or None)
        report = None
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    report = exchange.import_stations(
                        form.cleaned_data["file"],
                        actor=request.user,
                        all_or_nothing=not form.cleaned_data["keep_good_rows"],
                        dry_run=form.cleaned_data["dry_run"],
                    )
                except ApplicationError as exc:
                    form_error(form, exc)
                    status = exc.status
                else:
                    status = 400 if report.errors and not report.committed else 200
            else:
                status = 400
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import stations"),
            "form": form,
            "report": report,
            "columns": exchange.COLUMNS,
            "max_rows": exchange.MAX_ROWS,
        }
        return TemplateResponse(
            request, "admin/stations/station/import.html", context, status=status
        )

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The rows the station list shows (its filters and search applied), as .xlsx."""
        if not is_console_user(request.user):
            raise PermissionDenied
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            queryset = self.get_queryset(request)
        return self._export(request, queryset)

    def _export(self, request: HttpRequest, queryset) -> HttpResponse:
        data = exchange.export_stations(queryset, "xlsx")
        log_action(
            actor=request.user, action="export", target=request.user,
            area_code=scope_code(request.user),
            data={"what": "stations", "format": "xlsx", "from": "back office"},
        )  # fmt: skip
        return exchange.download_response(data, "xlsx", exchange.filename("xlsx"))

    def template_view(self, request: HttpRequest, fmt: str) -> HttpResponse:
        if not is_console_user(request.user):
            raise PermissionDenied
        if fmt not in exchange.FORMATS:
            raise Http404
        # The example row sits in a community the user may import into, where there is one.
        return exchange.download_response(
            exchange.template_for(request.user, fmt), fmt, exchange.filename(fmt, template=True)
        )

    @admin.action(description=_("Export the selected stations (.xlsx)"))
    def export_selected(self, request, queryset):
        return self._export(request, queryset)


@admin.register(m.ServiceItem)
class ServiceItemAdmin(ScopedAdmin):
    list_display = ["code", "name", "name_en", "bit", "sort_order", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "name_en"]


@admin.register(m.ChecklistItem)
class ChecklistItemAdmin(ScopedAdmin):
    list_display = ["text", "standard", "street", "sort_order", "is_active"]
    list_filter = ["standard", "is_active"]
    search_fields = ["text", "street__name", "area_code"]
    list_select_related = ["street"]


class InspectionResultInline(ReadOnlyInline):
    model = m.InspectionResult
    fields = ["item", "passed", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item")


@admin.register(m.Inspection)
class InspectionAdmin(ScopedAdmin):
    list_display = ["station", "inspected_on", "standard", "passed", "total", "inspector"]
    list_filter = ["standard"]
    search_fields = ["station__name", "note", "area_code"]
    date_hierarchy = "inspected_on"
    list_select_related = ["station", "inspector"]
    inlines = [InspectionResultInline]


@admin.register(m.Visit)
class VisitAdmin(ScopedAdmin):
    list_display = ["created_at", "station", "kind", "rider", "people", "day", "recorded_by"]
    list_filter = ["kind"]
    search_fields = ["station__name", "area_code"]
    date_hierarchy = "day"
    list_select_related = ["station", "rider", "recorded_by"]
