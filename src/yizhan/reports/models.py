"""随手拍 snap-and-report: categories, reports, their photos and timeline, witnesses, Open311 keys.

A report moves through an explicit workflow (``ReportStatus``); each model predicate
``can_<transition>()`` says whether a transition is allowed from the current state, the service
checks it with the actor's permission, changes the state and writes a :class:`ReportEvent` — the
timeline the reporter and the staff see, and the audit of who did what.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from yizhan.core.models import TimeStampedModel
from yizhan.reports.choices import (
    OPEN_STATUSES,
    BlurState,
    DeadlineUnit,
    Family,
    PhotoStage,
    PointsStatus,
    ReportStatus,
    Source,
)
from yizhan.reports.storage import private_storage


class Category(TimeStampedModel):
    """What a report is about, configured per street: its default department, deadline and
    urgency. Points for a verified report come from the street's earning rule for the category
    (``points`` app, activity ``report_verified``), so there is one place that says what it pays.
    """

    street = models.ForeignKey(
        "areas.Area", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name (Chinese)"), max_length=40)
    name_en = models.CharField(_("name (English)"), max_length=60, blank=True)
    family = models.CharField(_("family"), max_length=24, choices=Family.choices)
    description = models.CharField(_("what belongs here"), max_length=300, blank=True)
    department = models.ForeignKey(
        "people.Department",
        verbose_name=_("default department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    deadline_amount = models.PositiveIntegerField(_("deadline"), default=2)
    deadline_unit = models.CharField(
        _("deadline unit"),
        max_length=16,
        choices=DeadlineUnit.choices,
        default=DeadlineUnit.WORKING_DAYS,
    )
    urgent = models.BooleanField(
        _("urgent"), default=False, help_text=_("Alert the on-duty staff at once (一老一小).")
    )
    ack_minutes = models.PositiveIntegerField(
        _("minutes to acknowledge"),
        default=10,
        help_text=_("Urgent only: escalate to the street when nobody acknowledges in time."),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("report category")
        verbose_name_plural = _("report categories")
        ordering = ["area_code", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["street", "code"], name="category_unique_code"),
            models.CheckConstraint(
                condition=Q(deadline_amount__gte=1), name="category_deadline_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


class Report(TimeStampedModel):
    """One hazard or need a rider (or an Open311 client, or staff) reported."""

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="reports"
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ReportStatus.choices,
        default=ReportStatus.SUBMITTED,
        db_index=True,
    )
    urgent = models.BooleanField(_("urgent"), default=False)
    # Where: WGS-84, the grid and community it falls in, and the fine cell for duplicates.
    lat = models.FloatField(_("latitude (WGS-84)"))
    lng = models.FloatField(_("longitude (WGS-84)"))
    fine_cell = models.BigIntegerField(editable=False)
    input_crs = models.CharField(_("coordinate system of the input"), max_length=8)
    community = models.ForeignKey(
        "areas.Area", verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    grid = models.ForeignKey(
        "areas.Area", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    address = models.CharField(_("address"), max_length=200, blank=True)
    building = models.CharField(_("building"), max_length=40, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    floor = models.CharField(_("floor"), max_length=20, blank=True)
    description = models.CharField(_("description"), max_length=500)
    # What the first photo's EXIF said before it was stripped (cross-checks only).
    photo_taken_at = models.DateTimeField(_("photo taken at"), null=True, blank=True)
    photo_lat = models.FloatField(null=True, blank=True)
    photo_lng = models.FloatField(null=True, blank=True)
    # When the rider's phone made it, if it was kept offline and sent later (the phone's clock:
    # informational; deadlines run from ``created_at``, when it reached us).
    captured_at = models.DateTimeField(_("made on the phone at"), null=True, blank=True)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    # Workflow.
    department = models.ForeignKey(
        "people.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
    )
    witnesses = models.PositiveIntegerField(_("witnesses"), default=0)
    rejection_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True, db_index=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    #: 0 none; 1 overdue, the community is told; 2 still overdue, the street is told.
    escalation = models.PositiveSmallIntegerField(_("escalation"), default=0)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    points_status = models.CharField(
        _("points"), max_length=10, choices=PointsStatus.choices, default=PointsStatus.NONE
    )
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Duplicates: same category, nearby fine cells, recent, open.
            models.Index(fields=["category", "fine_cell"], name="report_dup_idx"),
            models.Index(fields=["area_code", "status"], name="report_scope_status_idx"),
            models.Index(fields=["reporter", "-created_at"], name="report_reporter_idx"),
            models.Index(fields=["status", "deadline_at"], name="report_due_idx"),
            # An area's overdue backlog (the dashboards' overdue list) without the country's.
            models.Index(fields=["status", "area_code", "deadline_at"], name="report_area_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="report_point_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False),
                name="report_merged_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.category}"

    # --- transitions (the services check these) ----------------------------------------------

    def can_accept(self) -> bool:
        return self.status == ReportStatus.SUBMITTED

    def can_reject(self) -> bool:
        return self.status in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)

    def can_merge(self) -> bool:
        return self.status in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)

    def can_dispatch(self) -> bool:
        return self.status in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)

    def can_redirect(self) -> bool:
        """Send a dispatched case to another department (it was the wrong one)."""
        return self.status == ReportStatus.DISPATCHED

    def can_handle(self) -> bool:
        return self.status == ReportStatus.DISPATCHED

    def can_verify(self) -> bool:
        return self.status == ReportStatus.HANDLED

    def can_close(self) -> bool:
        return self.status == ReportStatus.VERIFIED

    def can_reopen(self) -> bool:
        return self.status == ReportStatus.CLOSED

    def can_acknowledge(self) -> bool:
        return self.urgent and self.acknowledged_at is None and self.is_open

    def can_witness(self) -> bool:
        return self.is_open

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return (
            self.status == ReportStatus.DISPATCHED
            and self.deadline_at is not None
            and self.deadline_at < timezone.now()
        )


class ReportEvent(models.Model):
    """One line of a report's timeline: a transition (or a note) with who, when and why."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    action = models.CharField(_("action"), max_length=24)
    from_status = models.CharField(_("from"), max_length=12, blank=True)
    to_status = models.CharField(_("to"), max_length=12, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    #: Shown to the reporter (False: internal to staff, e.g. a flag or an escalation).
    public = models.BooleanField(default=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("report event")
        verbose_name_plural = _("report timeline")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"#{self.report_id} {self.action}"


class ReportPhoto(models.Model):
    """A photo of a report, re-encoded without metadata; ``phash`` finds the same photo again.

    ``image`` and ``thumbnail`` are the originals, in private storage (``reports.storage``): only
    ``reports:photo_original`` shows them, to staff who may operate on the report, audited.
    Everyone else — the reporter, other riders, the department, the public — sees
    ``public_image`` / ``public_thumbnail``, the copy with faces blurred (``core.faces``). When
    there is no such copy (``blur_state`` pending or failed) they see a placeholder, never the
    original. :attr:`has_blurred_derivative` says whether the copy exists.

    The perceptual hash (64-bit dHash of the upright image) is stored as a signed bigint and in
    four 16-bit parts: two photos within a Hamming distance of 3 share at least one part exactly,
    so the look-up for near-duplicates is four indexed equality probes per rotation.
    """

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(
        ReportEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    stage = models.CharField(_("stage"), max_length=10, choices=PhotoStage.choices)
    image = models.ImageField(_("photo"), upload_to="reports/%Y/%m/", storage=private_storage)
    thumbnail = models.ImageField(
        _("thumbnail"), upload_to="reports/%Y/%m/", storage=private_storage
    )
    public_image = models.ImageField(
        _("photo, faces blurred"), upload_to="reports/public/%Y/%m/", blank=True
    )
    public_thumbnail = models.ImageField(
        _("thumbnail, faces blurred"), upload_to="reports/public/%Y/%m/", blank=True
    )
    blur_state = models.CharField(
        _("face blurring"),
        max_length=8,
        choices=BlurState.choices,
        default=BlurState.PENDING,
        db_index=True,
    )
    faces = models.PositiveSmallIntegerField(_("faces blurred"), null=True, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    phash = models.BigIntegerField(_("perceptual hash"), default=0)
    ph0 = models.IntegerField(default=0, db_index=True)
    ph1 = models.IntegerField(default=0, db_index=True)
    ph2 = models.IntegerField(default=0, db_index=True)
    ph3 = models.IntegerField(default=0, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("report photo")
        verbose_name_plural = _("report photos")
        ordering = ["report", "created_at", "id"]

    def __str__(self) -> str:
        return f"#{self.report_id} {self.stage}"

    @property
    def has_blurred_derivative(self) -> bool:
        """True when the face-blurred copy is stored: what everyone but permitted staff sees,
        and what stays when retention removes the original (``privacy``)."""
        return self.blur_state == BlurState.DONE and bool(self.public_image)

    @property
    def public_url(self) -> str:
        """The face-blurred photo's URL, or "" (show a placeholder: never the original)."""
        return self.public_image.url if self.has_blurred_derivative else ""

    @property
    def public_thumbnail_url(self) -> str:
        if self.has_blurred_derivative and self.public_thumbnail:
            return self.public_thumbnail.url
        return ""


class Witness(models.Model):
    """Someone who saw the same thing: added instead of filing a duplicate, or merged in."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="witness_rows")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="witnessed"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    #: The report of theirs that was merged into this one, if that is how they became a witness.
    via = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    points_status = models.CharField(
        _("points"), max_length=10, choices=PointsStatus.choices, default=PointsStatus.NONE
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")
        ordering = ["report", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["report", "user"], name="witness_once"),
        ]

    def __str__(self) -> str:
        return f"#{self.report_id} ← {self.user_id}"


class ReportSettings(models.Model):
    """A street's settings for reports (defaults when absent)."""

    street = models.OneToOneField(
        "areas.Area", verbose_name=_("street"), on_delete=models.CASCADE, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    duplicate_radius_m = models.PositiveIntegerField(_("duplicate radius (m)"), default=50)
    duplicate_days = models.PositiveIntegerField(_("duplicate window (days)"), default=30)
    witness_share_percent = models.PositiveSmallIntegerField(
        _("witness share of the points (%)"), default=50
    )
    burst_reports = models.PositiveSmallIntegerField(_("reports that make a burst"), default=5)
    burst_minutes = models.PositiveSmallIntegerField(_("burst window (minutes)"), default=30)
    max_photo_distance_m = models.PositiveIntegerField(
        _("largest distance to the photo's GPS (m)"), default=500
    )
    max_photo_age_hours = models.PositiveIntegerField(_("oldest photo (hours)"), default=72)

    class Meta:
        verbose_name = _("report settings")
        verbose_name_plural = _("report settings")

    def __str__(self) -> str:
        return str(self.street)


class Open311Key(models.Model):
    """An API key for an Open311 client, issued per street; stored as a SHA-256 only."""

    street = models.ForeignKey(
        "areas.Area", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    name = models.CharField(_("client"), max_length=100)
    prefix = models.CharField(_("key starts with"), max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The account requests filed with this key are recorded under (a "client" account).
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 key")
        verbose_name_plural = _("Open311 keys")
        ordering = ["area_code", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
