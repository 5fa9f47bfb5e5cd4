"""The points ledger: accounts, postings (double-entry), entries, earning, and season scores.

The invariants (docs/points.md says how each is enforced):

1. every posting moves a positive whole amount between two accounts and its entries sum to zero;
2. entries and postings are never changed or deleted (a correction is a reversal posting);
3. a member's cached balance equals the sum of their entries and is never negative;
4. every posting records why (kind, activity, reason, source), who (actor, approver), when,
   and the client's idempotency key; a key takes effect once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yizhan.points.choices import AccountKind, Activity, AwardStatus, PostingKind


class PointsAccount(models.Model):
    """A member's points (a rider or volunteer), or one of a street's system accounts.

    Members carry a cached ``balance`` kept in the posting's transaction. System accounts
    (issuance, hold, redemption, expiry) have none: their balance is the sum of their entries,
    because every posting in a street touches them and a cached total would make them a hot
    row that serialises the whole street (see docs/points.md).
    """

    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)
    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="points_account",
    )
    street = models.ForeignKey(
        "areas.Area",
        verbose_name=_("street"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    balance = models.BigIntegerField(_("balance"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=AccountKind.MEMBER, balance__isnull=False, balance__gte=0))
                | (~Q(kind=AccountKind.MEMBER) & Q(balance__isnull=True)),
                name="points_account_balance_rule",
            ),
            models.UniqueConstraint(
                fields=["street", "kind"],
                condition=~Q(kind=AccountKind.MEMBER),
                name="points_one_system_account_per_kind",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == AccountKind.MEMBER:
            return str(self.owner) if self.owner_id else _("(deleted account)")
        return f"{self.street} · {self.get_kind_display()}"


class Posting(models.Model):
    """One movement of points: ``amount`` from ``debit`` to ``credit``, as two entries.

    ``member`` is the member account involved (every posting has exactly one); ``area_code`` is
    where the member belonged when it happened (leaderboards count points where they were
    earned; staff see postings beneath their area). ``reverses`` links a correction to what it
    corrects, and is unique: a posting is reversed at most once.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=PostingKind.choices)
    amount = models.PositiveIntegerField(_("points"))
    debit = models.ForeignKey(
        PointsAccount, verbose_name=_("from"), on_delete=models.PROTECT, related_name="+"
    )
    credit = models.ForeignKey(
        PointsAccount, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(
        PointsAccount, verbose_name=_("member"), on_delete=models.PROTECT, related_name="postings"
    )
    street = models.ForeignKey(
        "areas.Area", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True)
    activity = models.CharField(_("activity"), max_length=24, choices=Activity.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    source_type = models.CharField(_("source type"), max_length=64, blank=True)
    source_id = models.CharField(_("source id"), max_length=64, blank=True)
    evidence = models.CharField(_("evidence"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    created_at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="points_posting_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(debit=models.F("credit")), name="points_posting_two_accounts"
            ),
        ]
        indexes = [
            models.Index(fields=["member", "kind", "created_at"], name="points_member_kind_idx"),
            models.Index(fields=["source_type", "source_id"], name="points_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} · {self.reason}"

    @property
    def signed_amount(self) -> int:
        """The change to the member's balance: positive in, negative out, 0 for a pickup
        (which moves points already held from the street's hold to its redemption account)."""
        if self.credit_id == self.member_id:
            return self.amount
        if self.debit_id == self.member_id:
            return -self.amount
        return 0

    def can_reverse(self) -> bool:
        """Awards and expiries are corrected by reversal; redemptions have their own flow."""
        return self.kind in (PostingKind.AWARD, PostingKind.EXPIRY) and not hasattr(
            self, "reversed_by"
        )


class Entry(models.Model):
    """One leg of a posting: ``amount`` is negative on the debit side, positive on the credit."""

    posting = models.ForeignKey(
        Posting, verbose_name=_("posting"), on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(
        PointsAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="entries"
    )
    amount = models.BigIntegerField(_("points"))
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="points_entry_amount_nonzero"),
        ]
        indexes = [models.Index(fields=["account", "created_at"], name="points_entry_account_idx")]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount:+d}"


class PointsSettings(models.Model):
    """A street's points rules that are not per activity."""

    street = models.OneToOneField(
        "areas.Area", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    #: A manual award above this many points needs a second staff member's approval.
    approval_threshold = models.PositiveIntegerField(_("second approval above"), default=20)
    #: Points earned in year Y expire on (Y + 1)-expiry_month-expiry_day, when enabled.
    expiry_enabled = models.BooleanField(_("points expire"), default=False)
    expiry_month = models.PositiveSmallIntegerField(_("expiry month"), default=12)
    expiry_day = models.PositiveSmallIntegerField(_("expiry day"), default=31)
    # Review rules for manual awards (docs/oversight.md). A flagged award is held: it pays
    # nothing until a person releases it in the review queue. 0 switches a rule off.
    review_window_hours = models.PositiveIntegerField(_("repeat window (hours)"), default=24)
    review_repeat_count = models.PositiveIntegerField(
        _("repeat awards to one person in the window"), default=0
    )
    review_large_amount = models.PositiveIntegerField(_("large award from"), default=0)
    review_new_member_days = models.PositiveIntegerField(_("new member for (days)"), default=0)
    review_burst_count = models.PositiveIntegerField(
        _("awards by one person in a burst"), default=0
    )
    review_burst_minutes = models.PositiveIntegerField(_("burst window (minutes)"), default=60)

    class Meta:
        verbose_name = _("points settings")
        verbose_name_plural = _("points settings")

    def __str__(self) -> str:
        return str(self.street)


class EarningRule(models.Model):
    """What an activity pays in a street, and its daily and weekly caps (per rider)."""

    street = models.ForeignKey(
        "areas.Area", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    activity = models.CharField(_("activity"), max_length=24, choices=Activity.choices)
    #: For ``report_verified``: the report category's code ('' = any category).
    category = models.CharField(_("category"), max_length=64, blank=True)
    points = models.PositiveIntegerField(_("points per unit"))
    daily_cap = models.PositiveIntegerField(_("daily cap"), null=True, blank=True)
    weekly_cap = models.PositiveIntegerField(_("weekly cap"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        ordering = ["area_code", "activity", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "activity", "category"], name="points_rule_unique"
            )
        ]

    def __str__(self) -> str:
        label = self.get_activity_display()
        return f"{label} ({self.category})" if self.category else str(label)


class EarningRecord(models.Model):
    """One verified act and what it paid: ``paid + capped == requested``.

    Written for every earning attempt, so an act that hit a cap is on record as capped, not
    silently dropped. ``posting`` is empty when nothing was paid.
    """

    member = models.ForeignKey(
        PointsAccount, verbose_name=_("member"), on_delete=models.PROTECT, related_name="earnings"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True)
    activity = models.CharField(_("activity"), max_length=24, choices=Activity.choices)
    category = models.CharField(_("category"), max_length=64, blank=True)
    units = models.PositiveIntegerField(_("units"), default=1)
    requested = models.PositiveIntegerField(_("points due"))
    paid = models.PositiveIntegerField(_("points paid"))
    capped = models.PositiveIntegerField(_("points over the cap"))
    posting = models.OneToOneField(
        Posting,
        verbose_name=_("posting"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="earning",
    )
    reason = models.CharField(_("reason"), max_length=200)
    source_type = models.CharField(_("source type"), max_length=64, blank=True)
    source_id = models.CharField(_("source id"), max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        verbose_name = _("earning")
        verbose_name_plural = _("earnings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested=models.F("paid") + models.F("capped")),
                name="points_earning_adds_up",
            )
        ]
        indexes = [
            models.Index(fields=["member", "activity", "created_at"], name="points_earning_cap_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_activity_display()}: {self.paid}/{self.requested}"


class ManualAward(models.Model):
    """A staff award with its reason and evidence; above the threshold, maker-checker."""

    member = models.ForeignKey(
        PointsAccount, verbose_name=_("member"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True)
    amount = models.PositiveIntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=200)
    evidence = models.CharField(_("evidence"), max_length=500)
    status = models.CharField(
        _("status"), max_length=16, choices=AwardStatus.choices, default=AwardStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_note = models.CharField(_("note"), max_length=200, blank=True)
    #: Why it is held for review (``AwardFlag`` codes), with the figures that tripped each rule.
    flags = models.JSONField(_("flags"), default=list, blank=True)
    flag_detail = models.JSONField(_("flag details"), default=dict, blank=True)
    earning = models.OneToOneField(
        EarningRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("manual award")
        verbose_name_plural = _("manual awards")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="points_manual_amount_positive")
        ]
        indexes = [
            models.Index(fields=["requested_by", "created_at"], name="points_award_by_idx"),
            models.Index(fields=["status", "area_code"], name="points_award_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.amount} · {self.reason}"

    def can_decide(self) -> bool:
        return self.status == AwardStatus.PENDING

    def can_review(self) -> bool:
        """Held by a review rule: a person releases (pays) or rejects it."""
        return self.status == AwardStatus.HELD


class SeasonScore(models.Model):
    """Points a member earned in one season within one area (each level of their area tree).

    ``reached_at`` is when the score last rose: ties go to whoever reached it first.
    Kept in the award's transaction, with :class:`ScoreBucket`.
    """

    season = models.CharField(_("season"), max_length=16)  # all, y2026, q2026-4, m2026-11
    area_code = models.CharField(_("area code"), max_length=32)
    member = models.ForeignKey(
        PointsAccount, verbose_name=_("member"), on_delete=models.PROTECT, related_name="+"
    )
    points = models.BigIntegerField(_("points"), default=0)
    reached_at = models.DateTimeField(_("reached at"))
    #: ``reached_at``'s day in Asia/Shanghai: the tie buckets' key, and the rank index's.
    reached_day = models.DateField(_("reached on"))

    class Meta:
        verbose_name = _("season score")
        verbose_name_plural = _("season scores")
        constraints = [
            models.UniqueConstraint(
                fields=["season", "area_code", "member"], name="points_score_unique"
            ),
            models.CheckConstraint(condition=Q(points__gte=0), name="points_score_nonnegative"),
        ]
        indexes = [
            models.Index(
                fields=["season", "area_code", "-points", "reached_day", "reached_at", "member"],
                name="points_score_rank_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.season} {self.area_code} #{self.member_id}: {self.points}"


class ScoreBucket(models.Model):
    """How many members of an area hold exactly ``points`` in a season: a rank is the sum of
    the buckets above a score (a few hundred rows), not a count over every member."""

    season = models.CharField(max_length=16)
    area_code = models.CharField(max_length=32)
    points = models.BigIntegerField()
    members = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["season", "area_code", "points"], name="points_bucket_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.season} {self.area_code} {self.points}: {self.members}"


class TieBucket(models.Model):
    """How many members of an area reached exactly ``points`` in a season on each local day.

    Ties go to whoever reached the score first: the members ahead among equals are the sum of
    the days before (a few hundred rows) plus those earlier on the same day (a short index
    range), never a count over everyone holding that score.
    """

    season = models.CharField(max_length=16)
    area_code = models.CharField(max_length=32)
    points = models.BigIntegerField()
    day = models.DateField()
    members = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["season", "area_code", "points", "day"], name="points_tie_bucket_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.season} {self.area_code} {self.points} {self.day}: {self.members}"
