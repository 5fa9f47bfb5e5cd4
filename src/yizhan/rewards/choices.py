from django.db import models
from django.utils.translation import gettext_lazy as _


class RedemptionStatus(models.TextChoices):
    HELD = "held", _("Reserved, awaiting pickup")
    FULFILLED = "fulfilled", _("Picked up")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired (not picked up in time)")


OPEN_STATUSES = (RedemptionStatus.HELD,)
COUNTED_STATUSES = (RedemptionStatus.HELD, RedemptionStatus.FULFILLED)
