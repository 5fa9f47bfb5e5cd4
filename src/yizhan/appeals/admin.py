"""The back office of appeals and joint meetings: read-only and scoped (``ScopedAdmin``).

Every change goes through the console or the API (the services). An anonymous appeal shows no
rider here: the back office is a staff list, and only the body handling it sees the name.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yizhan.appeals import models as m
from yizhan.core.admin import ReadOnlyInline, ScopedAdmin


class DeliveryInline(ReadOnlyInline):
    model = m.Delivery
    fields = ["created_at", "kind", "note"]
    readonly_fields = fields


@admin.register(m.Appeal)
class AppealAdmin(ScopedAdmin):
    list_display = [
        "id",
        "difficulty",
        "topic",
        "status",
        "rider_shown",
        "body",
        "deadline_at",
        "rating",
        "created_at",
    ]
    list_filter = ["status", "difficulty", "topic"]
    search_fields = ["text", "area_code"]
    list_select_related = ["rider", "body"]
    exclude = ["rider"]
    inlines = [DeliveryInline]

    @admin.display(description=_("rider"))
    def rider_shown(self, obj: m.Appeal) -> str:
        return str(_("Anonymous")) if obj.anonymous else (obj.rider.name or obj.rider.username)


@admin.register(m.Meeting)
class MeetingAdmin(ScopedAdmin):
    list_display = ["held_on", "title", "area", "place"]
    search_fields = ["title", "place", "area_code"]
    list_select_related = ["area"]


@admin.register(m.Decision)
class DecisionAdmin(ScopedAdmin):
    list_display = ["text", "meeting", "owner", "due_on", "status"]
    list_filter = ["status"]
    search_fields = ["text", "owner_name", "area_code"]
    list_select_related = ["meeting", "owner_body"]
