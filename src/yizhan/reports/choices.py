from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Family(models.TextChoices):
    """The GB/T 30428 event families, plus care for people (一老一小)."""

    CITY_APPEARANCE = "city_appearance", _("City appearance (市容环境)")
    STREET_ORDER = "street_order", _("Street order (街面秩序)")
    ADVERTISING = "advertising", _("Advertising (宣传广告)")
    CONSTRUCTION = "construction", _("Construction (施工管理)")
    PUBLIC_FACILITIES = "public_facilities", _("Public facilities (公用设施)")
    HOUSING_SAFETY = "housing_safety", _("Housing safety (房屋安全)")
    EMERGENCY = "emergency", _("Emergencies (突发事件)")
    CARE = "care", _("People in need (一老一小)")
    OTHER = "other", _("Other (其他)")


class DeadlineUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("working hours (工作时)")
    WORKING_DAYS = "working_days", _("working days (工作日)")
    HOURS = "hours", _("hours, around the clock")


class ReportStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")  # awaiting triage
    ACCEPTED = "accepted", _("Accepted")  # 立案
    REJECTED = "rejected", _("Rejected")
    MERGED = "merged", _("Merged into another report")
    DISPATCHED = "dispatched", _("Dispatched")  # 派遣: a department has it, the clock runs
    HANDLED = "handled", _("Handled")  # 处置: the department reported back with a photo
    VERIFIED = "verified", pgettext_lazy("report status", "Verified")  # 核查: staff checked on site
    CLOSED = "closed", pgettext_lazy("report status", "Closed")  # 结案


#: Still needing someone's work (shown in queues, counted for duplicates).
OPEN_STATUSES = (
    ReportStatus.SUBMITTED,
    ReportStatus.ACCEPTED,
    ReportStatus.DISPATCHED,
    ReportStatus.HANDLED,
)


class PhotoStage(models.TextChoices):
    REPORT = "report", _("Reported")
    HANDLED = "handled", _("After handling")
    VERIFIED = "verified", _("On-site check")
    REOPENED = "reopened", _("Evidence for reopening")


class PointsStatus(models.TextChoices):
    NONE = "none", _("Not paid (yet)")
    PAID = "paid", _("Paid")
    HELD = "held", _("Held for review")
    DECLINED = "declined", _("Not paid")


class Flag(models.TextChoices):
    """Why a report's points wait for a person (anti-cheating)."""

    SAME_PHOTO = "same_photo", _("The same (or nearly the same) photo was sent before")
    FAR_FROM_PHOTO = "far_from_photo", _("Far from where the photo says it was taken")
    OLD_PHOTO = "old_photo", _("The photo was taken long before the report")
    BURST = "burst", _("Many reports in a short time")
    OUTSIDE_SCOPE = "reporter_elsewhere", _("The reporter belongs to another area")


class Source(models.TextChoices):
    APP = "app", _("Rider's phone")
    STAFF = "staff", _("Staff")
    OPEN311 = "open311", _("Open311 client")


class BlurState(models.TextChoices):
    """Whether a photo's face-blurred copy exists (``core.faces``)."""

    PENDING = "pending", _("Not yet checked for faces")  # stored before blurring existed
    DONE = "done", _("Faces blurred")
    FAILED = "failed", _("Could not be checked: hidden")
