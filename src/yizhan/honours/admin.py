"""The back office of honours: read-only and scoped (titles are public; nominations are seen by
the staff of the rider's area). Decisions are made on the console, through the services."""

from django.contrib import admin

from yizhan.core.admin import ScopedAdmin
from yizhan.honours import models as m


@admin.register(m.Title)
class TitleAdmin(ScopedAdmin):
    list_display = ["name", "period", "street", "starts_on", "ends_on", "quota", "created_at"]
    search_fields = ["name", "period", "street__name", "area_code"]
    list_select_related = ["street"]


@admin.register(m.Nomination)
class NominationAdmin(ScopedAdmin):
    list_display = ["title", "rider", "status", "nominated_by", "created_at", "decided_by",
                    "decided_at"]  # fmt: skip
    list_filter = ["status"]
    search_fields = ["title__name", "rider__user__name", "reason", "area_code"]
    date_hierarchy = "created_at"
    list_select_related = ["title", "rider__user", "nominated_by", "decided_by"]
