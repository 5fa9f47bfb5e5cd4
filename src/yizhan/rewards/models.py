"""The points shop (积分超市): rewards, their stock at each station, priority windows and
redemptions (reserve → pick up with a code, or cancel / time out).

Stock is conserved: for every stock row, ``stocked == available + held + handed_out``, where
``stocked`` is the sum of its :class:`StockChange` rows. Points move only through the ledger
(``points.services``): a reservation holds them, a pickup spends them, a cancellation or a
timeout gives them back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yizhan.core.models import TimeStampedModel
from yizhan.points.choices import SeasonKind
from yizhan.rewards.choices import RedemptionStatus


class Reward(TimeStampedModel):
    """An item of a street's catalogue."""

    street = models.ForeignKey(
        "areas.Area", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    photo = models.ImageField(_("photo"), upload_to="rewards/%Y/%m/", blank=True)
    cost = models.PositiveIntegerField(_("points"))
    per_rider_limit = models.PositiveIntegerField(
        _("limit per rider"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    available_from = models.DateTimeField(_("available from"), null=True, blank=True)
    available_until = models.DateTimeField(_("available until"), null=True, blank=True)
    pickup_hours = models.PositiveIntegerField(_("hours to pick up"), default=72)
    is_active = models.BooleanField(_("on offer"), default=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["area_code", "cost", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(cost__gt=0), name="reward_cost_positive"),
            models.UniqueConstraint(fields=["street", "name"], name="reward_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def pickup_days(self) -> int | None:
        """The pick-up window in whole days (168 hours reads better as 7 days), else None."""
        days, rest = divmod(self.pickup_hours, 24)
        return days if days and not rest else None


class Stock(models.Model):
    """A reward's stock at one station."""

    reward = models.ForeignKey(
        Reward, verbose_name=_("reward"), on_delete=models.PROTECT, related_name="stock"
    )
    station = models.ForeignKey(
        "stations.Station", verbose_name=_("station"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    available = models.PositiveIntegerField(_("available"), default=0)
    held = models.PositiveIntegerField(_("reserved"), default=0)
    handed_out = models.PositiveIntegerField(_("handed out"), default=0)

    class Meta:
        verbose_name = _("stock")
        verbose_name_plural = _("stock")
        constraints = [
            models.UniqueConstraint(fields=["reward", "station"], name="stock_unique"),
            models.CheckConstraint(
                condition=Q(available__gte=0, held__gte=0, handed_out__gte=0),
                name="stock_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reward} @ {self.station}"


class StockChange(models.Model):
    """A restock or a correction of a stock row (append-only)."""

    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="changes")
    change = models.IntegerField(_("change"))
    reason = models.CharField(_("reason"), max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("stock change")
        verbose_name_plural = _("stock changes")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(change=0), name="stock_change_nonzero")]

    def __str__(self) -> str:
        return f"{self.stock}: {self.change:+d}"


class PriorityWindow(models.Model):
    """A time when (some of) a street's rewards are open only to the top N of a ranking.

    Ranked by points *earned* in the season within ``ranking_area``, not by balance, so a rider
    who redeems keeps their place (Qingyuan's first exchange: the top 15).
    """

    street = models.ForeignKey(
        "areas.Area", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    reward = models.ForeignKey(
        Reward,
        verbose_name=_("reward"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="windows",
        help_text=_("Empty: every reward of the street."),
    )
    top_n = models.PositiveIntegerField(_("open to the top"))
    season_kind = models.CharField(_("season"), max_length=8, choices=SeasonKind.choices)
    season = models.CharField(_("season key"), max_length=16)
    ranking_area = models.ForeignKey(
        "areas.Area", verbose_name=_("ranking within"), on_delete=models.PROTECT, related_name="+"
    )
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))

    class Meta:
        verbose_name = _("priority window")
        verbose_name_plural = _("priority windows")
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="window_closes_after_opening"
            ),
            models.CheckConstraint(condition=Q(top_n__gt=0), name="window_top_n_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Redemption(models.Model):
    """A rider's reservation of a reward at a station, and how it ended."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rider"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="redemptions",
    )
    reward = models.ForeignKey(
        Reward, verbose_name=_("reward"), on_delete=models.PROTECT, related_name="redemptions"
    )
    station = models.ForeignKey(
        "stations.Station", verbose_name=_("station"), on_delete=models.PROTECT, related_name="+"
    )
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="redemptions")
    #: The station's area: staff there hand the reward out.
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    cost = models.PositiveIntegerField(_("points"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RedemptionStatus.choices,
        default=RedemptionStatus.HELD,
        db_index=True,
    )
    pickup_code = models.CharField(_("pickup code"), max_length=6)
    hold = models.OneToOneField(
        "points.Posting", on_delete=models.PROTECT, related_name="redemption_held"
    )
    closing = models.OneToOneField(
        "points.Posting",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redemption_closed",
    )
    idempotency_key = models.CharField(max_length=120, unique=True)
    expires_at = models.DateTimeField(_("pick up before"))
    created_at = models.DateTimeField(_("reserved at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "pickup_code"],
                condition=Q(status="held"),
                name="redemption_code_unique_while_held",
            )
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="redemption_due_idx"),
            models.Index(fields=["user", "reward", "status"], name="redemption_limit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reward} · {self.get_status_display()}"

    @property
    def qr_payload(self) -> str:
        """What the pickup QR code holds: the redemption and its code."""
        return f"YZR-{self.pk}-{self.pickup_code}"

    def can_close(self) -> bool:
        return self.status == RedemptionStatus.HELD
