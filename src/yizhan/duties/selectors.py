"""Every read of the duties app a page or endpoint needs, through the permission layer."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yizhan.core.home import Card, Item
from yizhan.core.permissions import Action, get_for_user, restrict
from yizhan.duties.choices import DutyStatus
from yizhan.duties.models import Duty, GiftCode
from yizhan.people.choices import ClaimStatus
from yizhan.people.models import Post


def _duties() -> QuerySet[Duty]:
    return Duty.objects.select_related("rider__user", "post__community", "decided_by")


def my_duties(user: Any) -> QuerySet[Duty]:
    """The rider's own duties, newest first."""
    return restrict(_duties(), user).filter(rider__user=user).order_by("-started_at", "-id")


def duties_for(user: Any, *, status: str | None = None) -> QuerySet[Duty]:
    """What ``user`` may see: a rider their own, staff those of their area."""
    qs = restrict(_duties(), user)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-started_at", "-id")


def queue_for(user: Any, *, status: str = DutyStatus.PENDING) -> QuerySet[Duty]:
    """The console's queue: duties in the user's area they may act on, oldest first."""
    qs = restrict(_duties(), user, Action.OPERATE)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("started_at", "id")


def duty_for(user: Any, duty_id: Any, action: Action = Action.VIEW) -> Duty:
    return get_for_user(_duties(), user, action, pk=duty_id)


def held_posts(user: Any) -> QuerySet[Post]:
    """The posts the rider holds (an approved claim)."""
    return (
        Post.objects.filter(claims__rider__user=user, claims__status=ClaimStatus.APPROVED)
        .select_related("community")
        .order_by("kind", "id")
        .distinct()
    )


def home_card(user: Any) -> Card | None:
    """The rider's home card when they hold a post: a link to log a duty, and how many of
    their duties await verification. Two queries."""
    posts = list(held_posts(user))
    if not posts:
        return None
    kinds = " · ".join(dict.fromkeys(post.get_kind_display() for post in posts))
    items = [Item(_("Log a duty"), reverse("duties:log"), kinds)]
    pending = (
        restrict(Duty.objects.all(), user)
        .filter(rider__user=user, status=DutyStatus.PENDING)
        .count()
    )
    if pending:
        text = ngettext(
            "%(count)d duty awaiting verification",
            "%(count)d duties awaiting verification",
            pending,
        ) % {"count": pending}
        items.append(Item(text, reverse("duties:mine")))
    return Card(_("My duties"), items, reverse("duties:mine"), count=pending or None)


def gift_codes_for(user: Any) -> QuerySet[GiftCode]:
    return (
        restrict(GiftCode.objects.all(), user)
        .select_related("community", "issued_by", "duty")
        .order_by("-created_at", "-id")
    )
