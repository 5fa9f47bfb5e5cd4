"""Overdue appeals go up: at the deadline the body's handlers are reminded and the community's
staff told; when as long again has passed, the street's staff. Once per level per routing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from yizhan.appeals import services
from yizhan.appeals.models import Appeal, AppealEvent
from yizhan.core import jobs
from yizhan.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _told():
    return sorted(
        Notification.objects.filter(kind="appeal_overdue").values_list("recipient_id", flat=True)
    )


def _overdue(appeal, *, by: timedelta, span: timedelta = timedelta(days=5)):
    now = timezone.now()
    Appeal.objects.filter(pk=appeal.pk).update(routed_at=now - by - span, deadline_at=now - by)


def test_at_the_deadline_the_body_and_the_community_are_told_once(world, made):
    routed = made["routed"]
    _overdue(routed, by=timedelta(hours=2))
    assert services.appeals_escalate() == {"reminded": 1, "street": 0}
    assert _told() == sorted([made["handler"].pk, world.community_staff.pk])
    assert Appeal.objects.get(pk=routed.pk).escalation == 1
    assert AppealEvent.objects.filter(appeal=routed, action="escalated").count() == 1

    # Run again (or from a second process): nothing more.
    assert services.appeals_escalate() == {"reminded": 0, "street": 0}
    assert len(_told()) == 2


def test_when_as_long_again_has_passed_the_street_is_told(world, made):
    routed = made["routed"]
    _overdue(routed, by=timedelta(hours=2))
    services.appeals_escalate()
    later = timezone.now() + timedelta(days=6)
    assert services.appeals_escalate(now=later) == {"reminded": 0, "street": 1}
    assert world.street_admin.pk in _told()
    assert Appeal.objects.get(pk=routed.pk).escalation == 2
    assert services.appeals_escalate(now=later) == {"reminded": 0, "street": 0}


def test_a_job_that_did_not_run_for_a_while_tells_both_levels_at_once(world, made):
    _overdue(made["routed"], by=timedelta(days=10))
    assert services.appeals_escalate() == {"reminded": 1, "street": 1}
    told = _told()
    assert {made["handler"].pk, world.community_staff.pk, world.street_admin.pk} <= set(told)


def test_answered_appeals_and_appeals_not_yet_due_stay_quiet(world, made):
    _overdue(made["answered"], by=timedelta(days=10))  # answered: no longer the body's to do
    assert services.appeals_escalate() == {"reminded": 0, "street": 0}
    assert _told() == []


def test_routing_again_starts_the_escalation_afresh(world, made):
    routed = made["routed"]
    _overdue(routed, by=timedelta(hours=2))
    services.appeals_escalate()
    again = services.appeal_route(
        appeal=Appeal.objects.get(pk=routed.pk), actor=world.community_staff,
        body=made["union"], days=2,
    )  # fmt: skip
    assert again.escalation == 0
    assert again.deadline_at > timezone.now()


def test_the_job_is_registered():
    assert "appeals.escalate" in {job.name for job in jobs.jobs()}
