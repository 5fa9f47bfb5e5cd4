from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    MEMBER = "member", _("Member account")  # a rider's or a volunteer's own points
    ISSUANCE = "issuance", _("Issuance")  # where a street's points come from (goes negative)
    HOLD = "hold", _("Held for pickup")  # points reserved by redemptions not yet picked up
    REDEMPTION = "redemption", _("Redeemed")  # points spent on rewards
    EXPIRY = "expiry", _("Expired")  # points that expired


SYSTEM_KINDS = (AccountKind.ISSUANCE, AccountKind.HOLD, AccountKind.REDEMPTION, AccountKind.EXPIRY)


class PostingKind(models.TextChoices):
    AWARD = "award", _("Award")  # issuance → member
    REVERSAL = "reversal", _("Reversal")  # the legs of an earlier posting, swapped
    HOLD = "hold", _("Reserved for a reward")  # member → hold
    SETTLE = "settle", _("Reward picked up")  # hold → redemption
    RELEASE = "release", _("Reservation released")  # hold → member
    EXPIRY = "expiry", _("Expired")  # member → expiry


class Activity(models.TextChoices):
    REPORT_VERIFIED = "report_verified", _("Hazard report verified")
    EVENT_ATTENDANCE = "event_attendance", _("Event attended")
    DUTY_HOUR = "duty_hour", _("Hour on duty")
    ELDERLY_CHILD_HELP = "elderly_child_help", _("Help to an elderly person or a child")
    GIFT_DELIVERY = "gift_delivery", _("Gift delivered")
    WISH_FULFILLED = "wish_fulfilled", _("Micro-wish fulfilled")
    MANUAL_AWARD = "manual_award", _("Award by staff")


class AwardStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting a second approval")
    APPROVED = "approved", _("Approved and paid")
    REJECTED = "rejected", _("Turned down")
    HELD = "held", _("Held for review")  # flagged as suspicious: waits in the review queue


class AwardFlag(models.TextChoices):
    """Why a manual award waits for a person before it pays (``points.services.award_flags``)."""

    REPEAT = "award_repeat", _("The same staff member awarded this person repeatedly")
    LARGE = "award_large", _("An unusually large award")
    NEW_MEMBER = "award_new_member", _("The person registered only recently")
    BURST = "award_burst", _("Many awards by one staff member in a short time")


class SeasonKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")
    ALL = "all", _("All time")
