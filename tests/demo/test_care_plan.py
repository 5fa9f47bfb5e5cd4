"""The care and service plan (pure Python): events and the hand-out, duties, wishes, appeals with
the joint meeting, and the year's 清远骑士."""

from collections import Counter

from yizhan.demo import care_plan as cp
from yizhan.demo import data
from yizhan.demo import points_plan as pp
from yizhan.demo import reports_plan as rp
from yizhan.demo.generate import build_plan
from yizhan.duties.choices import KIND_POSTS


def plan() -> cp.CarePlan:
    return cp.build_care_plan()


def riders():
    return {r.key: r for r in build_plan().riders}


def test_the_plan_is_the_same_on_every_build():
    assert cp.build_care_plan.__wrapped__() == cp.build_care_plan()


def test_seven_events_held_with_the_rider_festival_and_its_hand_out_and_two_to_come():
    events = plan().events
    held = [e for e in events if not e.upcoming]
    assert len(held) == 7 and len([e for e in events if e.upcoming]) == 2
    kinds = {e.kind for e in held}
    assert kinds >= {"rider_festival", "free_clinic", "anti_fraud", "traffic_safety", "skills"}
    assert kinds >= {"jobs", "care_visit"}
    festival = next(e for e in held if e.kind == "rider_festival")
    handout = festival.handout
    assert handout is not None and "夏送清凉" in handout.summer
    assert {"夏凉被", "小风扇", "冰袖"} <= {name for name, _stock in handout.summer_items}
    assert all(e.handout is None for e in events if e is not festival)
    # Nobody receives twice; the stock (with the restock) suffices for every receipt.
    receivers = [rider for rider, _lines in handout.receipts]
    assert len(receivers) == len(set(receivers)) and set(receivers) <= set(festival.attendees())
    for items in (handout.summer_items, handout.winter_items):
        wanted = Counter()
        for _rider, lines in handout.receipts:
            for index, quantity in lines:
                wanted[index] += quantity
        stock = [n for _name, n in items]
        stock[handout.restock[0]] += handout.restock[1]
        assert all(wanted[i] <= stock[i] for i in range(len(items)))


def test_sign_ups_wait_cancel_and_attend_within_the_rules():
    everyone = riders()
    statuses = Counter()
    for event in plan().events:
        outcome = event.outcome()
        statuses.update(outcome.values())
        steps = event.steps
        assert [s.after for s in steps] == sorted(s.after for s in steps)
        for step in steps:
            rider = everyone[step.rider]
            assert rider.status == "verified" and rider.community.startswith(event.organiser)
            if step.action in ("signup", "cancel"):
                assert step.after < event.starts_after  # before the start
            else:  # check-in opens an hour before the start and closes at the end
                assert event.starts_after - 60 <= step.after < event.starts_after + event.minutes
                assert outcome[step.rider] == "confirmed"
        if event.upcoming:
            assert not event.attendees() and len(outcome) < event.capacity
            assert data.SHOWCASE_RIDER.key not in outcome  # he can sign up himself
    assert statuses["waiting"] >= 1 and statuses["cancelled"] >= 3


def test_duties_are_logged_by_holders_of_the_post_and_thirty_helped():
    everyone = riders()
    duties = plan().duties
    for duty in duties:
        assert KIND_POSTS[duty.kind] in everyone[duty.rider].posts
        assert (duty.minutes > 0) == (duty.kind in ("patrol", "mediation"))
        assert duty.minutes <= 12 * 60
        if duty.outcome == "pending":
            assert duty.when.days_ago is not None and duty.when.days_ago <= 3
    outcomes = Counter(d.outcome for d in duties)
    assert outcomes["rejected"] == 1 and outcomes["household"] == 1 and outcomes["pending"] >= 3
    assert outcomes["verified"] > 3 * outcomes["pending"]
    help_acts = [d for d in duties if d.kind == "help" and d.outcome == "verified"]
    assert len(help_acts) >= 30 and plan().helped() >= 30
    assert {d.kind for d in duties} == {"patrol", "mediation", "help", "gift"}
    assert len({d.key for d in duties}) == len(duties)


def test_no_patrol_or_mediation_pays_beyond_the_weekly_cap():
    units = Counter()
    for duty in plan().duties:
        if duty.kind in ("patrol", "mediation") and duty.points():
            units[duty.rider] += cp.units(duty.minutes)
    # Spread over weeks anyway; but even all in one week each stays under the cap.
    assert all(n <= cp.WEEK_UNITS for n in units.values())


def test_wishes_in_every_state_and_one_open_wish_per_rider():
    wishes = plan().wishes
    states = Counter(w.outcome for w in wishes)
    assert set(states) == {
        "pending", "rejected", "withdrawn", "published", "claimed", "fulfilled", "confirmed"
    }  # fmt: skip
    assert {w.claimer for w in wishes if w.claimer} == {"volunteer", "merchant", "community_staff"}
    assert len({w.rider for w in wishes}) == len(wishes)
    everyone = riders()
    for wish in wishes:
        if wish.claimer in ("volunteer", "community_staff"):
            assert everyone[wish.rider].community == data.QYXJ  # their staff may pay her
    assert sum(w.points() for w in wishes) == cp.WISH * sum(
        1 for w in wishes if w.outcome == "confirmed" and w.claimer == "volunteer"
    )


def test_appeals_across_the_four_difficulties_and_one_meeting_with_decisions():
    appeals = plan().appeals
    assert {a.difficulty for a in appeals} == {"meal_rest", "skills", "understanding", "rights"}
    assert len({a.topic for a in appeals}) >= 5
    statuses = Counter(a.status() for a in appeals)
    assert statuses["closed"] >= 5 and statuses["routed"] >= 2 and statuses["submitted"] == 1
    assert sum(a.anonymous for a in appeals) == 1
    assert sum(a.overdue() for a in appeals) >= 1
    assert any(s.kind == "rate" and s.stars <= 2 for a in appeals for s in a.steps)
    bodies = {b.key for b in cp.BODIES} | {d.key for d in data.DEPARTMENTS}
    assert {s.body for a in appeals for s in a.steps if s.kind == "route"} <= bodies
    meeting = plan().meeting
    agenda = {a.key for a in appeals if a.agenda}
    assert len(agenda) >= 2
    assert all(a.status() != "closed" for a in appeals if a.agenda)  # unresolved at the meeting
    decisions = meeting.decisions
    assert sum(d.done for d in decisions) == 1 and sum(not d.done for d in decisions) >= 1
    assert all(d.owner_body or d.owner_name for d in decisions)
    assert {d.appeal for d in decisions if d.appeal} <= agenda
    assert set(meeting.bodies) <= bodies


def test_fifteen_qingyuan_knights_from_the_best_record():
    titles = {t.name: t for t in plan().titles}
    knights = titles["清远骑士"]
    approved = [n.rider for n in knights.nominations if n.outcome == "approved"]
    assert knights.quota == len(approved) == 15
    assert set(approved) == set(pp.ranking().top15)
    # The one turned down is decided before the fifteenth takes its place (the quota).
    assert knights.nominations[0].outcome == "rejected" and knights.nominations[0].rejection
    pending = [n for t in titles.values() for n in t.nominations if n.outcome == "pending"]
    assert 1 <= len(pending) <= titles["优秀流动网格员"].quota


def test_the_points_keep_the_ledger_totals_and_the_15th_place():
    care = plan().points()
    ranked = pp.ranking()
    reports = rp.build_reports_plan().points()
    for rider, points in care.items():
        if rider in ranked.totals:
            assert points <= ranked.totals[rider]
        else:
            assert rider not in ranked.top15
            assert points + reports.get(rider, 0) < pp.TOP_15[-1]
    assert sum(care.values()) > 0
