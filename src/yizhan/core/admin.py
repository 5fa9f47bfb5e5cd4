"""The back office goes through the same permission layer as pages and the API.

Every admin is read-only: rows change only through services (admin actions call them), so
the audit log and the invariants hold whichever door a change comes through.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from yizhan.core import services as core_services
from yizhan.core.errors import ApplicationError
from yizhan.core.models import AuditEntry, Holiday
from yizhan.core.pages import form_error
from yizhan.core.permissions import Action, is_authenticated, is_console_user, restrict


class ScopedAdmin(admin.ModelAdmin):
    """Rows the user may see (``restrict``); no direct add, change or delete."""

    list_per_page = 50

    def get_queryset(self, request):
        return restrict(super().get_queryset(request), request.user, Action.VIEW)

    def has_module_permission(self, request):
        return is_console_user(request.user)

    def has_view_permission(self, request, obj=None):
        return is_console_user(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def run_service(self, request, queryset, service, **kwargs) -> None:
        """Call ``service`` for each selected row the user may operate on; report each result."""
        done = 0
        for obj in restrict(queryset, request.user, Action.OPERATE):
            try:
                service(obj, actor=request.user, **kwargs)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, _("%(n)s done.") % {"n": done}, messages.SUCCESS)


class ReadOnlyInline(admin.TabularInline):
    """Rows of a parent the user may see; shown to console users, never edited here."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        return is_console_user(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedAdmin):
    """Read-only, like every admin here, and more: the log is append-only (the model and, on
    PostgreSQL, a trigger refuse changes) and no action is offered. Console accounts see the
    entries of their area and below; administrators search and export them on the console's
    audit page (``oversight:audit``)."""

    list_display = ["created_at", "action", "actor", "target_type", "target_id", "area_code"]
    list_filter = ["action", "target_type"]
    search_fields = ["action", "target_id", "area_code"]
    date_hierarchy = "created_at"
    list_select_related = ["actor"]
    actions = None


# --- the working calendar ------------------------------------------------------------------------


class HolidayForm(forms.Form):
    day = forms.DateField(label=_("date"), widget=forms.DateInput(attrs={"type": "date"}))
    is_workday = forms.BooleanField(
        label=_("working day"),
        required=False,
        help_text=_("Ticked: a weekend day worked (调休). Unticked: a day off (a public holiday)."),
    )
    name = forms.CharField(label=_("name"), max_length=50, required=False)


@admin.register(Holiday)
class HolidayAdmin(ScopedAdmin):
    """Everyone in the back office reads the calendar; only the platform operator sets a date
    (``core.services.holiday_set``, on a page of its own) or removes one (an action)."""

    list_display = ["date", "weekday", "is_workday", "name"]
    list_filter = ["is_workday"]
    search_fields = ["name"]
    date_hierarchy = "date"
    actions = ["remove"]
    change_list_template = "admin/core/holiday/change_list.html"

    @admin.display(description=_("weekday"))
    def weekday(self, obj: Holiday) -> str:
        return date_format(obj.date, "l")

    def get_actions(self, request):
        return super().get_actions(request) if request.user.is_superuser else {}

    def get_urls(self):
        inner = self.admin_site.admin_view(self.set_view)

        def gate(request: HttpRequest) -> HttpResponse:
            # A signed-in account that is not the operator gets a 403, not the log-in again.
            if is_authenticated(request.user) and not request.user.is_superuser:
                raise PermissionDenied
            return inner(request)

        return [path("set/", gate, name="core_holiday_set"), *super().get_urls()]

    def set_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_superuser:
            raise PermissionDenied
        initial = {}
        try:
            day = parse_date(request.GET.get("day") or "")
        except ValueError:
            day = None
        existing = Holiday.objects.filter(date=day).first() if day else None
        if existing is not None:  # ?day=2026-10-01: change that date
            initial = {
                "day": existing.date,
                "is_workday": existing.is_workday,
                "name": existing.name,
            }
        form = HolidayForm(request.POST or None, initial=initial)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    holiday = core_services.holiday_set(actor=request.user, **form.cleaned_data)
                except ApplicationError as exc:
                    form_error(form, exc)
                    status = exc.status
                else:
                    self.message_user(request, _("%(day)s saved.") % {"day": holiday})
                    return HttpResponseRedirect(reverse("admin:core_holiday_changelist"))
            else:
                status = 400
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Set a date of the working calendar"),
            "form": form,
        }
        return TemplateResponse(request, "admin/core/holiday/set.html", context, status=status)

    @admin.action(description=_("Remove the selected dates (back to ordinary days)"))
    def remove(self, request, queryset):
        self.run_service(
            request,
            queryset,
            lambda holiday, actor: core_services.holiday_remove(day=holiday.date, actor=actor),
        )
