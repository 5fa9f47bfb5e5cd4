"""``load_organisation_demo`` (a step of ``load_demo``) against the loaded demo street: the module
on for 清远街道, its branch with the showcase community staff member, eight riders at every
stage; loading it again is once."""

import pytest
from django.db import transaction
from django.test import override_settings

from tests.api.helpers import client_for
from yizhan.core.models import AuditEntry
from yizhan.demo.loader import load_demo
from yizhan.organisation import selectors, services
from yizhan.organisation.demo import (
    BRANCH_NAME,
    STAFF_USERNAME,
    STREET_CODE,
    load_organisation_demo,
)
from yizhan.organisation.models import Branch, PipelineRecord, StageEntry
from yizhan.people.models import User


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("demo-media")
    with (
        django_db_blocker.unblock(),
        override_settings(DEMO_MODE=True, MEDIA_ROOT=str(media)),
        transaction.atomic(),
    ):
        load_demo()
        first = load_organisation_demo()
        counts = (PipelineRecord.objects.count(), StageEntry.objects.count(),
                  AuditEntry.objects.count())  # fmt: skip
        second = load_organisation_demo()
        yield {"first": first, "second": second, "counts": counts}
        transaction.set_rollback(True)


@pytest.fixture
def loaded(demo, db):
    return demo


def test_the_demo_pipeline(loaded):
    assert services.is_enabled(STREET_CODE)
    branch = Branch.objects.get(name=BRANCH_NAME)
    assert branch.area_code == STREET_CODE
    staff = User.objects.get(username=STAFF_USERNAME)
    assert list(selectors.served_branches(staff)) == [branch]
    # ``load_demo`` runs it as a step already: a further call finds the eight records there.
    assert PipelineRecord.objects.count() == 8
    assert loaded["first"]["records"] == 0
    assert selectors.branch_counts(branch) == {
        "applicant": 2, "activist": 2, "candidate": 1, "probationary": 1, "full": 1, "closed": 1,
    }  # fmt: skip
    for record in PipelineRecord.objects.all():
        dates = [d for _s, _l, d in record.dates() if d]
        assert dates == sorted(dates)


def test_loading_it_again_changes_nothing(loaded):
    assert loaded["second"]["records"] == 0
    assert loaded["counts"] == (
        PipelineRecord.objects.count(),
        StageEntry.objects.count(),
        AuditEntry.objects.count(),
    )


def test_the_showcase_staff_member_sees_the_pipeline(loaded):
    client = client_for(User.objects.get(username=STAFF_USERNAME))
    branch = Branch.objects.get(name=BRANCH_NAME)
    assert client.get(f"/console/organisation/branches/{branch.pk}/").status_code == 200
    admin = client_for(User.objects.get(username="qingyuan-admin"))
    assert admin.get(f"/console/organisation/streets/{STREET_CODE}/").status_code == 200
    assert admin.get("/api/v1/organisation/records").json()["count"] == 0
