from django.contrib import admin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from yizhan.core.admin import ReadOnlyInline, ScopedAdmin
from yizhan.people import models as m
from yizhan.people import security, services
from yizhan.people.forms import AdminLoginForm

# Roles and area scopes replace Django's groups and permissions: one permission layer.
admin.site.unregister(Group)
# The back office's log-in goes through the same lockout as the log-in page.
admin.site.login_form = AdminLoginForm


@admin.register(m.User)
class UserAdmin(ScopedAdmin):
    list_display = [
        "username",
        "name",
        "role",
        "phone_masked",
        "area",
        "is_active",
        "two_factor_enabled",
        "locked_until",
    ]
    list_filter = ["role", "is_active", "two_factor_enabled"]
    search_fields = ["username", "name", "area_code"]
    list_select_related = ["area"]
    exclude = ["password", "phone_encrypted", "phone_index", "user_permissions", "groups"]
    actions = ["unlock", "reset_two_factor"]

    @admin.action(description=_("Unlock the selected accounts (after too many failed log-ins)"))
    def unlock(self, request, queryset):
        self.run_service(
            request, queryset, lambda user, actor: security.account_unlock(user=user, actor=actor)
        )

    @admin.action(description=_("Reset two-factor log-in of the selected accounts"))
    def reset_two_factor(self, request, queryset):
        self.run_service(
            request,
            queryset,
            lambda user, actor: security.two_factor_reset(user=user, actor=actor),
        )


@admin.register(m.Department)
class DepartmentAdmin(ScopedAdmin):
    list_display = ["name", "area"]
    list_select_related = ["area"]
    search_fields = ["name"]


class HeldPostsInline(ReadOnlyInline):
    model = m.PostClaim
    fields = ["post", "status", "created_at", "decided_at"]
    readonly_fields = fields


@admin.register(m.RiderProfile)
class RiderProfileAdmin(ScopedAdmin):
    list_display = ["user", "phone", "platform", "occupation", "community", "grid", "status"]
    list_filter = ["status", "platform", "occupation"]
    search_fields = ["user__name"]
    list_select_related = ["user", "community", "grid"]
    inlines = [HeldPostsInline]
    actions = ["verify"]

    @admin.display(description=_("phone"))
    def phone(self, obj):
        return obj.user.phone_masked

    @admin.action(description=_("Verify the selected registrations"))
    def verify(self, request, queryset):
        self.run_service(
            request, queryset, lambda rider, actor: services.rider_verify(rider=rider, actor=actor)
        )


@admin.register(m.Post)
class PostAdmin(ScopedAdmin):
    list_display = ["kind", "community", "capacity", "holders", "is_open"]
    list_filter = ["kind", "is_open"]
    list_select_related = ["community"]


@admin.register(m.PostClaim)
class PostClaimAdmin(ScopedAdmin):
    list_display = ["rider", "post", "status", "created_at", "decided_at"]
    list_filter = ["status", "post__kind"]
    list_select_related = ["rider__user", "post__community"]
    actions = ["approve"]

    @admin.action(description=_("Approve the selected claims"))
    def approve(self, request, queryset):
        self.run_service(
            request,
            queryset,
            lambda claim, actor: services.post_claim_approve(claim=claim, actor=actor),
        )


class MembershipInline(ReadOnlyInline):
    model = m.TeamMembership
    fields = ["rider", "role", "joined_at"]
    readonly_fields = fields


@admin.register(m.Team)
class TeamAdmin(ScopedAdmin):
    list_display = ["name", "area", "leader"]
    list_select_related = ["area", "leader__user"]
    inlines = [MembershipInline]


@admin.register(m.TeamMembership)
class TeamMembershipAdmin(ScopedAdmin):
    list_display = ["team", "rider", "role", "joined_at"]
    list_select_related = ["team", "rider__user"]


@admin.register(m.ApiToken)
class ApiTokenAdmin(ScopedAdmin):
    list_display = ["prefix", "user", "name", "scope", "created_at", "expires_at", "revoked_at"]
    list_select_related = ["user"]
    exclude = ["key_hash"]
