"""The back office of the inbox: read-only. An inbox is personal, so each console user sees
their own notifications and their deliveries; the platform operator sees everyone's (to follow
a channel that fails). Nothing is sent, read or deleted from here."""

from django.contrib import admin

from yizhan.core.admin import ReadOnlyInline, ScopedAdmin
from yizhan.notifications import models as m


class DeliveryInline(ReadOnlyInline):
    model = m.Delivery
    fields = ["created_at", "channel", "status", "error"]
    readonly_fields = fields


@admin.register(m.Notification)
class NotificationAdmin(ScopedAdmin):
    list_display = ["created_at", "recipient", "kind", "title", "urgent", "read_at"]
    list_filter = ["kind", "urgent"]
    search_fields = ["title", "body", "kind", "target_id"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]
    inlines = [DeliveryInline]


@admin.register(m.Delivery)
class DeliveryAdmin(ScopedAdmin):
    list_display = ["created_at", "channel", "status", "notification", "error"]
    list_filter = ["status", "channel"]
    search_fields = ["error", "notification__title"]
    date_hierarchy = "created_at"
    list_select_related = ["notification"]
