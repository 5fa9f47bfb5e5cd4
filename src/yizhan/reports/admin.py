"""The back office of 随手拍: read-only, scoped lists, and the Open311 keys.

Categories, reports (with their timeline and photos), settings and witnesses are listed through
the permission layer (``ScopedAdmin``); nothing is edited here — the console pages and the API
call the services. The one write is for Open311 keys: a street's administrators issue a key on
a page of its own (the raw key is shown on the answer to that POST, once, and never again) and
revoke keys with an admin action; both go through ``services.open311_key_issue`` /
``open311_key_revoke``.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.admin import ReadOnlyInline, ScopedAdmin
from yizhan.core.errors import ApplicationError
from yizhan.core.pages import form_error
from yizhan.core.permissions import is_authenticated, is_console_user, scope_code
from yizhan.reports import models as m
from yizhan.reports import services
from yizhan.reports.selectors import streets_of


class AreaFilter(admin.SimpleListFilter):
    """Streets and communities beneath the user's area (all of them for the operator)."""

    title = _("area")
    parameter_name = "area"

    def lookups(self, request, model_admin):
        areas = Area.objects.filter(level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY])
        if not request.user.is_superuser:
            areas = areas.filter(code__startswith=scope_code(request.user) or "-")
        return [(area.code, f"{area.code} {area.name}") for area in areas.order_by("code")[:200]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(area_code__startswith=self.value())
        return queryset


@admin.register(m.Category)
class CategoryAdmin(ScopedAdmin):
    list_display = [
        "code",
        "name",
        "name_en",
        "family",
        "street",
        "department",
        "deadline_amount",
        "deadline_unit",
        "urgent",
        "is_active",
    ]
    list_filter = ["family", "urgent", "is_active", "deadline_unit"]
    search_fields = ["code", "name", "name_en", "area_code"]
    list_select_related = ["street", "department"]


class ReportEventInline(ReadOnlyInline):
    model = m.ReportEvent
    fields = ["created_at", "action", "from_status", "to_status", "actor", "note", "public"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class ReportPhotoInline(ReadOnlyInline):
    model = m.ReportPhoto
    fields = ["preview", "stage", "faces", "width", "height", "phash", "uploaded_by", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description=_("photo"))
    def preview(self, obj: m.ReportPhoto) -> str:
        # The copy with faces blurred; the original only through the console's audited link.
        if not obj.public_thumbnail_url:
            return str(obj.get_blur_state_display())
        return format_html(
            '<a href="{}"><img src="{}" alt="" style="max-height:80px"></a>',
            obj.public_url,
            obj.public_thumbnail_url,
        )


@admin.register(m.Report)
class ReportAdmin(ScopedAdmin):
    list_display = [
        "id",
        "created_at",
        "category",
        "status",
        "urgent",
        "community",
        "grid",
        "department",
        "deadline_at",
        "overdue",
        "witnesses",
        "points_status",
        "source",
    ]
    list_display_links = ["id", "category"]
    list_filter = [
        "status",
        ("category", admin.RelatedOnlyFieldListFilter),
        AreaFilter,
        "source",
        "urgent",
        "points_status",
    ]
    search_fields = ["=id", "description", "address", "area_code"]
    date_hierarchy = "created_at"
    list_select_related = ["category", "community", "grid", "department"]
    inlines = [ReportEventInline, ReportPhotoInline]

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj: m.Report) -> bool:
        return obj.is_overdue


@admin.register(m.ReportSettings)
class ReportSettingsAdmin(ScopedAdmin):
    list_display = [
        "street",
        "duplicate_radius_m",
        "duplicate_days",
        "witness_share_percent",
        "burst_reports",
        "burst_minutes",
        "max_photo_distance_m",
        "max_photo_age_hours",
    ]
    list_select_related = ["street"]


@admin.register(m.Witness)
class WitnessAdmin(ScopedAdmin):
    list_display = ["report", "user", "via", "points_status", "created_at"]
    list_filter = ["points_status"]
    search_fields = ["=report__id", "area_code"]
    list_select_related = ["report__category", "user", "via__category"]


# --- Open311 keys --------------------------------------------------------------------------------


class Open311KeyForm(forms.Form):
    street = forms.ModelChoiceField(label=_("street"), queryset=Area.objects.none())
    name = forms.CharField(
        label=_("client"),
        max_length=100,
        help_text=_("Who will use the key, e.g. 12345 热线 or the district's app."),
    )

    def __init__(self, *args: Any, streets: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = streets


@admin.register(m.Open311Key)
class Open311KeyAdmin(ScopedAdmin):
    list_display = ["name", "street", "prefix", "account", "created_by", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "area_code"]
    list_select_related = ["street", "account", "created_by"]
    exclude = ["key_hash"]
    actions = ["revoke"]
    change_list_template = "admin/reports/open311key/change_list.html"

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("issue/", self._console_view(self.issue_view), name=f"{prefix}_issue"),
            *super().get_urls(),
        ]

    def _console_view(self, view):
        """The admin's log-in and CSRF; a 403 for a signed-in account that is not a console
        user (the admin would only send it to log in again)."""
        inner = self.admin_site.admin_view(view)

        @wraps(view)
        def gate(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if is_authenticated(request.user) and not is_console_user(request.user):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return gate

    def issue_view(self, request: HttpRequest) -> HttpResponse:
        """Issue a key. The raw key is in this one answer only (not stored, not redirected)."""
        streets = streets_of(request.user)
        if not is_console_user(request.user) or not streets.exists():
            raise PermissionDenied  # only a street's administrators (and above) issue keys
        form = Open311KeyForm(request.POST or None, streets=streets)
        issued = raw = None
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    issued, raw = services.open311_key_issue(
                        street=form.cleaned_data["street"],
                        name=form.cleaned_data["name"],
                        actor=request.user,
                    )
                except ApplicationError as exc:
                    form_error(form, exc)
                    status = exc.status
            else:
                status = 400
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Issue an Open311 key"),
            "form": form,
            "issued": issued,
            "raw": raw,
            "endpoint": request.build_absolute_uri(
                reverse("open311:discovery", kwargs={"fmt": "json"})
            ),
        }
        return TemplateResponse(
            request, "admin/reports/open311key/issue.html", context, status=status
        )

    def changelist_view(self, request, extra_context=None):
        extra = {"may_issue": streets_of(request.user).exists(), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        self.run_service(
            request,
            queryset,
            lambda key, actor: services.open311_key_revoke(key=key, actor=actor),
        )
