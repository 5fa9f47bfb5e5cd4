"""Stations and caring corners (一刻钟服务圈): the places riders rest, charge and pick up rewards.

A :class:`Station` is a 小哥驿站, 党群服务站, 工会驿站 or a merchant's 爱心角. Its location is
stored in WGS-84 (``lat``/``lng``; other systems are converted at the edge, ``core.geo``) together
with ``cell``, the 0.01° grid cell the nearby search probes (``core.geo.cell_ranges``). What it
offers is a bit set over the :class:`ServiceItem` catalogue (``services_mask``), so "has all of
charging and water" is one integer test in SQL on both databases. Its opening hours are one JSON
column (``stations.hours``), exceptions included, so deciding "open now" needs no second query.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from yizhan.core.models import TimeStampedModel
from yizhan.stations import hours as hours_module
from yizhan.stations.choices import StationKind, StationStatus, VisitKind

#: A bigint holds 63 usable bits (the sign bit is left alone).
MAX_SERVICE_BITS = 63


class ServiceItem(models.Model):
    """One entry of the service catalogue (rest, drinking water, phone charging …).

    ``bit`` is its position in ``Station.services_mask``; it never changes once given, and a
    retired service is deactivated, not deleted, so old masks keep their meaning.
    """

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=40)
    name_en = models.CharField(_("name (English)"), max_length=60)
    bit = models.PositiveSmallIntegerField(_("bit"), unique=True, editable=False)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("service catalogue")
        ordering = ["sort_order", "bit"]
        constraints = [
            models.CheckConstraint(
                condition=Q(bit__lt=MAX_SERVICE_BITS), name="service_item_bit_range"
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the current language."""
        return self.name_en if (get_language() or "").startswith("en") else self.name

    @property
    def mask(self) -> int:
        return 1 << self.bit


class Station(TimeStampedModel):
    """A 小哥驿站, 党群服务站, 工会驿站 or a merchant's 爱心角, placed in a community (and grid)."""

    ref = models.CharField(
        _("reference"),
        max_length=64,
        blank=True,
        help_text=_("Your own identifier (e.g. from a spreadsheet); imports update by it."),
    )
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
    #: ``core.geo.cell_of(lat, lng)``: kept by the services, probed by the nearby search
    #: through ``station_nearby_idx`` (see ``Meta.indexes``).
    cell = models.BigIntegerField(_("map cell"), editable=False, default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=StationStatus.choices, default=StationStatus.OPEN
    )
    merchant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("host merchant account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stations",
    )
    host_name = models.CharField(
        _("host"), max_length=100, blank=True, help_text=_("The shop or unit that hosts it.")
    )
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(
        _("contact phone"),
        max_length=20,
        blank=True,
        help_text=_("A public service number, shown to everyone."),
    )
    description = models.CharField(_("description"), max_length=500, blank=True)
    services_mask = models.BigIntegerField(_("services"), default=0, editable=False)
    zones = models.JSONField(_("functional zones"), default=list, blank=True)
    hours = models.JSONField(_("opening hours"), default=dict, blank=True)
    #: Part of the check-in QR code's signature: raising it voids every printed code.
    qr_version = models.PositiveIntegerField(_("QR code version"), default=1, editable=False)
    status_note = models.CharField(_("status note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("station")
        verbose_name_plural = _("stations")
        ordering = ["area_code", "name"]
        indexes = [
            # The nearby search reads this index alone (an index-only scan): the cell and
            # status it seeks, the latitude band of its circle it seeks within each cell, then
            # every other column its WHERE and ORDER BY need, and the id it returns (SQLite
            # keeps the rowid in every index anyway; PostgreSQL needs it here). A composite
            # rather than ``include=``: Django leaves INCLUDE out on SQLite.
            models.Index(
                fields=["cell", "status", "lat", "lng", "services_mask", "kind", "id"],
                name="station_nearby_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ref"], condition=~Q(ref=""), name="station_unique_ref"
            ),
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="station_point_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def opening_hours(self) -> hours_module.Hours:
        return hours_module.from_column(self.hours)

    def has_services(self, mask: int) -> bool:
        return self.services_mask & mask == mask

    def is_open_now(self, at=None) -> bool:
        from django.utils import timezone

        return self.status == StationStatus.OPEN and hours_module.is_open(
            self.opening_hours, at or timezone.now()
        )


class StationPhoto(models.Model):
    """A photo of a station, re-encoded without metadata (``core.images``)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="photos")
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    image = models.ImageField(_("photo"), upload_to="stations/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="stations/%Y/%m/")
    caption = models.CharField(_("caption"), max_length=100, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("station photo")
        verbose_name_plural = _("station photos")
        ordering = ["station", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.station}: {self.caption or self.pk}"


class ChecklistItem(models.Model):
    """One item of a street's station standard (e.g. Qingyuan's "6+6"), checked on inspection."""

    street = models.ForeignKey(
        "areas.Area", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    standard = models.CharField(_("standard"), max_length=50, default="6+6")
    text = models.CharField(_("item"), max_length=200)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("station checklist")
        ordering = ["area_code", "standard", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "standard", "text"], name="checklist_unique_text"
            )
        ]

    def __str__(self) -> str:
        return self.text


class Inspection(models.Model):
    """A station checked against its street's checklist: who, when, which items passed."""

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="inspections")
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspector"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    inspected_on = models.DateField(_("inspected on"))
    standard = models.CharField(_("standard"), max_length=50)
    passed = models.PositiveSmallIntegerField(_("items passed"))
    total = models.PositiveSmallIntegerField(_("items checked"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-inspected_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(passed__lte=models.F("total")), name="inspection_passed_le_total"
            )
        ]

    def __str__(self) -> str:
        return f"{self.station} {self.inspected_on}: {self.passed}/{self.total}"


class InspectionResult(models.Model):
    """One checklist item's outcome in an inspection."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    passed = models.BooleanField(_("passed"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("inspection result")
        verbose_name_plural = _("inspection results")
        ordering = ["inspection", "item__sort_order", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "item"], name="inspection_result_unique")
        ]

    def __str__(self) -> str:
        return f"{self.item}: {'✓' if self.passed else '✗'}"


class Visit(models.Model):
    """People served at a station: a rider's QR check-in, or walk-ins the host records.

    A rider counts once per station per period (``STATION_VISIT_PERIOD_HOURS``): ``period`` is
    the number of that period since the epoch in local time, and the unique constraint makes a
    second scan in the same period (or a retried request) find the first visit instead.
    """

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="visits")
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=VisitKind.choices)
    rider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rider"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="station_visits",
    )
    people = models.PositiveIntegerField(_("people"), default=1)
    period = models.BigIntegerField(null=True, blank=True, editable=False)
    day = models.DateField(_("day"), db_index=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["station", "day"], name="visit_station_day_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "rider", "period"],
                condition=Q(kind="scan"),
                name="visit_once_per_period",
            ),
            models.CheckConstraint(condition=Q(people__gte=1), name="visit_people_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.station} {self.day}: {self.people}"
