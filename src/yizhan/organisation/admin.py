"""The back office of the organisation pipeline: read-only and scoped by the same policies as
the pages (switches, branches and their staff: the street's admins; records and their history:
the branch's staff only). Changes are made on the console, through the services."""

from django.contrib import admin

from yizhan.core.admin import ScopedAdmin
from yizhan.organisation import models as m


@admin.register(m.OrganisationSettings)
class OrganisationSettingsAdmin(ScopedAdmin):
    list_display = ["street", "enabled", "changed_by", "changed_at"]
    list_filter = ["enabled"]
    list_select_related = ["street", "changed_by"]


@admin.register(m.Branch)
class BranchAdmin(ScopedAdmin):
    list_display = ["name", "street", "area", "created_at"]
    search_fields = ["name", "area_code"]
    list_select_related = ["street", "area"]


@admin.register(m.BranchStaff)
class BranchStaffAdmin(ScopedAdmin):
    list_display = ["branch", "user", "added_by", "added_at"]
    list_select_related = ["branch", "user", "added_by"]


@admin.register(m.PipelineRecord)
class PipelineRecordAdmin(ScopedAdmin):
    # No names in the list or the search: ids, stages and dates only.
    list_display = ["__str__", "branch", "stage", "status", "applied_on", "updated_at"]
    list_filter = ["stage", "status"]
    list_select_related = ["branch"]
    exclude = ["rider"]


@admin.register(m.StageEntry)
class StageEntryAdmin(ScopedAdmin):
    list_display = ["record", "kind", "stage", "on", "branch", "to_branch", "actor", "created_at"]
    list_filter = ["kind", "stage"]
    list_select_related = ["record", "branch", "to_branch", "actor"]
