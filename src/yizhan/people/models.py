"""Accounts, roles, rider profiles, posts (岗位), teams (服务队), API tokens and consents."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from yizhan.core import crypto
from yizhan.core.masking import mask_phone
from yizhan.core.models import TimeStampedModel
from yizhan.core.roles import CONSOLE_ROLES, SCOPED_ROLES, Role
from yizhan.people.choices import (
    ClaimStatus,
    ConsentKind,
    ConsentSource,
    MemberRole,
    Occupation,
    Platform,
    PostKind,
    RegistrationStatus,
    Vehicle,
)


class User(AbstractUser):
    """Every account. A rider logs in with their phone; staff with a username or phone.

    ``area`` is the area an account works beneath (staff, handlers, admins) or belongs to
    (riders: their community, then their grid). ``area_code`` repeats its code so the permission
    layer can scope with a prefix match and no join. The phone is stored encrypted, with a keyed
    hash for lookups and uniqueness and a ready-made mask for lists.
    """

    name = models.CharField(_("name"), max_length=50, blank=True)
    role = models.CharField(
        _("role"), max_length=16, choices=Role.choices, default=Role.RIDER, db_index=True
    )
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    area_code = models.CharField(_("area code"), max_length=32, blank=True, db_index=True)
    department = models.ForeignKey(
        "people.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handlers",
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    #: Staff on duty receive urgent alerts (一老一小) for their area first.
    on_duty = models.BooleanField(_("on duty"), default=False)
    phone_encrypted = models.TextField(_("phone (encrypted)"), blank=True, editable=False)
    phone_index = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True, editable=False)
    #: Set when too many log-ins failed (people.security); staff can lift it early.
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True, editable=False)
    #: The account has a confirmed TOTP device: log-ins need a code after the password.
    two_factor_enabled = models.BooleanField(_("two-factor log-in"), default=False, editable=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or self.username

    @property
    def scope_code(self) -> str:
        """The area code a scoped account (staff, handler, admin) works beneath."""
        return self.area_code if self.role in SCOPED_ROLES else ""

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_encrypted)

    def set_phone(self, phone: str) -> None:
        """Store a normalised phone: ciphertext, blind index and mask."""
        if phone:
            self.phone_encrypted = crypto.encrypt(phone)
            self.phone_index = crypto.blind_index(phone)
            self.phone_masked = mask_phone(phone)
        else:
            self.phone_encrypted, self.phone_index, self.phone_masked = "", None, ""

    def save(self, *args, **kwargs):
        if self.area_id is not None and self.role in SCOPED_ROLES:
            self.area_code = self.area.code
        # Console accounts may open the back office; what they see there is still scoped.
        self.is_staff = self.is_superuser or self.role in CONSOLE_ROLES
        super().save(*args, **kwargs)


class Department(TimeStampedModel):
    """A 职能部门 (e.g. 城管, 消防, 住建) that handles reports within an area."""

    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="departments"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["area_code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="department_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.area_code = self.area.code
        super().save(*args, **kwargs)


class RiderProfile(TimeStampedModel):
    """A rider's registration with a community (社区报到) and where they work."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="rider",
    )
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    occupation = models.CharField(_("occupation"), max_length=16, choices=Occupation.choices)
    vehicle = models.CharField(_("vehicle"), max_length=16, choices=Vehicle.choices)
    work_lat = models.FloatField(_("work area latitude"))
    work_lng = models.FloatField(_("work area longitude"))
    work_address = models.CharField(_("usual work area"), max_length=200, blank=True)
    community = models.ForeignKey(
        "areas.Area",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="registered_riders",
    )
    grid = models.ForeignKey(
        "areas.Area",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="placed_riders",
    )
    #: The grid's code once placed, the community's before: the permission layer's scope.
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.PENDING,
        db_index=True,
    )
    rejection_reason = models.CharField(_("reason for rejection"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    consent_at = models.DateTimeField(_("privacy consent given at"))

    class Meta:
        verbose_name = _("rider")
        verbose_name_plural = _("riders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["area_code", "status"], name="rider_scope_status_idx"),
        ]

    def __str__(self) -> str:
        return str(self.user)

    def can_verify(self) -> bool:
        return self.status == RegistrationStatus.PENDING

    def can_reject(self) -> bool:
        return self.status == RegistrationStatus.PENDING

    def can_claim_posts(self) -> bool:
        return self.status == RegistrationStatus.VERIFIED


class Post(TimeStampedModel):
    """A service post (岗位) a community offers riders, with a capacity."""

    community = models.ForeignKey(
        "areas.Area", verbose_name=_("community"), on_delete=models.PROTECT, related_name="posts"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    kind = models.CharField(_("post"), max_length=16, choices=PostKind.choices)
    description = models.CharField(_("duties"), max_length=300, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"))
    #: Approved holders; changed only by conditional F() updates in services.
    holders = models.PositiveIntegerField(_("holders"), default=0, editable=False)
    is_open = models.BooleanField(_("open for claims"), default=True)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["area_code", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["community", "kind"], name="post_unique_kind"),
            models.CheckConstraint(
                condition=Q(holders__lte=F("capacity")), name="post_holders_within_capacity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.community}"

    @property
    def is_full(self) -> bool:
        return self.holders >= self.capacity

    def save(self, *args, **kwargs):
        self.area_code = self.community.code
        super().save(*args, **kwargs)


class PostClaim(TimeStampedModel):
    """A rider's claim on a post: pending → approved / rejected, or withdrawn by the rider."""

    post = models.ForeignKey(
        Post, verbose_name=_("post"), on_delete=models.PROTECT, related_name="claims"
    )
    rider = models.ForeignKey(
        RiderProfile, verbose_name=_("rider"), on_delete=models.CASCADE, related_name="claims"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ClaimStatus.choices,
        default=ClaimStatus.PENDING,
        db_index=True,
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("post claim")
        verbose_name_plural = _("post claims")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "rider"],
                condition=Q(status__in=["pending", "approved"]),
                name="claim_one_active_per_post",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rider} → {self.post}"

    def can_decide(self) -> bool:
        return self.status == ClaimStatus.PENDING

    def can_withdraw(self) -> bool:
        return self.status in (ClaimStatus.PENDING, ClaimStatus.APPROVED)


class Team(TimeStampedModel):
    """A service team (服务队) such as 爱心骑手队, formed within an area."""

    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="teams"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    description = models.CharField(_("description"), max_length=300, blank=True)
    leader = models.ForeignKey(
        RiderProfile,
        verbose_name=_("leader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="teams_led",
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["area_code", "name"]
        constraints = [models.UniqueConstraint(fields=["area", "name"], name="team_unique_name")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.area_code = self.area.code
        super().save(*args, **kwargs)


class TeamMembership(models.Model):
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="memberships"
    )
    rider = models.ForeignKey(
        RiderProfile, verbose_name=_("rider"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(
        _("role"), max_length=16, choices=MemberRole.choices, default=MemberRole.MEMBER
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        ordering = ["team", "-role", "joined_at"]
        constraints = [models.UniqueConstraint(fields=["team", "rider"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.rider} @ {self.team}"


class TokenScope(models.TextChoices):
    """What a bearer token may do: read (GET, HEAD, OPTIONS) or also write (everything the
    account may do). The account's own permissions still apply to either."""

    READ = "read", _("Read only")
    WRITE = "write", _("Read and write")


class ApiToken(models.Model):
    """A bearer token for API clients (a future mini-program). Only its hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    scope = models.CharField(
        _("scope"), max_length=8, choices=TokenScope.choices, default=TokenScope.WRITE
    )
    prefix = models.CharField(_("prefix"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class TwoFactorDevice(models.Model):
    """An account's TOTP authenticator (RFC 6238, 30-second steps, 6 digits).

    The shared secret is stored encrypted (``core.crypto``); ``confirmed_at`` is set once the
    owner typed a right code; ``last_step`` is the time step of the last code accepted, so a
    code is good once (no replay within its 30 seconds).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="two_factor_device",
    )
    secret_encrypted = models.TextField(editable=False)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    last_step = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("two-factor device")
        verbose_name_plural = _("two-factor devices")

    def __str__(self) -> str:
        return f"TOTP ({self.user})"

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)


class RecoveryCode(models.Model):
    """A one-time code to log in when the authenticator is lost. Only its SHA-256 is stored
    (the codes are random, 50 bits each, so a fast hash is enough)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="recovery_codes",
    )
    code_hash = models.CharField(max_length=64, editable=False)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} recovery code"


class Consent(models.Model):
    """One agreement to the privacy notice (or to the use of location) under one version.

    Giving consent adds a row; withdrawing sets ``withdrawn_at`` on the open rows of that kind;
    agreeing to a new version of the notice adds a row for it (the old one stays, as evidence
    of what was agreed when). A consent is in force while ``withdrawn_at`` is empty.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="consents",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ConsentKind.choices)
    notice_version = models.CharField(_("notice version"), max_length=16)
    given_at = models.DateTimeField(_("given at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=ConsentSource.choices)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_at", "-id"]
        indexes = [models.Index(fields=["user", "kind"], name="consent_user_kind_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "notice_version"],
                condition=Q(withdrawn_at__isnull=True),
                name="consent_one_open_per_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()} v{self.notice_version}"

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None
