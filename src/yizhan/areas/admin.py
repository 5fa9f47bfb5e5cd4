from django.contrib import admin

from yizhan.areas.models import Area
from yizhan.core.admin import ScopedAdmin


@admin.register(Area)
class AreaAdmin(ScopedAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    readonly_fields = ["boundary"]
