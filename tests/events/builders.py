"""Builders for the events tests: everything through the services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.world import make_rider
from yizhan.events import services
from yizhan.points.services import earning_rule_set

_phones = iter(range(13500000000, 13500009999))


def attendance_rule(world, points: int = 10):
    return earning_rule_set(
        street=world.street_a, activity="event_attendance", points=points,
        actor=world.street_admin,
    )  # fmt: skip


def make_event(world, *, capacity: int = 2, starts_in: timedelta = timedelta(minutes=30),
               organiser=None, actor=None, **kwargs):  # fmt: skip
    """A traffic-safety training of community A1 starting soon (check-in already open)."""
    start = timezone.now() + starts_in
    return services.event_create(
        organiser=organiser or world.community_a1,
        title=kwargs.pop("title", "交通安全培训"),
        kind=kwargs.pop("kind", "traffic_safety"),
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=capacity,
        actor=actor or world.community_staff,
        address=kwargs.pop("address", "甲一社区活动室"),
        lat=kwargs.pop("lat", 40.095),
        lng=kwargs.pop("lng", 113.305),
        **kwargs,
    )


def new_rider(world, community=None):
    return make_rider(
        community or world.community_a1, str(next(_phones)), "骑手", lat=40.095, lng=113.305,
        verify_by=world.community_staff if community is None else world.street_admin,
    ).user  # fmt: skip


def make_handout(world, *, area=None, items=(("夏凉被", 2), ("小风扇", 1)), actor=None):
    return services.distribution_create(
        area=area or world.community_a1, name="夏送清凉", items=list(items),
        actor=actor or world.community_staff,
    )  # fmt: skip
