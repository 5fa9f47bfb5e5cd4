"""The organisation console pages: the menu link, the street admins' page, a branch's pipeline
(masked, filtered, paginated, queries independent of its length), a record's page and forms."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.api.helpers import client_for
from tests.organisation.builders import a1_rider, advance_to, days_ago, open_record, street_branch
from tests.organisation.matrix import snapshot
from yizhan.organisation import services
from yizhan.organisation.models import PipelineRecord

MENU = reverse("organisation:index")


def test_the_menu_link_shows_to_admins_and_branch_staff_only(world):
    street_branch(world)
    console = reverse("people:console")
    for user, shown in (
        (world.community_staff, True),
        (world.other_community_staff, False),
        (world.street_admin, True),
        (world.district_admin, True),
    ):
        html = client_for(user).get(console).content.decode()
        assert (f'href="{MENU}"' in html) is shown, user


def test_the_menu_costs_staff_one_query_each_page(world):
    """A staff member's console page makes the menu's one query, every time (no cache that
    would make the second load differ from the first)."""
    street_branch(world)
    client = client_for(world.other_community_staff)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("people:console"))
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_street_admin_turns_the_module_on_and_sets_up_a_branch(world):
    admin = client_for(world.street_admin)
    url = reverse("organisation:street", args=[world.street_a.code])
    page = admin.get(url).content.decode()
    assert "Turn it on" in page or "开启" in page or 'name="enabled" value="1"' in page
    response = admin.post(reverse("organisation:switch", args=[world.street_a.code]),
                          {"enabled": "1"})  # fmt: skip
    assert response.status_code == 302 and services.is_enabled(world.street_a.code)
    response = admin.post(
        reverse("organisation:branch_create", args=[world.street_a.code]),
        {"name": "甲一社区党支部", "area": world.community_a1.pk},
    )
    assert response.status_code == 302
    branch = services.Branch.objects.get(name="甲一社区党支部")
    page = admin.get(url).content.decode()
    # A1's staff may serve on A1's branch; A2's staff are not offered.
    assert f'<option value="{world.community_staff.pk}">staff_a1 · 甲一社区</option>' in page
    assert "staff_a2 · " not in page
    before = snapshot()
    response = admin.post(reverse("organisation:staff_add", args=[branch.pk]),
                          {"user": world.other_community_staff.pk})  # fmt: skip
    assert response.status_code == 400 and snapshot() == before
    response = admin.post(reverse("organisation:staff_add", args=[branch.pk]),
                          {"user": world.community_staff.pk})  # fmt: skip
    assert response.status_code == 302
    # The admin's own page shows counts, not persons; the branch page is not theirs.
    assert admin.get(reverse("organisation:branch", args=[branch.pk])).status_code == 403


def test_the_pipeline_page_masks_filters_and_paginates(world, settings):
    settings.DEFAULT_PAGE_SIZE = 5
    branch = street_branch(world)
    staff = world.community_staff
    record = advance_to(open_record(world, branch, applied=300), "activist", staff, days=[200])
    client = client_for(staff)
    url = reverse("organisation:branch", args=[branch.pk])
    page = client.get(url).content.decode()
    assert "王**" in page and "王小明" not in page
    assert reverse("organisation:record", args=[record.pk]) in page
    assert "王**" not in client.get(url, {"stage": "candidate"}).content.decode()
    assert "王**" in client.get(url, {"stage": "activist", "status": "open"}).content.decode()

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    for i in range(12):
        open_record(world, branch, a1_rider(world, phone=f"1370000{i:04d}", name=f"骑手{i}"))
    assert count() == few


def test_the_record_page_shows_the_person_and_the_history(world):
    branch = street_branch(world)
    record = open_record(world, branch)
    client = client_for(world.community_staff)
    page = client.get(reverse("organisation:record", args=[record.pk])).content.decode()
    assert "王小明" in page and "递交入党申请书" in page
    assert 'name="stage" value="activist"' in page


def test_a_refused_step_shows_the_message_and_changes_nothing(world):
    branch = street_branch(world)
    record = open_record(world, branch, applied=30)
    client = client_for(world.community_staff)
    url = reverse("organisation:advance", args=[record.pk])
    before = snapshot()
    response = client.post(url, {"stage": "candidate", "on": str(timezone.localdate())})
    assert response.status_code == 409 and snapshot() == before
    response = client.post(url, {"stage": "activist", "on": str(days_ago(31))})
    assert response.status_code == 400 and snapshot() == before
    assert "2" in response.content.decode()  # the message names the earliest date
    response = client.post(url, {"stage": "activist", "on": str(days_ago(5))})
    assert response.status_code == 302
    assert PipelineRecord.objects.get(pk=record.pk).stage == "activist"


def test_opening_for_a_person_outside_the_branch_is_a_form_error(world):
    branch = street_branch(world)
    open_record(world, branch)
    client = client_for(world.community_staff)
    before = snapshot()
    response = client.post(
        reverse("organisation:record_open", args=[branch.pk]),
        {"rider": world.rider.pk, "applied_on": str(days_ago(1))},  # already in the pipeline
    )
    assert response.status_code == 400 and snapshot() == before


def test_a_transfer_sends_the_sender_back_to_their_branch(world):
    branch = street_branch(world)
    record = open_record(world, branch)
    a1 = services.branch_create(
        area=world.community_a1, name="甲一社区党支部", actor=world.street_admin
    )
    client = client_for(world.community_staff)
    page = client.get(reverse("organisation:record", args=[record.pk])).content.decode()
    assert "甲一社区党支部" in page
    response = client.post(reverse("organisation:transfer", args=[record.pk]), {"branch": a1.pk})
    assert response["Location"] == reverse("organisation:branch", args=[branch.pk])
    assert client.get(reverse("organisation:record", args=[record.pk])).status_code == 404


def test_pages_of_a_street_whose_switch_is_off_answer_404_with_a_message(world):
    branch = street_branch(world)
    record = open_record(world, branch)
    services.organisation_set(street=world.street_a, enabled=False, actor=world.street_admin)
    client = client_for(world.community_staff)
    for url in (reverse("organisation:branch", args=[branch.pk]),
                reverse("organisation:record", args=[record.pk])):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 404 and b"<h1>" in response.content
    admin = client_for(world.street_admin)
    response = admin.post(
        reverse("organisation:branch_create", args=[world.street_a.code]),
        {"name": "新支部", "area": world.street_a.pk},
    )
    assert response.status_code == 404
    # The admin's street page still answers, to turn it back on.
    assert admin.get(reverse("organisation:street", args=[world.street_a.code])).status_code == 200
