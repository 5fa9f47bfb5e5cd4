from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Difficulty(models.TextChoices):
    """The "four difficulties" (四难) an appeal is classified by."""

    MEAL_REST = "meal_rest", _("Eating and resting (就餐休息难)")
    SKILLS = "skills", _("Improving skills (技能提升难)")
    UNDERSTANDING = "understanding", _("Being understood (收获理解难)")
    RIGHTS = "rights", _("Protecting rights (权益保障难)")


class Topic(models.TextChoices):
    LABOUR_DISPUTE = "labour_dispute", _("Labour dispute")
    TRAFFIC_ACCIDENT = "traffic_accident", _("Traffic accident")
    SOCIAL_INSURANCE = "social_insurance", _("Social insurance")
    INJURY = "injury", _("Injury at work")
    HOUSING = "housing", _("Housing")
    PAY = "pay", _("Pay")
    OTHER = "other", _("Other")


class AppealStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting routing")
    ROUTED = "routed", _("With the responsible body")
    ANSWERED = "answered", _("Answered")
    REOPENED = "reopened", _("Reopened (answer rated low)")
    CLOSED = "closed", pgettext_lazy("appeal status", "Closed")


#: Still needing someone's work: unresolved, may go on a joint meeting's agenda.
UNRESOLVED_STATUSES = (
    AppealStatus.SUBMITTED,
    AppealStatus.ROUTED,
    AppealStatus.ANSWERED,
    AppealStatus.REOPENED,
)


class DeliveryKind(models.TextChoices):
    """The "four deliveries" (四送): the services given to answer an appeal."""

    WARMTH = "warmth", _("Warmth and cool (送冷暖)")
    SKILLS = "skills", _("Skills (送技能)")
    CARE = "care", _("Care (送爱心)")
    RIGHTS = "rights", _("Rights (送权益)")


class DecisionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
