"""The back office of duties: read-only and scoped. Gift codes show no digits (only a hash is
kept); decisions are made on the console, through the services."""

from django.contrib import admin

from yizhan.core.admin import ScopedAdmin
from yizhan.duties import models as m


@admin.register(m.Duty)
class DutyAdmin(ScopedAdmin):
    list_display = [
        "id",
        "rider",
        "kind",
        "started_at",
        "minutes",
        "place",
        "status",
        "verified_by",
        "points",
        "decided_by",
    ]
    list_filter = ["status", "kind", "verified_by"]
    search_fields = ["rider__user__name", "place", "area_code"]
    date_hierarchy = "started_at"
    list_select_related = ["rider__user", "decided_by"]


@admin.register(m.GiftCode)
class GiftCodeAdmin(ScopedAdmin):
    list_display = [
        "household",
        "community",
        "issued_by",
        "created_at",
        "expires_at",
        "used_at",
        "duty",
    ]
    search_fields = ["household", "area_code"]
    list_select_related = ["community", "issued_by", "duty"]
    exclude = ["code_hash"]
