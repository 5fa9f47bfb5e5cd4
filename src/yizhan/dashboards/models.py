"""Rollup tables: what the dashboards read instead of the facts.

Each row belongs to one node of the area tree (``area_code``, ``level``, ``parent_code``) and
holds the numbers of everything beneath it, so reading an area is an equality look-up and
reading its children is ``parent_code = X`` — no prefix scans, no sums over descendants at
request time. docs/dashboards.md explains the grain and how the rows are kept up to date
(``services.rollups_refresh``, a periodic job; ``rebuild_rollups`` / ``check_rollups``).

All of it is derived data: it can be deleted and rebuilt from the facts at any time.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

#: The additive columns of :class:`DayTotals` and :class:`MonthTotals` (see kpis.METRICS).
TOTAL_FIELDS = (
    "reports",  # submitted (created_at)
    "reports_closed",  # closed (closed_at), status closed
    "close_seconds",  # Σ closed_at − created_at of those
    "closed_on_time",  # of those, closed_at ≤ deadline_at
    "closed_due",  # of those, with a deadline
    "riders_new",  # rider registrations (created_at)
    "points_issued",  # award postings − reversals of awards (created_at)
    "points_redeemed",  # settle postings: points spent on rewards picked up
    "points_net",  # Σ change of members' balances (for "outstanding" at a date)
    "rewards_exchanged",  # redemptions picked up (closed_at)
    "wishes_posted",  # wishes (created_at)
    "wishes_claimed",  # wish claims (created_at)
    "wishes_fulfilled",  # wishes confirmed (confirmed_at)
    "appeals",  # appeals raised (created_at)
    "appeals_answered",  # appeals with an answer (answered_at)
    "answer_seconds",  # Σ answered_at − created_at of those
    "events_held",  # events not called off (starts_at)
    "attendance",  # check-ins at events (checked_in_at)
    "visits",  # people served at stations and corners (Visit.people by day)
)


class _Node(models.Model):
    area_code = models.CharField(_("area code"), max_length=32)
    level = models.CharField(_("level"), max_length=16)
    parent_code = models.CharField(_("parent area code"), max_length=32, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.area_code


class _Totals(_Node):
    reports = models.BigIntegerField(default=0)
    reports_closed = models.BigIntegerField(default=0)
    close_seconds = models.BigIntegerField(default=0)
    closed_on_time = models.BigIntegerField(default=0)
    closed_due = models.BigIntegerField(default=0)
    riders_new = models.BigIntegerField(default=0)
    points_issued = models.BigIntegerField(default=0)
    points_redeemed = models.BigIntegerField(default=0)
    points_net = models.BigIntegerField(default=0)
    rewards_exchanged = models.BigIntegerField(default=0)
    wishes_posted = models.BigIntegerField(default=0)
    wishes_claimed = models.BigIntegerField(default=0)
    wishes_fulfilled = models.BigIntegerField(default=0)
    appeals = models.BigIntegerField(default=0)
    appeals_answered = models.BigIntegerField(default=0)
    answer_seconds = models.BigIntegerField(default=0)
    events_held = models.BigIntegerField(default=0)
    attendance = models.BigIntegerField(default=0)
    visits = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class DayTotals(_Totals):
    """The additive flow numbers of one area node on one local day (only days with activity
    have a row). Read for trends and for periods that do not cover whole months."""

    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("daily totals")
        verbose_name_plural = _("daily totals")
        constraints = [models.UniqueConstraint(fields=["area_code", "day"], name="dash_day_unique")]
        indexes = [models.Index(fields=["parent_code", "day"], name="dash_day_parent_idx")]


class MonthTotals(_Totals):
    """The same numbers per calendar month (``month`` is its first day)."""

    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("monthly totals")
        verbose_name_plural = _("monthly totals")
        constraints = [
            models.UniqueConstraint(fields=["area_code", "month"], name="dash_month_unique")
        ]
        indexes = [
            models.Index(fields=["parent_code", "month"], name="dash_month_parent_idx"),
            # reports by grid: the grids beneath a street or district (a code range).
            models.Index(fields=["level", "area_code", "month"], name="dash_month_level_idx"),
        ]


class MonthBreakdown(_Node):
    """A flow split by one dimension per month: ``dim`` is a key of ``kpis.BREAKDOWNS``,
    ``key`` the dimension's value (a status, a category id, a kind), ``value`` the count.
    One dimension at a time, never crossed: that is what keeps the table small."""

    month = models.DateField(_("month"))
    dim = models.CharField(_("dimension"), max_length=32)
    key = models.CharField(_("value"), max_length=40)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("monthly breakdown")
        verbose_name_plural = _("monthly breakdowns")
        constraints = [
            models.UniqueConstraint(
                fields=["area_code", "month", "dim", "key"], name="dash_breakdown_unique"
            )
        ]
        indexes = [models.Index(fields=["parent_code", "month"], name="dash_breakdown_parent_idx")]


class CurrentCount(_Node):
    """A stock as it is now, split by one dimension: stations by kind and status, riders by
    status / platform / occupation, riders holding posts, coverage, honours."""

    dim = models.CharField(_("dimension"), max_length=32)
    key = models.CharField(_("value"), max_length=40)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("current count")
        verbose_name_plural = _("current counts")
        constraints = [
            models.UniqueConstraint(fields=["area_code", "dim", "key"], name="dash_current_unique")
        ]
        indexes = [models.Index(fields=["parent_code", "dim"], name="dash_current_parent_idx")]


class MonthHeat(models.Model):
    """Reports submitted per month in one heat cell (≈ 250 m; ``cell_lat``/``cell_lng`` are the
    cell's south-west corner in units of ``HEAT_STEP`` degrees), per *street* (``area_code`` is
    the street of the report): bounded by the cells covering the street, not by the reports.
    A district's heat sums its streets' rows; a community's is its street's within its box."""

    area_code = models.CharField(_("area code"), max_length=32)
    month = models.DateField(_("month"))
    cell_lat = models.IntegerField()
    cell_lng = models.IntegerField()
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("report heat")
        verbose_name_plural = _("report heat")
        constraints = [
            models.UniqueConstraint(
                fields=["area_code", "month", "cell_lat", "cell_lng"], name="dash_heat_unique"
            )
        ]
        indexes = [models.Index(fields=["month", "area_code"], name="dash_heat_month_idx")]

    def __str__(self) -> str:
        return f"{self.area_code} {self.month:%Y-%m} ({self.cell_lat}, {self.cell_lng})"


class CoverageTarget(models.Model):
    """The share of communities (for a district or street) or grids (for a community) that an
    area means to cover with at least one open station or caring corner, in percent. Set by
    the area's admins (or those above); an area without its own target inherits the nearest
    ancestor's."""

    area = models.OneToOneField(
        "areas.Area", verbose_name=_("area"), on_delete=models.CASCADE, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    percent = models.PositiveSmallIntegerField(
        _("target (%)"), validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("set at"), auto_now=True)

    class Meta:
        verbose_name = _("coverage target")
        verbose_name_plural = _("coverage targets")

    def __str__(self) -> str:
        return f"{self.area_code}: {self.percent}%"


class RollupState(models.Model):
    """Where the refresh job got to: the last audit entry, posting and visit it has seen.

    One row (``name='default'``). Facts changed after these marks are not in the rollups yet.
    """

    name = models.CharField(max_length=20, primary_key=True, default="default")
    audit_id = models.BigIntegerField(default=0)
    posting_id = models.BigIntegerField(default=0)
    visit_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup state")

    def __str__(self) -> str:
        return f"audit>{self.audit_id} posting>{self.posting_id} visit>{self.visit_id}"
