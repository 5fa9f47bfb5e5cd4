"""The rider's home page shows what is next for them: one card per app (``core.home``).

Pages are read in English so the assertions hold whatever the maintainers translate.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.api.helpers import client_for
from tests.appeals.builders import bodies, raise_appeal
from tests.duties.builders import hold, key, patrol
from tests.events.builders import make_event
from tests.honours.builders import knight, nominate
from tests.reports.builders import build_given, submit
from tests.wishes import builders as wb
from tests.world import make_rider
from yizhan.appeals.services import appeal_answer, appeal_route
from yizhan.core import home
from yizhan.duties.services import duty_log
from yizhan.events.services import signup_create
from yizhan.honours.services import nomination_approve

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}
TITLES = ("My events", "My duties", "My wishes", "My appeals", "My reports", "My honours")
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def home_page(user) -> str:
    response = client_for(user).get(reverse("people:rider_home"), headers=EN)
    assert response.status_code == 200
    return response.content.decode()


def heading(title: str) -> str:
    """A card's heading (the navigation links to some of the same pages by the same name)."""
    return f'-h">{title}'


def href(name: str, *args) -> str:
    return f'href="{reverse(name, args=args)}"'


# --- what a rider has --------------------------------------------------------------------------


def signed_up_event(world, user, *, title="交通安全培训", organiser=None, actor=None, days=1):
    event = make_event(
        world,
        title=title,
        organiser=organiser,
        actor=actor,
        starts_in=timedelta(days=days, minutes=next(_seq)),
    )
    signup_create(event=event, user=user)
    return event


def fulfilled_wish(world, claimer, rider=None, text="想要一个新头盔"):
    return wb.fulfilled(world, claimer, rider, text=text)


def answered_appeal(world, made, user, text="社保断缴"):
    appeal = appeal_route(
        appeal=raise_appeal(user, text=text),
        actor=world.community_staff,
        body=made["union"],
        days=5,
    )
    return appeal_answer(appeal=appeal, actor=made["handler"], text="已协调补缴")


def open_report(g, reporter, n: int):
    # Each report somewhere else in the A1 west grid, with its own photo.
    return submit(g, reporter=reporter, at=(40.091 + n * 0.001, 113.301 + n * 0.0005))


def honour(world, rider, name="清远骑士"):
    nomination = nominate(world, knight(world, name=name), rider)
    return nomination_approve(nomination=nomination, actor=world.street_admin)


@pytest.fixture
def lot(world, tmp_path):
    """The rider has one of everything; a second rider of A1 has the same, which the rider must
    never see."""
    made = bodies(world)
    g = build_given(world, tmp_path)
    volunteer = wb.volunteer(world)
    rider, user = world.rider, world.rider.user
    second = make_rider(
        world.community_a1, "13600000055", "钱二", lat=40.095, lng=113.305,
        verify_by=world.community_staff,
    )  # fmt: skip
    mine = {
        "event": signed_up_event(world, user),
        "wish": fulfilled_wish(world, volunteer),
        "appeal": answered_appeal(world, made, user),
        "duty": patrol(world),
        "report": open_report(g, user, 1),
        "honour": honour(world, rider),
    }
    hold(world, world.post, second)
    theirs = {
        "event": signed_up_event(world, second.user, title="别人的活动", days=2),
        "wish": fulfilled_wish(world, volunteer, second.user, text="别人的心愿"),
        "appeal": answered_appeal(world, made, second.user, text="别人的诉求"),
        "duty": duty_log(
            actor=second.user,
            post=world.post,
            kind="patrol",
            place="别人的巡查点",
            started_at=timezone.now() - timedelta(hours=5),
            ended_at=timezone.now() - timedelta(hours=4),
            idempotency_key=key(),
        ),  # fmt: skip
        "report": open_report(g, second.user, 2),
        "honour": honour(world, second, name="优秀骑手"),
    }
    return {"mine": mine, "theirs": theirs, "second": second}


# --- the page ----------------------------------------------------------------------------------


def test_a_busy_rider_sees_a_card_for_each_thing_with_the_right_links(world, lot):
    mine = lot["mine"]
    page = home_page(world.rider.user)
    # Each card, in the registered order, with its heading and its "see all" link.
    positions = [page.index(heading(title)) for title in TITLES]
    assert positions == sorted(positions)
    for name in (
        "events:mine", "duties:mine", "wishes:mine", "appeals:mine", "reports:mine",
        "honours:mine",
    ):  # fmt: skip
        assert href(name) in page
    # Six action cards, and the nearest station's (a search around the rider).
    assert page.count(">See all</a>") == 7
    # Events: the signed-up event, its time and the sign-up's status.
    assert href("events:detail", mine["event"].pk) in page
    assert ">交通安全培训</a>" in page and "Signed up" in page
    # Wishes: the fulfilled wish asks to be confirmed.
    assert href("wishes:detail", mine["wish"].pk) in page
    assert "Fulfilled: please confirm" in page
    # Appeals: the answered appeal asks to be rated.
    assert href("appeals:detail", mine["appeal"].pk) in page
    assert "Answered: please rate the answer" in page
    # Duties: the rider holds a post: log a duty, one awaiting verification.
    assert href("duties:log") in page and ">Log a duty</a>" in page
    assert "1 duty awaiting verification" in page
    assert '<span class="badge pending">1</span>' in page
    # Reports: the open report with its status.
    assert href("reports:detail", mine["report"].pk) in page
    # Honours: the title held this year.
    assert f"清远骑士 · {timezone.localdate().year}" in page


def test_other_riders_things_never_appear(world, lot):
    theirs = lot["theirs"]
    page = home_page(world.rider.user)
    assert href("events:detail", theirs["event"].pk) not in page
    assert href("wishes:detail", theirs["wish"].pk) not in page
    assert href("appeals:detail", theirs["appeal"].pk) not in page
    assert href("reports:detail", theirs["report"].pk) not in page
    for text in ("别人的活动", "别人的心愿", "别人的诉求", "优秀骑手"):
        assert text not in page
    assert "2 duties awaiting verification" not in page  # only the rider's own one counts
    # And the other way round.
    other = home_page(lot["second"].user)
    assert href("events:detail", lot["mine"]["event"].pk) not in other
    assert href("wishes:detail", lot["mine"]["wish"].pk) not in other
    assert href("appeals:detail", lot["mine"]["appeal"].pk) not in other
    assert href("reports:detail", lot["mine"]["report"].pk) not in other
    assert "别人的活动" in other and "优秀骑手" in other


def test_a_rider_with_nothing_sees_no_empty_cards(world):
    page = home_page(world.other_rider.user)
    for title in (*TITLES, "Events near me"):
        assert heading(title) not in page
    # What matters now is always there: the balance, and the nearest open station (none here).
    assert heading("My points") in page and ">0 points</a>" in page
    assert heading("Nearest open station") in page
    assert "None open near your work area now: search around you" in page
    assert page.count(">See all</a>") == 1  # the nearby search
    assert "Log a duty" not in page


def test_without_a_sign_up_the_next_event_near_the_rider_is_offered(world):
    later = make_event(world, title="反诈宣传", kind="anti_fraud", starts_in=timedelta(days=3))
    sooner = make_event(world, title="义诊", kind="free_clinic", starts_in=timedelta(days=1))
    make_event(
        world, title="乙街道的活动", organiser=world.street_b, actor=world.district_admin,
        starts_in=timedelta(hours=2),
    )  # fmt: skip
    page = home_page(world.rider.user)
    assert heading("Events near me") in page and heading("My events") not in page
    assert href("events:detail", sooner.pk) in page and href("events:list") in page
    assert href("events:detail", later.pk) not in page
    assert "乙街道的活动" not in page
    # Once signed up, the card is the rider's own events.
    signup_create(event=later, user=world.rider.user)
    page = home_page(world.rider.user)
    assert heading("My events") in page and heading("Events near me") not in page
    assert href("events:detail", later.pk) in page and href("events:detail", sooner.pk) not in page


def test_closed_and_rated_things_leave_the_cards(world, tmp_path):
    """A rated appeal, a withdrawn wish and a closed report need nothing more from the rider."""
    from tests.reports.builders import advance
    from yizhan.appeals.services import appeal_rate
    from yizhan.wishes.services import wish_withdraw

    made = bodies(world)
    g = build_given(world, tmp_path)
    user = world.rider.user
    appeal_rate(appeal=answered_appeal(world, made, user), actor=user, stars=5)
    wish_withdraw(wish=wb.post(world), actor=user)
    advance(g, open_report(g, user, 3), "closed")
    page = home_page(user)
    for title in ("My appeals", "My wishes", "My reports"):
        assert heading(title) not in page


# --- the cost ------------------------------------------------------------------------------------


def test_the_home_page_costs_the_same_however_much_the_rider_has(world, settings, tmp_path):
    settings.WISH_MAX_OPEN = 20
    made = bodies(world)
    g = build_given(world, tmp_path)
    volunteer = wb.volunteer(world)
    rider, user = world.rider, world.rider.user
    client = client_for(user)

    def add(n: int, *, first: int) -> None:
        for i in range(first, first + n):
            signed_up_event(world, user, title=f"活动{i}", days=i + 1)
            fulfilled_wish(world, volunteer, text=f"心愿{i}")
            wb.post(world, text=f"待审心愿{i}")
            answered_appeal(world, made, user, text=f"诉求{i}")
            raise_appeal(user, text=f"新诉求{i}")
            patrol(world, hours_ago=3 * i + 3)
            open_report(g, user, i)
            honour(world, rider, name=f"称号{i}")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("people:rider_home"), headers=EN)
        assert response.status_code == 200
        return len(queries)

    add(1, first=0)
    count()  # warm up: the session, caches
    few = count()
    add(5, first=1)
    many = count()
    assert many == few, f"{few} queries with one of each, {many} with six"
    page = client.get(reverse("people:rider_home"), headers=EN).content.decode()
    assert "6 duties awaiting verification" in page
    for title in TITLES:
        assert heading(title) in page


# --- the registry ------------------------------------------------------------------------------


def test_cards_come_in_order_and_empty_ones_are_left_out(monkeypatch):
    monkeypatch.setattr(home, "_cards", {})
    home.register_card("late", 20, lambda user: home.Card("Late", [home.Item("b", "/b/")]))
    home.register_card("none", 5, lambda user: None)
    home.register_card("empty", 1, lambda user: home.Card("Empty", [], "/all/"))
    home.register_card("early", 10, lambda user: home.Card("Early", [home.Item("a", "/a/", "x")]))
    assert home.registered() == ["empty", "none", "early", "late"]
    assert [card.title for card in home.cards_for(object())] == ["Early", "Late"]
    # Registering a name again replaces it (``ready()`` may run more than once).
    home.register_card("late", 0, lambda user: None)
    assert [card.title for card in home.cards_for(object())] == ["Early"]


def test_every_app_registers_its_card():
    assert home.registered() == [
        "points", "stations", "events", "duties", "wishes", "appeals", "reports", "honours",
    ]  # fmt: skip


def test_the_nearest_open_station_and_the_balance_come_first(world):
    from tests.world import station_objects

    made = station_objects(world)  # the station opens 08:00-22:00, the corner round the clock
    page = home_page(world.rider.user)
    assert page.index(heading("My points")) < page.index(heading("Nearest open station"))
    shown = [s for s in (made["station"], made["corner"]) if href("stations:detail", s.pk) in page]
    assert len(shown) == 1 and shown[0].name in page
    assert href("points:rider_points") in page and href("rewards:shop") in page
    assert 'class="quick"' in page and href("reports:new") in page
