"""The roles an account can hold. Staff, admins and department handlers are scoped to an area."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RIDER = "rider", _("Rider")
    MERCHANT = "merchant", _("Merchant")
    VOLUNTEER = "volunteer", _("Volunteer")
    STAFF = "staff", _("Staff")
    HANDLER = "handler", _("Department handler")
    ADMIN = "admin", _("Administrator")


#: Roles whose powers are bounded by an area of the tree.
SCOPED_ROLES = frozenset({Role.STAFF, Role.HANDLER, Role.ADMIN})
#: Roles that work the staff console.
CONSOLE_ROLES = frozenset({Role.STAFF, Role.ADMIN})
