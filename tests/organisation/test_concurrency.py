"""The pipeline under concurrent requests, on PostgreSQL: one live record per person when two
staff record the same application at once, and one step when two advance the same record."""

import pytest

from tests.organisation.builders import days_ago, second_a1_staff, street_branch
from tests.people.test_concurrency import run_together
from yizhan.core.errors import Conflict
from yizhan.organisation import services
from yizhan.organisation.models import PipelineRecord, StageEntry

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_staff_recording_the_same_application_make_one_record(world):
    branch = street_branch(world)
    second = second_a1_staff(world)
    services.branch_staff_add(branch=branch, user=second, actor=world.street_admin)
    results = run_together(
        *[
            (lambda actor=actor: services.record_open(
                branch=branch, rider=world.rider, applied_on=days_ago(3), actor=actor
            ))
            for actor in (world.community_staff, second, world.community_staff)
        ]
    )  # fmt: skip
    made = [r for r in results if isinstance(r, PipelineRecord)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(made) == 1 and len(refused) == 2, results
    assert PipelineRecord.objects.count() == 1 and StageEntry.objects.count() == 1


def test_two_staff_advancing_at_once_move_the_record_one_step(world):
    branch = street_branch(world)
    record = services.record_open(
        branch=branch, rider=world.rider, applied_on=days_ago(30), actor=world.community_staff
    )
    results = run_together(
        *[
            (lambda: services.record_advance(
                record=record, stage="activist", on=days_ago(1), actor=world.community_staff
            ))
            for _ in range(3)
        ]
    )  # fmt: skip
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Conflict", "PipelineRecord"]
    assert PipelineRecord.objects.get().stage == "activist"
    assert StageEntry.objects.filter(kind="advanced").count() == 1
