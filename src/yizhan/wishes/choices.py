from django.db import models
from django.utils.translation import gettext_lazy as _


class WishCategory(models.TextChoices):
    DAILY_NEEDS = "daily_needs", _("Daily necessities (生活用品)")
    SCHOOL_SUPPLIES = "school_supplies", _("School supplies (学习用品)")
    CHILD_EDUCATION = "child_education", _("Children's education (子女教育)")
    HEALTH = "health", _("Health (健康)")
    OTHER = "other", _("Other (其他)")


class WishStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    REJECTED = "rejected", _("Not approved")
    PUBLISHED = "published", _("Published, waiting for someone")
    CLAIMED = "claimed", _("Claimed")
    FULFILLED = "fulfilled", _("Fulfilled, awaiting the rider's confirmation")
    TIMED_OUT = "timed_out", _("Not confirmed in time: staff decide")
    CONFIRMED = "confirmed", _("Fulfilled and confirmed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: Wishes that count towards a rider's limit of open wishes.
OPEN_STATUSES = (
    WishStatus.PENDING,
    WishStatus.PUBLISHED,
    WishStatus.CLAIMED,
    WishStatus.FULFILLED,
    WishStatus.TIMED_OUT,
)
#: What the public wall shows (never the pending, rejected or withdrawn ones).
PUBLIC_STATUSES = (
    WishStatus.PUBLISHED,
    WishStatus.CLAIMED,
    WishStatus.FULFILLED,
    WishStatus.TIMED_OUT,
    WishStatus.CONFIRMED,
)


class ClaimStatus(models.TextChoices):
    ACTIVE = "active", _("Claimed")
    RELEASED = "released", _("Released")
    FULFILLED = "fulfilled", _("Fulfilled, awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REOPENED = "reopened", _("Not accepted: the wish was reopened")


#: A claim that still holds its wish (one per wish).
HOLDING_CLAIMS = (ClaimStatus.ACTIVE, ClaimStatus.FULFILLED)


class PointsStatus(models.TextChoices):
    NONE = "none", _("Not paid (yet)")
    PAID = "paid", _("Paid")
    CAPPED = "capped", _("Over the cap: recorded, nothing paid")
    HELD = "held", _("Waiting for staff who may pay this claimer")
    NOT_MEMBER = "not_member", _("The claimer does not collect points")
    NO_RULE = "no_rule", _("The street pays nothing for wishes")
