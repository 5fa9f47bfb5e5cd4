"""Every read of the micro-wishes a page or endpoint needs, already scoped.

Riders and staff read wishes through the permission layer (``restrict`` / ``get_for_user``); a
claimer reads their claims through it (a claim is its claimer's). Two reads are public by
design and filter by status instead: the wall (published, claimed and fulfilled wishes of a
community, shown with the rider's name masked and without photos) and the wishes a claimer may
take on (``claimable``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils.text import Truncator

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.errors import NotFound
from yizhan.core.home import Card, Item
from yizhan.core.permissions import Action, get_for_user, is_authenticated, restrict
from yizhan.core.roles import SCOPED_ROLES, Role
from yizhan.wishes.choices import OPEN_STATUSES, PUBLIC_STATUSES, WishStatus
from yizhan.wishes.models import Wish, WishClaim, WishEvent

#: Who may claim a wish: anyone but riders (a rider's wish is for others to fulfil).
CLAIMER_ROLES = (Role.VOLUNTEER, Role.MERCHANT, Role.STAFF, Role.ADMIN)


def _wishes() -> QuerySet[Wish]:
    return Wish.objects.select_related(
        "community", "rider", "current_claim", "current_claim__claimer", "decided_by"
    )


def wishes_for_user(user: Any, action: Action = Action.VIEW) -> QuerySet[Wish]:
    """The rider's own wishes; staff: those beneath their area."""
    return restrict(_wishes(), user, action).order_by("-created_at", "-id")


def my_wishes(user: Any) -> QuerySet[Wish]:
    return wishes_for_user(user).filter(rider=user)


def home_card(user: Any) -> Card | None:
    """The rider's home card: up to 3 open wishes, those waiting for their confirmation first,
    with their status. One query."""
    from django.utils.translation import gettext as _

    to_confirm = [WishStatus.FULFILLED, WishStatus.TIMED_OUT]
    wishes = list(
        restrict(Wish.objects.all(), user)
        .filter(rider=user, status__in=OPEN_STATUSES)
        .annotate(home_first=Case(When(status__in=to_confirm, then=Value(0)), default=Value(1)))
        .order_by("home_first", "-created_at", "-id")[:3]
    )
    items = [
        Item(
            Truncator(wish.text).chars(30),
            reverse("wishes:detail", args=[wish.pk]),
            _("Fulfilled: please confirm")
            if wish.can_rider_confirm()
            else wish.get_status_display(),
        )
        for wish in wishes
    ]
    return Card(_("My wishes"), items, reverse("wishes:mine")) if items else None


def approval_queue(user: Any) -> QuerySet[Wish]:
    """Wishes waiting for the staff member's approval, oldest first."""
    return (
        wishes_for_user(user, Action.OPERATE)
        .filter(status=WishStatus.PENDING)
        .order_by("created_at", "id")
    )


def filter_wishes(qs: QuerySet[Wish], *, status: str | None = None, area: str | None = None):
    if status:
        qs = qs.filter(status=status)
    if area:
        qs = qs.filter(area_code__startswith=area)
    return qs


def claimable(user: Any, *, published_only: bool = True) -> QuerySet[Wish]:
    """Wishes in the claimer's reach: staff and admins, beneath their area; a volunteer or a
    merchant with an area, in its street; one without an area, anywhere."""
    qs = _wishes()
    if published_only:
        qs = qs.filter(status=WishStatus.PUBLISHED)
    if not is_authenticated(user):
        return qs.none()
    if user.is_superuser:
        return qs
    if user.role not in CLAIMER_ROLES:  # riders post wishes, they do not claim them
        return qs.none()
    if user.role in SCOPED_ROLES:
        return restrict(qs, user)
    code = (user.area_code or "")[:9]
    return qs.filter(area_code__startswith=code) if code else qs


def my_claims(user: Any) -> QuerySet[WishClaim]:
    return (
        restrict(
            WishClaim.objects.select_related("wish", "wish__community", "wish__rider", "claimer"),
            user,
        )
        .filter(claimer=user)
        .order_by("-created_at", "-id")
    )


def wish_for_user(user: Any, pk: Any, action: Action = Action.VIEW) -> Wish:
    """One wish by request input: the rider's own, staff's area's, or one the user claims (or
    claimed, or may claim). Otherwise 404; visible but not allowed, 403."""
    try:
        return get_for_user(_wishes(), user, action, pk=pk)
    except NotFound:
        if action != Action.VIEW:
            raise
        try:
            in_range = 0 < int(pk) < 1 << 63
        except (TypeError, ValueError):
            in_range = False
        if not in_range:  # beyond any id (SQLite cannot even bind it in the subquery below)
            raise
    claimed = my_claims(user).filter(wish_id=pk).values("wish_id")
    found = _wishes().filter(Q(pk__in=claimed)).first() if is_authenticated(user) else None
    if found is None:
        try:
            found = claimable(user, published_only=False).filter(pk=pk).first()
        except (ValueError, TypeError):
            found = None
        if found is not None and found.status not in PUBLIC_STATUSES:
            found = None
    if found is None:
        raise NotFound(_not_found())
    return found


def _not_found():
    from django.utils.translation import gettext as _

    return _("Not found, or you may not see it.")


def timeline(wish: Wish) -> QuerySet[WishEvent]:
    return WishEvent.objects.filter(wish=wish).select_related("actor").order_by("created_at", "id")


def claims_of(wish: Wish) -> QuerySet[WishClaim]:
    return WishClaim.objects.filter(wish=wish).select_related("claimer").order_by("created_at")


# --- the public wall ---------------------------------------------------------------------------


def wall(community: Area) -> QuerySet[Wish]:
    """A community's public wishes, open ones first. Only what the wall may show is loaded."""
    return (
        Wish.objects.filter(community=community, status__in=PUBLIC_STATUSES)
        .select_related("rider", "community")
        .only(
            "id",
            "category",
            "text",
            "status",
            "created_at",
            "community__code",
            "community__name",
            "rider__name",
        )
        .order_by("-created_at", "-id")
    )


def wall_communities() -> QuerySet[Area]:
    """Communities that have something on the wall, with how many wishes are waiting."""
    return (
        Area.objects.filter(level=AreaLevel.COMMUNITY)
        .annotate(wishes_public=Count("wishes", filter=Q(wishes__status__in=PUBLIC_STATUSES)))
        .filter(wishes_public__gt=0)
        .order_by("code")
    )
