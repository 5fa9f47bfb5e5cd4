from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    RIDER_FESTIVAL = "rider_festival", _("Rider festival")  # 骑手节
    FREE_CLINIC = "free_clinic", _("Free clinic")  # 义诊
    ANTI_FRAUD = "anti_fraud", _("Anti-fraud talk")  # 反诈宣传
    TRAFFIC_SAFETY = "traffic_safety", _("Traffic safety training")  # 交通安全培训
    SKILLS = "skills", _("Skills training")  # 技能培训
    JOBS = "jobs", _("Jobs to the community")  # 送岗进社区
    CARE_VISIT = "care_visit", _("Care visit")  # 慰问
    VOLUNTEERING = "volunteering", _("Volunteer service")  # 志愿服务
    OTHER = "other", _("Other")


class Audience(models.TextChoices):
    RIDERS = "riders", _("Riders")
    RESIDENTS = "residents", _("Residents")
    EVERYONE = "everyone", _("Everyone")


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Signed up")
    WAITING = "waiting", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


class CheckInMethod(models.TextChoices):
    QR = "qr", _("Scanned the event's code")
    STAFF = "staff", _("Confirmed by staff")


class PointsStatus(models.TextChoices):
    NONE = "none", _("No points")
    PAID = "paid", _("Paid")
    HELD = "held", _("Awaiting staff confirmation")
