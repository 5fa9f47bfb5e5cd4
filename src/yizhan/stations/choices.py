from django.db import models
from django.utils.translation import gettext_lazy as _


class StationKind(models.TextChoices):
    RIDER_STATION = "rider_station", _("Rider station (小哥驿站)")
    PARTY_SERVICE = "party_service", _("Party-masses service station (党群服务站)")
    UNION_STATION = "union_station", _("Trade-union station (工会驿站)")
    CORNER = "corner", _("Caring corner (爱心角)")


class StationStatus(models.TextChoices):
    OPEN = "open", _("Open for service")
    SUSPENDED = "suspended", _("Suspended")
