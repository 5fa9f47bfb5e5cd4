"""The points pages as people use them: staff award (and a second staff member approves a large
award), the rider sees their balance, history and rank; corrections, earning rules,
leaderboards, bad input and query counts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.api.helpers import client_for as any_client_for
from tests.world import make_rider
from yizhan.core.models import AuditEntry
from yizhan.points.choices import AwardStatus
from yizhan.points.models import EarningRule, ManualAward, PointsSettings, Posting
from yizhan.points.selectors import balance_of
from yizhan.points.services import points_award


def client_for(user):
    """A signed-in client reading the pages in English (the source strings the tests quote)."""
    client = any_client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def award_form(world, **change):
    data = {
        "rider": world.rider.pk,
        "amount": "5",
        "reason": "帮助老人过马路",
        "evidence": "社区监控 2026-05-01",
        "idempotency_key": "award-page-key-1",
    }
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def give(world, user, amount, key, actor=None):
    return points_award(
        member=user, amount=amount, reason="服务", evidence="记录",
        actor=actor or world.district_admin, idempotency_key=f"page-key-{key}",
    )  # fmt: skip


def ledger_state():
    return (
        Posting.objects.count(),
        sorted(ManualAward.objects.values_list("pk", "status")),
        AuditEntry.objects.count(),
    )


def test_staff_award_and_the_rider_sees_balance_and_history(world):
    staff = client_for(world.community_staff)
    form_page = staff.get(reverse("points:award")).content.decode()
    assert world.rider.user.name in form_page  # a verified rider of A1
    assert world.pending_rider.user.name not in form_page  # not verified
    assert world.other_rider.user.name not in form_page  # not beneath community A1
    assert "甲街道" in form_page and "20" in form_page  # the street's second-approval threshold
    response = staff.post(reverse("points:award"), award_form(world))
    assert response.status_code == 302 and response["Location"] == reverse("points:award")
    assert balance_of(world.rider.user) == 5
    rider = client_for(world.rider.user)
    page = rider.get(reverse("points:rider_points"))
    html = page.content.decode()
    assert page.context["balance"] == 5
    assert "帮助老人过马路" in html and "社区监控 2026-05-01" in html
    assert 'class="amount in">+5<' in html
    assert page.context["rank_month"] == 1 and page.context["rank_all"] == 1
    assert "Manual award" in html or "manual award" in html.lower()  # where it came from


def test_a_repeated_award_with_the_same_key_awards_once(world):
    staff = client_for(world.community_staff)
    for _attempt in range(2):
        assert staff.post(reverse("points:award"), award_form(world)).status_code == 302
    assert ManualAward.objects.count() == 1 and balance_of(world.rider.user) == 5
    changed = staff.post(reverse("points:award"), award_form(world, amount="6"))
    assert changed.status_code == 409  # same key, other payload: shown on the form
    assert "idempotency" in changed.content.decode().lower() or changed.context["form"].errors
    assert ManualAward.objects.count() == 1


def test_a_large_award_waits_for_a_second_staff_member(world):
    asker = client_for(world.community_staff)
    response = asker.post(reverse("points:award"), award_form(world, amount="50"), follow=True)
    assert "second staff member" in response.content.decode()
    award = ManualAward.objects.get()
    assert award.status == AwardStatus.PENDING and balance_of(world.rider.user) == 0
    listing = asker.get(reverse("points:approvals")).content.decode()
    assert "帮助老人过马路" in listing and "You asked for this award" in listing
    url = reverse("points:award_approve", args=[award.pk])
    own = asker.post(url, HTTP_HX_REQUEST="true")
    assert own.status_code == 403
    assert "cannot approve your own" in own.content.decode()
    assert ManualAward.objects.get().status == AwardStatus.PENDING
    checker = client_for(world.street_admin)
    assert "帮助老人过马路" in checker.get(reverse("points:approvals")).content.decode()
    approved = checker.post(url, HTTP_HX_REQUEST="true")
    assert approved.status_code == 200
    assert 'class="badge approved"' in approved.content.decode()
    assert balance_of(world.rider.user) == 50
    again = checker.post(url, HTTP_HX_REQUEST="true")
    assert again.status_code == 409 and 'role="alert"' in again.content.decode()
    history = client_for(world.rider.user).get(reverse("points:rider_points")).content.decode()
    assert "+50" in history
    ledger = checker.get(reverse("points:ledger")).content.decode()
    assert "approved by" in ledger


def test_a_large_award_can_be_turned_down_with_a_note(world):
    give(world, world.rider.user, 30, "turn-down-1", actor=world.community_staff)
    award = ManualAward.objects.get()
    other = client_for(world.other_community_staff)
    url = reverse("points:award_reject", args=[award.pk])
    assert other.post(url, {"note": "?"}).status_code == 404  # not beneath community A2
    response = client_for(world.street_admin).post(
        url, {"note": "证据不足"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "证据不足" in response.content.decode()
    award.refresh_from_db()
    assert award.status == AwardStatus.REJECTED and balance_of(world.rider.user) == 0
    assert (
        "No awards are waiting"
        in client_for(world.street_admin).get(reverse("points:approvals")).content.decode()
    )


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"amount": "0"}, "amount", "1 to 10000"),
        ({"amount": "20000"}, "amount", "1 to 10000"),
        ({"amount": "-3"}, "amount", "1 to 10000"),
        ({"amount": "many"}, "amount", ""),
        ({"reason": ""}, "reason", ""),
        ({"evidence": ""}, "evidence", ""),
        ({"evidence": "x" * 501}, "evidence", ""),
        ({"rider": "999999"}, "rider", ""),
        ({"idempotency_key": "short"}, "idempotency_key", "idempotency key"),
    ],
)
def test_bad_awards_are_shown_on_the_form_and_change_nothing(world, change, field, message):
    before = ledger_state()
    response = client_for(world.community_staff).post(
        reverse("points:award"), award_form(world, **change)
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    if message:
        assert message in response.content.decode()  # shown, even for the hidden key
    assert ledger_state() == before


def test_other_community_staff_cannot_award_a_rider_of_a1(world):
    before = ledger_state()
    response = client_for(world.other_community_staff).post(
        reverse("points:award"), award_form(world)
    )
    assert response.status_code == 400 and "rider" in response.context["form"].errors
    assert ledger_state() == before


def test_staff_reverse_an_award_from_the_ledger(world):
    made = give(world, world.rider.user, 8, "reverse-me", actor=world.community_staff)
    staff = client_for(world.community_staff)
    ledger = staff.get(reverse("points:ledger")).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', ledger).group(1)
    url = reverse("points:posting_reverse", args=[made.earning.posting_id])
    before = ledger_state()
    missing = staff.post(url, {"reason": "", "idempotency_key": key}, HTTP_HX_REQUEST="true")
    assert missing.status_code == 400 and 'role="alert"' in missing.content.decode()
    assert ledger_state() == before
    done = staff.post(url, {"reason": "录错人了", "idempotency_key": key}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and "Reversed" in done.content.decode()
    assert balance_of(world.rider.user) == 0
    repeat = staff.post(url, {"reason": "录错人了", "idempotency_key": key}, HTTP_HX_REQUEST="true")
    assert repeat.status_code == 200  # the same key replays: reversed once
    assert Posting.objects.filter(kind="reversal").count() == 1
    again = staff.post(url, {"reason": "再来", "idempotency_key": "another-key-123"})
    assert again.status_code == 409
    history = client_for(world.rider.user).get(reverse("points:rider_points")).content.decode()
    assert "录错人了" in history and 'class="amount out">-8<' in history


def test_ledger_search_by_kind_name_phone_and_dates(world):
    give(world, world.rider.user, 8, "search-1", actor=world.community_staff)
    give(world, world.other_rider.user, 9, "search-2", actor=world.other_community_staff)
    staff = client_for(world.street_admin)
    url = reverse("points:ledger")

    def names(**query):
        page = staff.get(url, query)
        assert page.status_code == 200
        return {p.member.owner.name for p in page.context["page"].object_list}

    both = {world.rider.user.name, world.other_rider.user.name}
    assert names() == both
    assert names(q="13812341234") == {world.rider.user.name}
    assert names(q="李大力") == {world.other_rider.user.name}
    assert names(kind="reversal") == set()
    assert names(activity="manual_award") == both
    today = timezone.localdate().isoformat()
    assert names(since=today, until=today) == both
    assert names(until="2000-01-01") == set()
    assert names(kind="nonsense", since="not-a-date") == both  # bad filters are dropped
    assert client_for(world.other_community_staff).get(url).context["page"].paginator.count == 1


def test_street_admin_sets_rules_and_settings_others_read_them(world):
    admin = client_for(world.street_admin)
    url = reverse("points:rules")
    data = {
        "street": world.street_a.code, "activity": "duty_hour", "points": "3",
        "weekly_cap": "30", "is_active": "on",
    }  # fmt: skip
    assert admin.post(url, data).status_code == 302
    rule = EarningRule.objects.get()
    assert (rule.points, rule.weekly_cap, rule.daily_cap) == (3, 30, None)
    page = admin.get(url, {"street": world.street_a.code}).content.decode()
    assert "Hour on duty" in page and 'id="rule-form"' in page and "Save the rule" in page
    prefilled = admin.get(url, {"activity": "duty_hour", "category": ""})
    assert prefilled.context["rule_form"].initial["points"] == 3
    staff = client_for(world.community_staff)
    read_only = staff.get(url).content.decode()
    assert "Hour on duty" in read_only and "Save the rule" not in read_only
    refused = staff.post(url, {**data, "points": "9"})
    assert refused.status_code == 403
    assert EarningRule.objects.get().points == 3
    settings = {
        "street": world.street_a.code, "approval_threshold": "30", "expiry_enabled": "on",
        "expiry_month": "6", "expiry_day": "30",
    }  # fmt: skip
    assert admin.post(reverse("points:settings"), settings).status_code == 302
    stored = PointsSettings.objects.get(street=world.street_a)
    assert (stored.approval_threshold, stored.expiry_enabled, stored.expiry_month) == (30, True, 6)
    assert "more than 30 points" in staff.get(reverse("points:award")).content.decode()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"points": "0"}, "points"),
        ({"points": "5000"}, "points"),
        ({"points": ""}, "points"),
        ({"daily_cap": "0"}, "daily_cap"),
        ({"activity": "bribery"}, "activity"),
        ({"street": "440000002"}, "street"),  # street B is not the street admin's
    ],
)
def test_bad_rules_are_400_on_the_form_and_change_nothing(world, change, field):
    data = {"street": world.street_a.code, "activity": "duty_hour", "points": "3"}
    data.update(change)
    before = (EarningRule.objects.count(), AuditEntry.objects.count())
    response = client_for(world.street_admin).post(reverse("points:rules"), data)
    assert response.status_code == 400
    assert field in response.context["rule_form"].errors
    assert (EarningRule.objects.count(), AuditEntry.objects.count()) == before


@pytest.mark.parametrize(
    "change, field",
    [
        ({"approval_threshold": "0"}, "approval_threshold"),
        ({"approval_threshold": "lots"}, "approval_threshold"),
        ({"expiry_month": "13"}, "expiry_month"),
        ({"expiry_day": "32"}, "expiry_month"),  # the service names the date as a whole
    ],
)
def test_bad_settings_are_400_on_the_form_and_change_nothing(world, change, field):
    data = {
        "street": world.street_a.code, "approval_threshold": "30", "expiry_month": "12",
        "expiry_day": "31",
    }  # fmt: skip
    data.update(change)
    before = AuditEntry.objects.count()
    response = client_for(world.street_admin).post(reverse("points:settings"), data)
    assert response.status_code == 400
    assert field in response.context["settings_form"].errors
    assert AuditEntry.objects.count() == before
    assert not PointsSettings.objects.filter(approval_threshold=30).exists()


def test_the_rider_sees_what_expires_next_when_the_street_turns_expiry_on(world):
    give(world, world.rider.user, 12, "expiring-1")
    rider = client_for(world.rider.user)
    assert rider.get(reverse("points:rider_points")).context["expiring"] is None
    client_for(world.street_admin).post(
        reverse("points:settings"),
        {"street": world.street_a.code, "approval_threshold": "20", "expiry_enabled": "on",
         "expiry_month": "12", "expiry_day": "31"},
    )  # fmt: skip
    page = rider.get(reverse("points:rider_points"))
    expiring = page.context["expiring"]
    assert expiring.points == 12 and expiring.on.year == timezone.localdate().year + 1
    assert f"{expiring.on:%Y-%m-%d}" in page.content.decode()


def board(response) -> str:
    html = response.content.decode()
    return html[html.index('<ol class="board"') :]


def test_leaderboard_order_and_masking(world):
    third = make_rider(
        world.community_a1, "13600000088", "孙悟空", lat=40.095, lng=113.305,
        verify_by=world.community_staff,
    )  # fmt: skip
    give(world, world.rider.user, 15, "board-1")
    give(world, world.other_rider.user, 20, "board-2")
    give(world, third.user, 10, "board-3")
    rider = client_for(world.rider.user)
    street = rider.get(reverse("points:leaderboard"), {"area": world.street_a.code})
    html = board(street)
    assert "王小明" in html  # my own name in full
    assert "李**" in html and "李大力" not in html
    assert "孙**" in html and "孙悟空" not in html
    assert html.index("李**") < html.index("王小明") < html.index("孙**")
    assert street.context["my_rank"] == 2
    community = rider.get(
        reverse("points:leaderboard"), {"area": world.community_a1.code, "season": "all"}
    )
    assert community.context["my_rank"] == 1
    assert "李**" not in community.content.decode()
    outside = rider.get(reverse("points:leaderboard"), {"area": world.street_b.code})
    assert outside.context["area_code"] == world.street_a.code  # not offered: my street instead
    points_page = rider.get(reverse("points:rider_points"))
    assert (points_page.context["rank_month"], points_page.context["rank_all"]) == (2, 2)
    console = client_for(world.district_admin).get(
        reverse("points:console_leaderboard"), {"area": world.district.code, "season": "year"}
    )
    html = board(console)
    assert html.index("李大力") < html.index("王小明") < html.index("孙悟空")
    scoped = client_for(world.other_community_staff).get(
        reverse("points:console_leaderboard"), {"area": world.street_a.code}
    )
    assert scoped.context["area_code"] == world.community_a2.code  # only beneath my area
    assert "李大力" in scoped.content.decode() and "王小明" not in scoped.content.decode()


def count_queries(client, url, **query):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, query).status_code == 200
    return len(queries)


def test_history_ledger_and_approvals_query_counts_do_not_grow(world):
    rider = client_for(world.rider.user)
    staff = client_for(world.street_admin)
    give(world, world.rider.user, 2, "count-0")
    give(world, world.rider.user, 30, "count-big-0", actor=world.community_staff)
    urls = [
        (rider, reverse("points:rider_points")),
        (staff, reverse("points:ledger")),
        (staff, reverse("points:approvals")),
    ]
    few = [count_queries(client, url) for client, url in urls]
    for i in range(1, 8):
        made = give(world, world.rider.user, 2, f"count-{i}")
        if i % 2:
            from yizhan.points.services import points_reverse

            points_reverse(
                posting=made.earning.posting, actor=world.district_admin, reason="更正",
                idempotency_key=f"count-reverse-{i:04d}",
            )  # fmt: skip
        give(world, world.rider.user, 30, f"count-big-{i}", actor=world.community_staff)
    assert [count_queries(client, url) for client, url in urls] == few


def test_leaderboard_query_counts_do_not_grow(world):
    give(world, world.rider.user, 5, "lb-0")
    rider = client_for(world.rider.user)
    staff = client_for(world.district_admin)
    few = (
        count_queries(rider, reverse("points:leaderboard"), area=world.street_a.code),
        count_queries(staff, reverse("points:console_leaderboard")),
    )
    for i in range(6):
        other = make_rider(
            world.community_a1, f"1360000{i:04d}", f"骑手{i}", lat=40.095, lng=113.305,
            verify_by=world.community_staff,
        )  # fmt: skip
        give(world, other.user, 3 + i, f"lb-{i + 1}")
    assert (
        count_queries(rider, reverse("points:leaderboard"), area=world.street_a.code),
        count_queries(staff, reverse("points:console_leaderboard")),
    ) == few


def test_rider_and_console_pages_are_for_their_own_account_types(world):
    rider = client_for(world.rider.user)
    assert rider.get(reverse("points:ledger")).status_code == 403
    assert client_for(world.community_staff).get(reverse("points:rider_points")).status_code == 403
    staff = client_for(world.community_staff)
    assert staff.get(reverse("points:posting_reverse", args=[1])).status_code == 405
