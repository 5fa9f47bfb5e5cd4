"""Stations and caring corners: the places riders rest, charge and pick up rewards.

This is the registry's core (name, kind, place, status); opening hours, the service catalogue,
inspections and nearby search build on it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from yizhan.core.models import TimeStampedModel
from yizhan.stations.choices import StationKind, StationStatus


class Station(TimeStampedModel):
    """A 小哥驿站, 党群服务站, 工会驿站 or a merchant's 爱心角, placed in a community (and grid)."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=StationKind.choices)
    community = models.ForeignKey(
        "areas.Area", verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    grid = models.ForeignKey(
        "areas.Area",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    #: The grid's code when known, else the community's: the permission layer's scope.
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude (WGS-84)"))
    lng = models.FloatField(_("longitude (WGS-84)"))
    status = models.CharField(
        _("status"), max_length=16, choices=StationStatus.choices, default=StationStatus.OPEN
    )

    class Meta:
        verbose_name = _("station")
        verbose_name_plural = _("stations")
        ordering = ["area_code", "name"]

    def __str__(self) -> str:
        return self.name
