"""Changing who takes part in a joint meeting: bodies of the area or above, verified riders of
the area; refusals change nothing; the audit entry says who was added and removed."""

import pytest
from django.urls import reverse

from tests.api.helpers import call, client_for
from yizhan.appeals import services
from yizhan.core.errors import ApplicationError, Forbidden
from yizhan.core.models import AuditEntry
from yizhan.people.services import department_create

pytestmark = pytest.mark.django_db


def _people(meeting):
    return (
        sorted(meeting.bodies.values_list("pk", flat=True)),
        sorted(meeting.riders.values_list("pk", flat=True)),
    )


def test_a_body_is_added_and_a_representative_replaced(world, made):
    meeting = made["meeting"]
    office = department_create(name="人社所", area=world.street_a, actor=world.street_admin)
    services.meeting_participants(
        meeting=meeting,
        actor=world.community_staff,
        bodies=[made["union"], office],
        riders=[],
    )
    assert _people(meeting) == (sorted([made["union"].pk, office.pk]), [])
    entry = AuditEntry.objects.filter(action="meeting.participants").get()
    assert entry.data["bodies_added"] == [office.pk]
    assert entry.data["riders_removed"] == [world.rider.user.pk]


@pytest.mark.parametrize("who", ["court", "other_rider"])
def test_participants_from_outside_the_area_are_refused(world, made, who):
    meeting = made["meeting"]
    before = _people(meeting)
    if who == "court":  # a body of street B
        kwargs = {"bodies": [made["court"]], "riders": []}
    else:  # a rider of community A2, the meeting is A1's
        kwargs = {"bodies": [], "riders": [world.other_rider.user]}
    with pytest.raises(ApplicationError) as exc:
        services.meeting_participants(meeting=meeting, actor=world.community_staff, **kwargs)
    assert exc.value.field in ("bodies", "riders")
    assert _people(meeting) == before
    assert not AuditEntry.objects.filter(action="meeting.participants").exists()


def test_staff_of_another_community_may_not_change_them(world, made):
    meeting = made["meeting"]
    before = _people(meeting)
    with pytest.raises(Forbidden):
        services.meeting_participants(
            meeting=meeting, actor=world.other_community_staff, bodies=[], riders=[]
        )
    assert _people(meeting) == before


def test_api_and_page(world, made):
    meeting = made["meeting"]
    staff = client_for(world.community_staff)
    response = call(
        staff,
        "PUT",
        f"/api/v1/meetings/{meeting.pk}/participants",
        {"body_ids": [made["union"].pk], "rider_ids": []},
    )
    assert response.status_code == 200, response.content
    assert _people(meeting) == ([made["union"].pk], [])

    unknown = call(
        staff, "PUT", f"/api/v1/meetings/{meeting.pk}/participants", {"body_ids": [999999]}
    )
    assert unknown.status_code == 400
    assert _people(meeting) == ([made["union"].pk], [])

    url = reverse("appeals:participants", args=[meeting.pk])
    bad = staff.post(url, {"bodies": [str(made["court"].pk)]})
    assert bad.status_code == 400
    ok = staff.post(url, {"bodies": [str(made["union"].pk)], "riders": [str(world.rider.user.pk)]})
    assert ok.status_code == 302
    assert _people(meeting) == ([made["union"].pk], [world.rider.user.pk])
    page = staff.get(reverse("appeals:meeting_detail", args=[meeting.pk]))
    assert "工会" in page.content.decode()
