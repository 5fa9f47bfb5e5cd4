"""Honours pages: the public roll, the rider's honours, the console screens and their errors."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.helpers import client_for as _client_for
from tests.honours.builders import award, knight, nominate, second_a1_rider
from yizhan.honours import services
from yizhan.honours.choices import NominationStatus
from yizhan.honours.models import Nomination, Title

pytestmark = pytest.mark.django_db


def client_for(user):
    """A client whose pages come in English (the messages asserted below are the msgids)."""
    if user is not None:
        type(user).objects.filter(pk=user.pk).update(language="en")
        user.language = "en"
    return _client_for(user)


def approved(world, title, rider=None):
    return services.nomination_approve(
        nomination=nominate(world, title, rider), actor=world.street_admin
    )


def test_the_public_roll_shows_masked_names_community_and_title_only(world):
    title = knight(world)
    approved(world, title)
    anyone = client_for(None)
    index = anyone.get(reverse("honours:roll_index"))
    assert world.street_a.name in index.content.decode()
    page = anyone.get(reverse("honours:roll", args=[world.street_a.code])).content.decode()
    assert "王**" in page and "甲一社区" in page and "清远骑士" in page
    assert "王小明" not in page and "1234" not in page and "巡查发现隐患" not in page
    assert anyone.get(reverse("honours:roll", args=["999"])).status_code == 404


def test_the_rider_sees_their_honours(world):
    title = knight(world)
    client = client_for(world.rider.user)
    assert "清远骑士" not in client.get(reverse("honours:mine")).content.decode()
    approved(world, title)
    page = client.get(reverse("honours:mine")).content.decode()
    assert "清远骑士" in page and "巡查发现隐患十余处" in page


def test_an_admin_creates_a_title_on_the_console(world):
    admin = client_for(world.street_admin)
    assert "Create a title" in admin.get(reverse("honours:titles")).content.decode()
    done = admin.post(
        reverse("honours:titles"),
        {"street": world.street_a.code, "name": "清远骑士", "quota": "15", "year": "2026"},
    )
    title = Title.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("honours:title", args=[title.pk])
    again = admin.post(
        reverse("honours:titles"),
        {"street": world.street_a.code, "name": "清远骑士", "quota": "15", "year": "2026"},
    )
    assert again.status_code == 409 and "already has the title" in again.content.decode()
    bad = admin.post(
        reverse("honours:titles"), {"street": world.street_a.code, "name": "x", "quota": "3"}
    )
    assert bad.status_code == 400
    assert Title.objects.count() == 1


def test_the_nomination_screen_lists_candidates_with_their_record(world):
    title = knight(world, quota=10)
    award(world, world.rider.user, 17, "honours-page-award")
    staff = client_for(world.community_staff)
    url = reverse("honours:title", args=[title.pk])
    page = staff.get(url).content.decode()
    assert "王小明" in page and ">17<" in page and "赵待审" not in page
    with CaptureQueriesContext(connection) as few:
        staff.get(url)
    for n in range(4):
        nominate(world, title, second_a1_rider(world, f"1360000040{n}", f"骑手{n}"))
    with CaptureQueriesContext(connection) as many:
        staff.get(url)
    assert len(many) == len(few)


def test_nominating_on_the_console_and_its_refusals(world):
    title = knight(world, quota=1)
    staff = client_for(world.community_staff)
    url = reverse("honours:nominate", args=[title.pk])
    empty = staff.post(url, {"rider": world.rider.pk, "reason": ""})
    assert empty.status_code == 400
    pending = staff.post(url, {"rider": world.pending_rider.pk, "reason": "巡查"})
    assert pending.status_code == 400 and "not a verified rider" in pending.content.decode()
    outside = client_for(world.other_community_staff).post(
        url, {"rider": world.rider.pk, "reason": "巡查"}
    )
    assert outside.status_code == 400 and "rider of your area" in outside.content.decode()
    assert not Nomination.objects.exists()
    assert staff.post(url, {"rider": world.rider.pk, "reason": "巡查"}).status_code == 302
    twice = staff.post(url, {"rider": world.rider.pk, "reason": "巡查"})
    assert twice.status_code == 409 and "already nominated" in twice.content.decode()
    full = staff.post(url, {"rider": second_a1_rider(world).pk, "reason": "救助"})
    assert full.status_code == 409 and "no place is left" in full.content.decode()
    assert Nomination.objects.count() == 1


def test_admins_approve_and_reject_on_the_console(world):
    title = knight(world, quota=5)
    first = nominate(world, title)
    second = nominate(world, title, second_a1_rider(world))
    admin = client_for(world.street_admin)
    listing = admin.get(reverse("honours:approvals")).content.decode()
    assert "王小明" in listing and "郑义" in listing
    assert client_for(world.community_staff).get(reverse("honours:approvals")).status_code == 200
    done = admin.post(reverse("honours:approve", args=[first.pk]))
    assert done.status_code == 302
    again = admin.post(reverse("honours:approve", args=[first.pk]))
    assert again.status_code == 409
    no_reason = admin.post(reverse("honours:reject", args=[second.pk]), {"reason": ""})
    assert no_reason.status_code == 400
    admin.post(reverse("honours:reject", args=[second.pk]), {"reason": "材料不足"})
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == (NominationStatus.APPROVED, NominationStatus.REJECTED)
    assert second.rejection_reason == "材料不足"
