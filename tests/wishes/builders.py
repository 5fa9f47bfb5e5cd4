"""Wishes in every state, made through the services (community A1 of street A)."""

from __future__ import annotations

import io
import itertools
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from tests.world import PASSWORD, World, make_rider
from yizhan.core.roles import Role
from yizhan.people.services import account_create
from yizhan.points.services import earning_rule_set
from yizhan.wishes import services
from yizhan.wishes.models import Wish

_keys = itertools.count(1)


def key() -> str:
    return f"wish-key-{next(_keys):06d}"


def jpeg(name: str = "w.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 10)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def volunteer(world: World, username: str = "volunteer_a1", area=None):
    return account_create(
        username=username,
        name="志愿者" + username[-2:],
        role=Role.VOLUNTEER,
        area=area if area is not None else world.community_a1,
        password=PASSWORD,
    )


def second_rider(world: World, phone: str = "13600000088", name: str = "孙心愿"):
    """Another verified rider of A1 (the matrices' wishes that are not the rider's)."""
    return make_rider(
        world.community_a1, phone, name, lat=40.095, lng=113.305, verify_by=world.community_staff
    ).user


def pay_rule(world: World, points: int = 8, **caps):
    return earning_rule_set(
        street=world.street_a,
        activity="wish_fulfilled",
        points=points,
        actor=world.street_admin,
        **caps,
    )


def post(world: World, rider=None, text: str = "想要一个新头盔", **kwargs) -> Wish:
    return services.wish_post(
        rider=rider or world.rider.user,
        category=kwargs.pop("category", "daily_needs"),
        text=text,
        idempotency_key=key(),
        **kwargs,
    )


def published(world: World, rider=None, **kwargs) -> Wish:
    return services.wish_approve(wish=post(world, rider, **kwargs), actor=world.community_staff)


def claimed(world: World, claimer, rider=None, **kwargs) -> Wish:
    wish = published(world, rider, **kwargs)
    services.wish_claim(wish=wish, actor=claimer)
    return Wish.objects.get(pk=wish.pk)


def fulfilled(world: World, claimer, rider=None, **kwargs) -> Wish:
    wish = claimed(world, claimer, rider, **kwargs)
    return services.wish_fulfil(wish=wish, actor=claimer, note="已送到")


def timed_out(world: World, claimer, rider=None, **kwargs) -> Wish:
    wish = fulfilled(world, claimer, rider, **kwargs)
    services.wishes_time_out(now=wish.confirm_due_at + timedelta(seconds=1))
    return Wish.objects.get(pk=wish.pk)


def later(days: int = 8):
    return timezone.now() + timedelta(days=days)
