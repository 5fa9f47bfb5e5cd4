"""Monthly briefs in object storage (S3_BUCKET): the scheduled job stores each street's brief in
the bucket under the private prefix (``private/briefs/<code>/<yyyy-mm>.pdf``, private ACL) and
nothing on the local disk; the console lists it and streams it from the bucket to those who may
see the area, with an audit entry; a second run, or a second process, keeps the first brief."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from tests.api.helpers import client_for
from tests.storage.conftest import S3
from yizhan.core.models import AuditEntry
from yizhan.dashboards import brief
from yizhan.reports.storage_s3 import PrivateS3Storage

pytestmark = pytest.mark.django_db

APRIL = "2026-04"
KEY_A = f"private/briefs/440000001/{APRIL}.pdf"
KEY_B = f"private/briefs/440000002/{APRIL}.pdf"


def exports() -> int:
    return AuditEntry.objects.filter(action="export").count()


def test_the_job_stores_every_streets_brief_under_the_private_prefix_of_the_bucket(world, s3: S3):
    assert isinstance(brief.brief_storage(), PrivateS3Storage)

    done = brief.monthly_briefs(today=dt.date(2026, 5, 2))

    assert done == f"2 monthly briefs stored for {APRIL}"
    assert set(s3.objects()) == {KEY_A, KEY_B}
    pdf = s3.body(KEY_A)
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    assert pdf.startswith(b"%PDF") and "甲街道" in text
    # Uploaded with a private ACL: no grant to anyone but the owner.
    grants = s3.client.get_object_acl(Bucket=s3.bucket, Key=KEY_A)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    assert "URI" not in grants[0]["Grantee"]
    # Nothing on the local disk: neither MEDIA_ROOT nor the private folder beside it.
    assert s3.local_files() == []
    assert brief.stored_months("440000001") == [APRIL]


def test_the_console_streams_the_stored_brief_from_the_bucket_to_those_who_may_see_it(
    world, s3: S3
):
    brief.monthly_briefs(today=dt.date(2026, 5, 1))
    admin = client_for(world.street_admin)
    link = reverse("dashboards:stored_brief", args=[world.street_a.code, APRIL])

    page = admin.get(reverse("dashboards:dashboard", args=[world.street_a.code]))
    response = admin.get(link)

    assert link in page.content.decode()
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{APRIL}.pdf"'
    assert b"".join(response.streaming_content) == s3.body(KEY_A)
    entry = AuditEntry.objects.get(action="export")
    assert entry.actor_id == world.street_admin.pk and entry.area_code == world.street_a.code
    assert entry.data == {"what": "brief", "format": "pdf", "month": APRIL}
    # Outside the scope, or a month not stored: 404, and no entry.
    assert client_for(world.other_community_staff).get(link).status_code == 404
    missing = reverse("dashboards:stored_brief", args=[world.street_a.code, "2026-03"])
    assert admin.get(missing).status_code == 404
    assert exports() == 1
    assert s3.local_files() == []


def test_a_brief_gone_from_the_bucket_is_a_404(world, s3: S3):
    brief.monthly_briefs(today=dt.date(2026, 5, 1))
    s3.client.delete_object(Bucket=s3.bucket, Key=KEY_A)

    response = client_for(world.street_admin).get(
        reverse("dashboards:stored_brief", args=[world.street_a.code, APRIL])
    )

    assert response.status_code == 404
    assert exports() == 0
    assert brief.stored_months(world.street_a.code) == []


def test_a_second_run_keeps_the_stored_briefs_and_makes_a_missing_one(world, s3: S3, monkeypatch):
    made = []

    def fake(*, area, month):
        made.append(area.code)
        return b"%PDF-1.4 " + area.code.encode()

    monkeypatch.setattr(brief, "brief_pdf", fake)
    brief.monthly_briefs(today=dt.date(2026, 5, 1))
    s3.client.delete_object(Bucket=s3.bucket, Key=KEY_B)

    assert brief.monthly_briefs(today=dt.date(2026, 5, 2)) == f"1 monthly briefs stored for {APRIL}"

    assert made == ["440000001", "440000002", "440000002"]
    assert set(s3.objects()) == {KEY_A, KEY_B}
    assert brief.monthly_briefs(today=dt.date(2026, 5, 3)) == ""
    assert len(made) == 3


def test_a_brief_another_process_stored_first_is_kept(world, s3: S3):
    """Two processes both found the month missing: the second upload must not leave a second
    object (the storage never overwrites: it would pick another name) nor replace the first."""
    brief.store_brief("440000001", APRIL, b"%PDF-1.4 first")

    assert brief.store_brief("440000001", APRIL, b"%PDF-1.4 second") == KEY_A[len("private/") :]

    assert s3.objects() == {KEY_A: len(b"%PDF-1.4 first")}
    assert s3.body(KEY_A) == b"%PDF-1.4 first"
    with brief.open_stored("440000001", APRIL) as stored:
        assert stored.read() == b"%PDF-1.4 first"


def test_names_are_never_built_from_anything_but_a_code_and_a_month(s3: S3):
    assert brief.open_stored("440000001", "../../reports/x") is None
    assert brief.stored_months("../reports") == []
    with pytest.raises(ValueError):
        brief.store_brief("440000001", "../x", b"%PDF")
    assert s3.objects() == {}
