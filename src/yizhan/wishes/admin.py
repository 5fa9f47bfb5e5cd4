"""The back office of the micro-wishes: read-only and scoped (``ScopedAdmin``); every change goes
through the services on the pages or the API. Photos and the rider's phone are not shown."""

from django.contrib import admin

from yizhan.core.admin import ReadOnlyInline, ScopedAdmin
from yizhan.wishes import models as m


class ClaimInline(ReadOnlyInline):
    model = m.WishClaim
    fields = ["claimer", "status", "note", "created_at", "ended_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("claimer")


class EventInline(ReadOnlyInline):
    model = m.WishEvent
    fields = ["created_at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(m.Wish)
class WishAdmin(ScopedAdmin):
    list_display = [
        "id",
        "category",
        "text",
        "rider",
        "community",
        "status",
        "points_status",
        "created_at",
        "confirm_due_at",
    ]
    list_filter = ["status", "category", "points_status"]
    search_fields = ["text", "rider__name", "area_code"]
    date_hierarchy = "created_at"
    list_select_related = ["rider", "community"]
    exclude = ["photo"]
    inlines = [ClaimInline, EventInline]


@admin.register(m.WishClaim)
class WishClaimAdmin(ScopedAdmin):
    list_display = ["wish", "claimer", "status", "created_at", "ended_at"]
    list_filter = ["status"]
    search_fields = ["claimer__name", "claimer__username", "area_code"]
    list_select_related = ["wish", "claimer"]
    exclude = ["photo"]
