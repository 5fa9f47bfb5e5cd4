"""The people pages as a person uses them: register, verify, claim, approve, teams, language."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.helpers import client_for
from tests.world import PASSWORD, make_rider
from yizhan.core.models import AuditEntry
from yizhan.people.choices import ClaimStatus, RegistrationStatus
from yizhan.people.models import PostClaim, RiderProfile, Team, User
from yizhan.people.services import post_claim, rider_reject, team_add_member, team_create


def registration(world, **change):
    data = {
        "name": "新骑手",
        "phone": "135 1111 2222",
        "password": PASSWORD,
        "community": world.community_a1.code,
        "platform": "jd",
        "occupation": "courier",
        "vehicle": "e_bike",
        "work_lat": "40.095",
        "work_lng": "113.305",
        "work_address": "清远街与西街口",
        "consent": "on",
    }
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def test_register_page_lists_communities_grouped_by_street(world):
    page = Client().get(reverse("people:register")).content.decode()
    assert '<optgroup label="甲街道">' in page
    assert f'<option value="{world.community_a1.code}">甲一社区</option>' in page
    assert 'id="work-map"' in page and 'data-tile-url=""' in page  # tests run without tiles


def test_a_rider_registers_on_the_page_and_sees_their_pending_status(world):
    client = Client()
    response = client.post(reverse("people:register"), registration(world))
    assert response.status_code == 302
    assert response["Location"] == reverse("people:rider_home")
    rider = RiderProfile.objects.get(user__phone_index__isnull=False, user__name="新骑手")
    assert rider.status == RegistrationStatus.PENDING
    assert rider.user.phone == "13511112222"
    home = client.get(reverse("people:rider_home")).content.decode()
    assert "13511112222" in home  # the rider sees their own full number
    assert 'class="badge pending"' in home


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"phone": "12345"}, "phone", "11"),
        ({"phone": "13812341234"}, "phone", "已"),  # the world's rider holds it
        ({"community": "999999999999"}, "community", ""),
        ({"community": "440000001"}, "community", ""),  # a street, not a community
        ({"consent": None}, "consent", ""),
        ({"work_lat": None}, "work_lat", ""),
        ({"work_lat": "north"}, "work_lat", ""),
        ({"work_lat": "95"}, "work_lat", ""),
        ({"password": "123"}, "password", ""),
        ({"name": "  "}, "name", ""),
        ({"platform": "uber"}, "platform", ""),
    ],
)
def test_bad_registrations_are_shown_on_the_form_and_write_nothing(world, change, field, message):
    before = (User.objects.count(), RiderProfile.objects.count(), AuditEntry.objects.count())
    response = Client().post(reverse("people:register"), registration(world, **change))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert (
        User.objects.count(),
        RiderProfile.objects.count(),
        AuditEntry.objects.count(),
    ) == before


def test_staff_verify_with_htmx_gets_the_new_status_and_a_second_verify_is_a_409(world):
    client = client_for(world.community_staff)
    page = client.get(reverse("people:registrations")).content.decode()
    assert world.pending_rider.user.name in page
    assert world.pending_rider.user.phone_masked in page
    url = reverse("people:rider_verify", args=[world.pending_rider.pk])
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'class="badge verified"' in response.content.decode()
    again = client.post(url, HTTP_HX_REQUEST="true")
    assert again.status_code == 409
    assert 'role="alert"' in again.content.decode()
    world.pending_rider.refresh_from_db()
    assert world.pending_rider.status == RegistrationStatus.VERIFIED


def test_reject_needs_a_reason_and_the_rider_resubmits(world):
    staff = client_for(world.community_staff)
    url = reverse("people:rider_reject", args=[world.pending_rider.pk])
    assert staff.post(url, {"reason": ""}).status_code == 400
    assert staff.post(url, {"reason": "照片不清楚"}).status_code == 302
    rider_client = client_for(world.pending_rider.user)
    home = rider_client.get(reverse("people:rider_home")).content.decode()
    assert "照片不清楚" in home
    response = rider_client.post(
        reverse("people:rider_resubmit"), {"community": world.community_a2.pk}
    )
    assert response.status_code == 302
    world.pending_rider.refresh_from_db()
    assert world.pending_rider.status == RegistrationStatus.PENDING
    assert world.pending_rider.community == world.community_a2


def test_claim_approve_and_the_rider_sees_their_post_and_grid(world):
    rider_client = client_for(world.rider.user)
    posts = rider_client.get(reverse("people:rider_posts")).content.decode()
    assert "0 of 2" in posts or "0 / 2" in posts or "2" in posts
    claim_url = reverse("people:rider_claim", args=[world.post.pk])
    assert rider_client.post(claim_url, {"note": "我天天路过"}).status_code == 302
    twice = rider_client.post(claim_url, {"note": ""})
    assert twice.status_code == 409
    claim = PostClaim.objects.get(rider=world.rider)
    staff = client_for(world.community_staff)
    listing = staff.get(reverse("people:claims")).content.decode()
    assert "我天天路过" in listing
    approve = staff.post(reverse("people:claim_approve", args=[claim.pk]), HTTP_HX_REQUEST="true")
    assert approve.status_code == 200 and 'class="badge approved"' in approve.content.decode()
    home = rider_client.get(reverse("people:rider_home")).content.decode()
    assert world.grid_a1_east.name in home
    assert 'class="badge approved"' in home
    withdraw = rider_client.post(reverse("people:rider_withdraw", args=[claim.pk]))
    assert withdraw.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.WITHDRAWN


def test_a_full_post_cannot_be_claimed_from_the_page(world):
    staff = client_for(world.community_staff)
    response = staff.post(
        reverse("people:post_update", args=[world.post.pk]), {"capacity": "0", "is_open": "on"}
    )
    assert response.status_code == 400
    world.post.refresh_from_db()
    assert world.post.capacity == 2


def test_riders_list_masks_phones_filters_and_searches(world):
    staff = client_for(world.street_admin)
    page = staff.get(reverse("people:riders")).content.decode()
    assert "138****1234" in page and "13812341234" not in page
    by_status = staff.get(reverse("people:riders"), {"status": "pending"}).content.decode()
    assert world.pending_rider.user.name in by_status and world.rider.user.name not in by_status
    by_phone = staff.get(reverse("people:riders"), {"q": "13812341234"}).content.decode()
    assert world.rider.user.name in by_phone and world.pending_rider.user.name not in by_phone
    by_tail = staff.get(reverse("people:riders"), {"q": "1234"}).content.decode()
    assert world.rider.user.name in by_tail
    by_area = staff.get(reverse("people:riders"), {"area": world.community_a2.code})
    assert world.other_rider.user.name in by_area.content.decode()
    assert world.rider.user.name not in by_area.content.decode()
    nonsense = staff.get(reverse("people:riders"), {"status": "nonsense", "page": "x"})
    assert nonsense.status_code == 200  # bad filters are dropped, never an error page


def test_rider_detail_shows_only_the_mask(world):
    # The full number comes through the "show number" form (tests/people/test_unmask.py).
    url = reverse("people:rider_detail", args=[world.rider.pk])
    staff_view = client_for(world.community_staff).get(url).content.decode()
    assert "13812341234" not in staff_view and "138****1234" in staff_view
    street_view = client_for(world.street_admin).get(url).content.decode()
    assert "13812341234" not in street_view and "138****1234" in street_view


def test_riders_list_query_count_does_not_grow_with_the_page(world):
    staff = client_for(world.district_admin)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert staff.get(reverse("people:riders")).status_code == 200
        return len(queries)

    few = count()
    for i in range(12):
        make_rider(
            world.community_a1, f"1370000{i:04d}", f"骑手{i}", lat=40.095, lng=113.305,
            verify_by=world.community_staff,
        )  # fmt: skip
    assert count() == few


def test_staff_move_a_rider_to_another_grid(world):
    staff = client_for(world.community_staff)
    response = staff.post(
        reverse("people:rider_move", args=[world.rider.pk]),
        {"grid": world.grid_a1_west.pk, "reason": "常在西边送单"},
    )
    assert response.status_code == 302
    world.rider.refresh_from_db()
    assert world.rider.grid == world.grid_a1_west
    # A grid outside the staff member's area is not on offer.
    refused = staff.post(
        reverse("people:rider_move", args=[world.rider.pk]), {"grid": world.grid_b1.pk}
    )
    assert refused.status_code == 400
    world.rider.refresh_from_db()
    assert world.rider.grid == world.grid_a1_west


def test_teams_create_add_lead_and_remove(world):
    staff = client_for(world.community_staff)
    created = staff.post(
        reverse("people:teams"), {"name": "爱心骑手队", "area": world.community_a1.pk}
    )
    assert created.status_code == 302
    team = Team.objects.get(name="爱心骑手队")
    duplicate = staff.post(
        reverse("people:teams"), {"name": "爱心骑手队", "area": world.community_a1.pk}
    )
    assert duplicate.status_code == 400 and Team.objects.count() == 1
    add = reverse("people:team_add_member", args=[team.pk])
    assert staff.post(add, {"rider": world.rider.pk, "leader": "on"}).status_code == 302
    assert staff.post(add, {"rider": world.pending_rider.pk}).status_code == 400  # not verified
    team.refresh_from_db()
    assert team.leader == world.rider
    detail = staff.get(reverse("people:team_detail", args=[team.pk])).content.decode()
    assert world.rider.user.name in detail
    rider_view = client_for(world.rider.user).get(reverse("people:rider_teams")).content.decode()
    assert "爱心骑手队" in rider_view
    remove = reverse("people:team_remove_member", args=[team.pk, world.rider.pk])
    assert staff.post(remove).status_code == 302
    assert staff.post(remove).status_code == 404
    team.refresh_from_db()
    assert team.leader is None


def test_set_leader_must_be_a_member(world):
    team = team_create(name="骑士队", area=world.community_a1, actor=world.community_staff)
    team_add_member(team=team, rider=world.rider, actor=world.community_staff)
    staff = client_for(world.community_staff)
    url = reverse("people:team_leader", args=[team.pk])
    assert staff.post(url, {"rider": world.pending_rider.pk}).status_code == 400
    assert staff.post(url, {"rider": world.rider.pk}).status_code == 302
    team.refresh_from_db()
    assert team.leader == world.rider


def test_console_counts_what_waits_in_my_area(world):
    post_claim(rider=world.rider, post=world.post, actor=world.rider.user)
    page = client_for(world.community_staff).get(reverse("people:console"))
    assert page.context["summary"] == {
        "pending_registrations": 1,
        "verified_riders": 1,
        "pending_claims": 1,
        "teams": 0,
    }
    other = client_for(world.other_community_staff).get(reverse("people:console"))
    assert other.context["summary"]["pending_registrations"] == 0


def test_pages_are_chinese_by_default_and_english_on_request(world):
    zh = Client().get(reverse("people:login")).content.decode()
    en = Client(headers={"accept-language": "en"}).get(reverse("people:login")).content.decode()
    assert "登录" in zh
    assert "Log in" in en and "登录" not in en


def test_language_choice_is_remembered_on_the_account(world):
    client = client_for(world.rider.user)
    response = client.post(reverse("people:language"), {"language": "en", "next": "/rider/"})
    assert response.status_code == 302 and response["Location"] == "/rider/"
    assert User.objects.get(pk=world.rider.user_id).language == "en"
    page = client.get(reverse("people:rider_home"), headers={"accept-language": "zh-hans"})
    assert "My registration" in page.content.decode()
    bad = client.post(reverse("people:language"), {"language": "xx"})
    assert bad.status_code == 400


def test_login_by_phone_and_wrong_password(world):
    client = Client()
    wrong = client.post(reverse("people:login"), {"username": "13812341234", "password": "x"})
    assert wrong.status_code == 400
    ok = client.post(reverse("people:login"), {"username": "138 1234 1234", "password": PASSWORD})
    assert ok.status_code == 302
    assert client.get(reverse("people:rider_home")).status_code == 200


def test_unknown_pages_and_ids_are_404_pages(world):
    staff = client_for(world.community_staff)
    assert staff.get("/console/riders/999999/").status_code == 404
    assert staff.get("/no-such-page/").status_code == 404
    assert staff.get("/console/riders/1/verify/").status_code == 405


def test_rejected_rider_cannot_claim(world):
    rider_reject(rider=world.pending_rider, actor=world.community_staff, reason="重复注册")
    client = client_for(world.pending_rider.user)
    response = client.post(reverse("people:rider_claim", args=[world.post.pk]))
    assert response.status_code == 409
    assert not PostClaim.objects.filter(rider=world.pending_rider).exists()


def test_the_front_page_shows_the_demo_accounts_only_in_demo_mode(db, settings):
    from yizhan.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

    settings.DEMO_MODE = False
    plain = Client().get(reverse("home")).content.decode()
    assert DEMO_PASSWORD not in plain
    settings.DEMO_MODE = True
    demo = Client().get(reverse("home")).content.decode()
    assert DEMO_PASSWORD in demo
    assert all(account.login in demo for account in DEMO_ACCOUNTS)
    assert DEMO_ACCOUNTS[0].role_zh in demo
