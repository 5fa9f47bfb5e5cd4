from django.db import models
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    MEITUAN = "meituan", _("Meituan")
    ELEME = "eleme", _("Ele.me")
    SF = "sf", _("SF Express")
    JD = "jd", _("JD")
    DADA = "dada", _("Dada")
    SHANSONG = "shansong", _("Shansong")
    HUOLALA = "huolala", _("Huolala")
    DIDI = "didi", _("Didi")
    OTHER = "other", _("Other")


class Occupation(models.TextChoices):
    FOOD_DELIVERY = "food_delivery", _("Food delivery")
    COURIER = "courier", _("Parcel courier")
    RIDE_HAILING = "ride_hailing", _("Ride-hailing driver")
    FREIGHT = "freight", _("Freight driver")
    OTHER = "other", _("Other")


class Vehicle(models.TextChoices):
    E_BIKE = "e_bike", _("Electric bicycle")
    E_MOTORBIKE = "e_motorbike", _("Electric motorbike")
    MOTORBIKE = "motorbike", _("Motorbike")
    TRICYCLE = "tricycle", _("Tricycle")
    CAR = "car", _("Car")
    VAN = "van", _("Van or truck")
    BICYCLE = "bicycle", _("Bicycle")
    ON_FOOT = "on_foot", _("On foot")


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", _("Pending verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class PostKind(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Mobile grid worker")
    CIVILITY = "civility", _("Civility advocate")
    SAFETY = "safety", _("Safety patroller")
    MEDIATOR = "mediator", _("Dispute mediator")
    ELDERLY_AID = "elderly_aid", _("Elderly helper")
    POLICY = "policy", _("Policy promoter")


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Turned down")
    WITHDRAWN = "withdrawn", _("Withdrawn")


ACTIVE_CLAIM_STATUSES = (ClaimStatus.PENDING, ClaimStatus.APPROVED)


class MemberRole(models.TextChoices):
    MEMBER = "member", _("Member")
    LEADER = "leader", _("Leader")


class ConsentKind(models.TextChoices):
    #: The privacy notice as a whole: needed to register and take part.
    PRIVACY = "privacy", _("Privacy notice")
    #: Separate, optional: the rider's own position (PIPL treats location as sensitive).
    LOCATION = "location", _("Use of my location")


class ConsentSource(models.TextChoices):
    REGISTRATION = "registration", _("Registration")
    PAGE = "page", _("Privacy page")
    API = "api", _("App (API)")
    #: Rows made by the migration for riders who agreed to notice version 1 at registration.
    MIGRATION = "migration", _("Recorded at registration (version 1)")


class UnmaskReason(models.TextChoices):
    """Why a staff member asks to see a rider's full phone number (kept in the audit log)."""

    VERIFY = "verify", _("Check a registration")
    CONTACT = "contact", _("Contact the rider about a post, team or event")
    CASE = "case", _("Follow up a report, wish or appeal")
    URGENT = "urgent", _("Urgent: safety or an elderly person or child")
    OTHER = "other", _("Other")
