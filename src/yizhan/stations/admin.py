from django.contrib import admin

from yizhan.core.admin import ScopedAdmin
from yizhan.stations.models import Station


@admin.register(Station)
class StationAdmin(ScopedAdmin):
    list_display = ["name", "kind", "community", "grid", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "address"]
    list_select_related = ["community", "grid"]
