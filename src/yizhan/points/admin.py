"""The back office of the points ledger: read-only, scoped, actions through the services.

Nobody edits the ledger here (postings and entries are append-only; a correction is a reversal
made through ``points_reverse`` on the console). The one action is the second approval of a
large manual award (maker-checker), or turning it down.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yizhan.core.admin import ReadOnlyInline, ScopedAdmin
from yizhan.points import models as m
from yizhan.points import services


class EntryInline(ReadOnlyInline):
    model = m.Entry
    fields = ["account", "amount", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account__owner", "account__street")


@admin.register(m.PointsAccount)
class PointsAccountAdmin(ScopedAdmin):
    list_display = ["__str__", "kind", "balance", "street", "created_at"]
    list_filter = ["kind"]
    search_fields = ["owner__name", "owner__username", "street__name"]
    list_select_related = ["owner", "street"]


@admin.register(m.Posting)
class PostingAdmin(ScopedAdmin):
    list_display = [
        "created_at",
        "kind",
        "member",
        "amount",
        "activity",
        "reason",
        "actor",
        "approved_by",
        "area_code",
    ]
    list_filter = ["kind", "activity"]
    search_fields = ["member__owner__name", "reason", "area_code", "source_id", "idempotency_key"]
    date_hierarchy = "created_at"
    list_select_related = ["member__owner", "actor", "approved_by"]
    inlines = [EntryInline]


@admin.register(m.Entry)
class EntryAdmin(ScopedAdmin):
    list_display = ["created_at", "posting", "account", "amount"]
    search_fields = ["account__owner__name", "posting__reason"]
    date_hierarchy = "created_at"
    list_select_related = ["posting", "account__owner", "account__street"]


@admin.register(m.EarningRecord)
class EarningRecordAdmin(ScopedAdmin):
    list_display = [
        "created_at",
        "member",
        "activity",
        "units",
        "requested",
        "paid",
        "capped",
        "reason",
        "actor",
    ]
    list_filter = ["activity"]
    search_fields = ["member__owner__name", "reason", "area_code", "source_id"]
    date_hierarchy = "created_at"
    list_select_related = ["member__owner", "actor"]


@admin.register(m.ManualAward)
class ManualAwardAdmin(ScopedAdmin):
    list_display = [
        "created_at",
        "member",
        "amount",
        "reason",
        "status",
        "flags",
        "requested_by",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status"]
    search_fields = ["member__owner__name", "reason", "evidence", "area_code"]
    date_hierarchy = "created_at"
    list_select_related = ["member__owner", "requested_by", "decided_by"]
    actions = ["approve", "reject"]

    @admin.action(description=_("Approve the selected awards (second staff member)"))
    def approve(self, request, queryset):
        self.run_service(
            request,
            queryset,
            lambda award, actor: services.points_award_approve(award=award, actor=actor),
        )

    @admin.action(description=_("Turn down the selected awards"))
    def reject(self, request, queryset):
        self.run_service(
            request,
            queryset,
            lambda award, actor: services.points_award_reject(award=award, actor=actor),
        )


@admin.register(m.EarningRule)
class EarningRuleAdmin(ScopedAdmin):
    list_display = [
        "street",
        "activity",
        "category",
        "points",
        "daily_cap",
        "weekly_cap",
        "is_active",
    ]
    list_filter = ["activity", "is_active"]
    search_fields = ["street__name", "area_code", "category"]
    list_select_related = ["street"]


@admin.register(m.PointsSettings)
class PointsSettingsAdmin(ScopedAdmin):
    list_display = [
        "street",
        "approval_threshold",
        "expiry_enabled",
        "expiry_month",
        "expiry_day",
    ]
    search_fields = ["street__name", "area_code"]
    list_select_related = ["street"]


@admin.register(m.SeasonScore)
class SeasonScoreAdmin(ScopedAdmin):
    """The leaderboards as stored: filter a season and search an area code to see one board."""

    list_display = ["season", "area_code", "member", "points", "reached_at"]
    list_filter = ["season"]
    search_fields = ["=area_code", "member__owner__name"]
    ordering = ["season", "area_code", "-points", "reached_at", "member"]
    list_select_related = ["member__owner"]


@admin.register(m.ScoreBucket)
class ScoreBucketAdmin(ScopedAdmin):
    """How many members hold each score (what ranks are summed from)."""

    list_display = ["season", "area_code", "points", "members"]
    list_filter = ["season"]
    search_fields = ["=area_code"]
    ordering = ["season", "area_code", "-points"]
