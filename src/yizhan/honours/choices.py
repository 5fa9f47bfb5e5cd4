from django.db import models
from django.utils.translation import gettext_lazy as _


class NominationStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


#: Nominations that take a place of a title's quota.
COUNTED_STATUSES = (NominationStatus.PENDING, NominationStatus.APPROVED)
