from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yizhan.people.choices import PostKind
from yizhan.points.choices import Activity


class DutyKind(models.TextChoices):
    PATROL = "patrol", _("Safety patrol")
    MEDIATION = "mediation", _("Dispute mediation")
    HELP = "help", _("Help to an elderly person or a child")
    GIFT = "gift", _("Gift delivered to an elderly resident")


class DutyStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting verification")
    VERIFIED = "verified", pgettext_lazy("duty status", "Verified")
    REJECTED = "rejected", _("Rejected")


class VerifiedBy(models.TextChoices):
    STAFF = "staff", _("Staff")
    HOUSEHOLD = "household", _("Household's code")


class PointsStatus(models.TextChoices):
    NONE = "", _("Not paid yet")
    PAID = "paid", _("Paid")
    CAPPED = "capped", _("Capped: nothing left today or this week")
    TOO_SHORT = "too_short", _("Shorter than 30 minutes: no points")
    NO_RULE = "no_rule", _("The street pays nothing for this yet")


#: Kinds with a start and an end (paid per hour); the others are single acts (paid per act).
TIMED_KINDS = frozenset({DutyKind.PATROL, DutyKind.MEDIATION})

#: The post a rider must hold to log each kind of duty.
KIND_POSTS: dict[str, str] = {
    DutyKind.PATROL: PostKind.SAFETY,
    DutyKind.MEDIATION: PostKind.MEDIATOR,
    DutyKind.HELP: PostKind.ELDERLY_AID,
    DutyKind.GIFT: PostKind.ELDERLY_AID,
}

#: What each kind pays through ``points_earn``.
KIND_ACTIVITY: dict[str, str] = {
    DutyKind.PATROL: Activity.DUTY_HOUR,
    DutyKind.MEDIATION: Activity.DUTY_HOUR,
    DutyKind.HELP: Activity.ELDERLY_CHILD_HELP,
    DutyKind.GIFT: Activity.GIFT_DELIVERY,
}
