"""The back office of events and hand-outs: read-only and scoped (everything is done on the
console, through the services). Attendance codes are not shown: only the rider holds theirs."""

from django.contrib import admin

from yizhan.core.admin import ReadOnlyInline, ScopedAdmin
from yizhan.events import models as m


@admin.register(m.Event)
class EventAdmin(ScopedAdmin):
    list_display = ["title", "kind", "organiser", "starts_at", "ends_at", "capacity", "audience"]
    list_filter = ["kind", "audience"]
    search_fields = ["title", "organiser__name", "area_code"]
    date_hierarchy = "starts_at"
    list_select_related = ["organiser"]


@admin.register(m.Signup)
class SignupAdmin(ScopedAdmin):
    list_display = ["event", "user", "status", "queued_at", "checked_in_at", "points_status"]
    list_filter = ["status", "points_status"]
    search_fields = ["event__title", "user__name", "area_code"]
    list_select_related = ["event", "user"]
    exclude = ["code"]


class ItemInline(ReadOnlyInline):
    model = m.DistributionItem
    fields = ["name", "stock", "handed_out"]
    readonly_fields = fields


@admin.register(m.Distribution)
class DistributionAdmin(ScopedAdmin):
    list_display = ["name", "area", "created_at", "created_by"]
    search_fields = ["name", "area__name", "area_code"]
    list_select_related = ["area", "created_by"]
    inlines = [ItemInline]


@admin.register(m.Receipt)
class ReceiptAdmin(ScopedAdmin):
    list_display = ["distribution", "user", "created_at", "recorded_by"]
    search_fields = ["distribution__name", "user__name", "area_code"]
    list_select_related = ["distribution", "user", "recorded_by"]
