from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from yizhan.areas.choices import AreaLevel
from yizhan.core.models import TimeStampedModel


class Area(TimeStampedModel):
    """A node of the area tree 区 → 街道 → 社区 → 网格.

    ``code`` is hierarchical: a child's code is its parent's plus three digits, so everything
    beneath an area is ``code__startswith=area.code`` (the permission layer relies on this).
    ``boundary`` is a GeoJSON Polygon or MultiPolygon in WGS-84 (RFC 7946: [lng, lat]); the
    bounding box columns let ``grid_for_point`` find candidates through an index.
    """

    level = models.CharField(_("level"), max_length=16, choices=AreaLevel.choices)
    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        validators=[RegexValidator(r"^\d{6}(\d{3}){0,3}$", _("Area codes are digits."))],
    )
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    boundary = models.JSONField(_("boundary (GeoJSON, WGS-84)"), null=True, blank=True)
    min_lat = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)
    min_lng = models.FloatField(null=True, blank=True)
    max_lng = models.FloatField(null=True, blank=True)
    center_lat = models.FloatField(_("centre latitude"), null=True, blank=True)
    center_lng = models.FloatField(_("centre longitude"), null=True, blank=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["level", "min_lat", "max_lat"], name="area_level_bbox_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def area_code(self) -> str:
        return self.code

    @property
    def full_name(self) -> str:
        names = [a.name for a in self.ancestors()] + [self.name]
        return " / ".join(names)

    def ancestors(self) -> list["Area"]:
        chain = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    def is_within(self, other: "Area") -> bool:
        return self.code.startswith(other.code)
