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


class FunctionalZone(models.TextChoices):
    """The five functional zones of a station built to Qingyuan's standard."""

    PARTY = "party", _("Party building (党建)")
    STUDY = "study", _("Study (学习)")
    WORK = "work", _("Work (工作)")
    REST = "rest", _("Rest (休息)")
    SUPPLY = "supply", _("Supply (补给)")


class VisitKind(models.TextChoices):
    SCAN = "scan", _("Checked in by QR code")
    WALK_IN = "walk_in", _("Walk-in recorded by the host")


class NearbyMode(models.TextChoices):
    """A radius a rider thinks in: fifteen minutes on foot or by e-bike (一刻钟服务圈)."""

    WALK = "walk", _("15 minutes on foot")
    EBIKE = "ebike", _("15 minutes by e-bike")


#: Straight-line radius of each mode, in metres. Fifteen minutes at 4.8 km/h on foot is 1.2 km
#: of path, at 15 km/h by e-bike 3.75 km; city streets make a path about 1.2–1.25 times the
#: straight line, hence 1,000 m and 3,000 m.
MODE_RADIUS_M = {NearbyMode.WALK: 1_000, NearbyMode.EBIKE: 3_000}
