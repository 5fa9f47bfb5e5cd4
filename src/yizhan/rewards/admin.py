"""The back office of the points shop: read-only, scoped, actions through the services.

Stock changes, the catalogue and windows are made on the console (through the services); here
staff can see them, cancel reservations at their stations (``redemption_cancel``: points and
item go back), and the platform operator can release the overdue ones at once
(``redemptions_expire``, what the scheduled ``manage.py expire_redemptions`` does). Pickup codes
are not shown: only the rider holds theirs.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from yizhan.core.admin import ReadOnlyInline, ScopedAdmin
from yizhan.rewards import models as m
from yizhan.rewards import services


class StockInline(ReadOnlyInline):
    model = m.Stock
    fields = ["station", "available", "held", "handed_out"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("station")


class StockChangeInline(ReadOnlyInline):
    model = m.StockChange
    fields = ["created_at", "change", "reason", "actor"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(m.Reward)
class RewardAdmin(ScopedAdmin):
    list_display = [
        "name",
        "street",
        "cost",
        "per_rider_limit",
        "pickup_hours",
        "available_from",
        "available_until",
        "is_active",
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "description", "street__name", "area_code"]
    list_select_related = ["street"]
    inlines = [StockInline]


@admin.register(m.Stock)
class StockAdmin(ScopedAdmin):
    list_display = ["reward", "station", "available", "held", "handed_out"]
    search_fields = ["reward__name", "station__name", "area_code"]
    list_select_related = ["reward", "station"]
    inlines = [StockChangeInline]


@admin.register(m.StockChange)
class StockChangeAdmin(ScopedAdmin):
    list_display = ["created_at", "stock", "change", "reason", "actor"]
    search_fields = ["stock__reward__name", "stock__station__name", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["stock__reward", "stock__station", "actor"]


@admin.register(m.PriorityWindow)
class PriorityWindowAdmin(ScopedAdmin):
    list_display = [
        "name",
        "street",
        "reward",
        "top_n",
        "season",
        "ranking_area",
        "opens_at",
        "closes_at",
    ]
    list_filter = ["season_kind"]
    search_fields = ["name", "street__name", "area_code"]
    list_select_related = ["street", "reward", "ranking_area"]


@admin.register(m.Redemption)
class RedemptionAdmin(ScopedAdmin):
    list_display = [
        "created_at",
        "user",
        "reward",
        "station",
        "cost",
        "status",
        "expires_at",
        "closed_at",
        "closed_by",
    ]
    list_filter = ["status"]
    search_fields = ["user__name", "reward__name", "station__name", "area_code"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "reward", "station", "closed_by"]
    exclude = ["pickup_code", "idempotency_key"]
    actions = ["cancel", "release_overdue"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("release_overdue", None)
        return actions

    @admin.action(description=_("Cancel the selected reservations (points and item go back)"))
    def cancel(self, request, queryset):
        self.run_service(
            request,
            queryset,
            lambda redemption, actor: services.redemption_cancel(
                redemption=redemption, actor=actor
            ),
        )

    @admin.action(description=_("Release every overdue reservation now (all stations)"))
    def release_overdue(self, request, queryset):
        if not request.user.is_superuser:  # the action is listed for the operator only
            return
        released = services.redemptions_expire()
        self.message_user(
            request,
            ngettext(
                "%(n)s overdue reservation released.",
                "%(n)s overdue reservations released.",
                released,
            )
            % {"n": released},
            messages.SUCCESS,
        )
