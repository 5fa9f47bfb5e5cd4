"""The back office goes through the same permission layer as pages and the API.

Every admin is read-only: rows change only through services (admin actions call them), so
the audit log and the invariants hold whichever door a change comes through.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from yizhan.core.errors import ApplicationError
from yizhan.core.models import AuditEntry
from yizhan.core.permissions import Action, is_console_user, restrict


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
    list_display = ["created_at", "action", "actor", "target_type", "target_id", "area_code"]
    list_filter = ["action", "target_type"]
    search_fields = ["action", "target_id", "area_code"]
    date_hierarchy = "created_at"
    list_select_related = ["actor"]
