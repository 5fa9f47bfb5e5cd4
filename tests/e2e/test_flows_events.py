"""Flow: a rider signs up for an event on a phone; at the venue, staff put up the event's
rotating check-in QR code (the console's check-in screen) and the rider "scans" it, i.e. opens
the URL the code holds in the phone's browser, and checks in; attendance points arrive once."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.helpers import t, watched
from tests.events.builders import attendance_rule, make_event
from yizhan.core.qr import qr_svg
from yizhan.events import services
from yizhan.events.choices import CheckInMethod, PointsStatus, SignupStatus
from yizhan.events.models import Signup
from yizhan.points.selectors import balance_of

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

POINTS = 10


def test_a_rider_signs_up_and_checks_in_by_the_event_qr_code(world, password, new_context, shot):
    attendance_rule(world, POINTS)
    event = make_event(world, capacity=5)  # starts in 30 minutes: check-in is open
    balance_before = balance_of(world.rider.user)
    rider = new_context(phone=True).new_page()
    staff = new_context(phone=False).new_page()
    problems = watched(rider, staff, shot=shot)
    look = problems.look

    # 1. The rider finds the event among those coming up and signs up.
    log_in(rider, "13812341234", password, expect=r"/rider/")
    rider.goto("/events/")
    card = rider.locator(f"#event-{event.pk}")
    expect(card).to_contain_text(event.title)
    look(rider, "1-events")
    card.get_by_role("link", name=event.title).click()
    rider.wait_for_url(re.compile(rf"/events/{event.pk}/$"))
    rider.get_by_role("button", name=t("Sign up"), exact=True).click()
    expect(rider.locator("ul.messages")).to_contain_text(event.title)
    expect(rider.locator("main h2").first).to_have_text(str(SignupStatus.CONFIRMED.label))
    expect(rider.locator("[data-testid=code]")).to_have_text(re.compile(r"^\d{6}$"))
    look(rider, "2-signed-up")
    signup = Signup.objects.get(event=event, user=world.rider.user)
    assert signup.status == SignupStatus.CONFIRMED and signup.checked_in_at is None

    # 2. At the venue, staff open the event's check-in screen: the rotating QR code, and the
    #    address it holds beside it.
    log_in(staff, "staff_a1", password, expect=r"/console/")
    staff.get_by_role("link", name=t("Events"), exact=True).first.click()
    staff.get_by_role("link", name=event.title).click()
    staff.wait_for_url(re.compile(rf"/console/events/{event.pk}/$"))
    expect(staff.locator("table.list")).to_contain_text(world.rider.user.name)
    staff.get_by_role("link", name=t("Check-in screen")).click()
    staff.wait_for_url(re.compile(rf"/console/events/{event.pk}/checkin/$"))
    box = staff.locator("#event-code")
    expect(box.locator("svg")).to_have_count(1)
    link = box.get_by_role("link")
    qr_url = link.get_attribute("href")
    assert link.inner_text() == qr_url
    # The QR code on the screen holds exactly that address (the same symbol, module by module).
    drawn = re.findall(r' d="([^"]+)"', qr_svg(qr_url))
    assert [p.get_attribute("d") for p in box.locator("svg path").all()] == drawn
    assert re.fullmatch(rf"http://[^/]+/events/{event.pk}/checkin/[^/]+/", qr_url), qr_url
    # The code is the current one (or, across a window's edge, the one before: still valid).
    token = qr_url.rstrip("/").rsplit("/", 1)[1]
    window = services.qr_window()
    assert token in {services.qr_token(event, window), services.qr_token(event, window - 1)}
    look(staff, "3-check-in-screen")

    # 3. The rider scans it: the phone opens the address, and one tap checks in.
    rider.goto(qr_url)
    expect(rider.locator("h1")).to_contain_text(event.title)
    look(rider, "4-scanned")
    rider.get_by_role("button", name=t("Check in now")).click()
    expect(rider.locator("h1")).to_have_text(t("You are checked in"))
    expect(rider.locator("main")).to_contain_text(str(PointsStatus.PAID.label))
    look(rider, "5-checked-in")
    signup.refresh_from_db()
    assert signup.checked_in_at is not None and signup.check_in_method == CheckInMethod.QR
    assert signup.points_status == PointsStatus.PAID

    # A second scan says so, and pays nothing more.
    rider.goto(qr_url)
    rider.get_by_role("button", name=t("Check in now")).click()
    expect(rider.locator("h1")).to_have_text(t("You had already checked in"))
    look(rider, "6-scanned-again")
    rider.get_by_role("link", name=t("Back to the event")).click()
    expect(rider.locator("p.notice.success")).to_contain_text(str(PointsStatus.PAID.label))

    # 4. Staff see the attendance; the rider's points rose by the rule's amount, once.
    staff.reload()
    expect(staff.locator("main")).to_contain_text(
        t("%(n)s of %(cap)s signed up have checked in.") % {"n": 1, "cap": 1}
    )
    staff.get_by_role("link", name=t("Sign-ups and attendance")).click()
    row = staff.locator("table.list tbody tr", has_text=world.rider.user.name)
    expect(row).to_contain_text(str(CheckInMethod.QR.label))
    expect(row).to_contain_text(str(PointsStatus.PAID.label))
    look(staff, "7-attendance")
    rider.goto("/rider/points/")
    expect(rider.locator("[data-testid=balance]")).to_have_text(str(balance_before + POINTS))
    attended = t("Attended: %(event)s") % {"event": event.title}
    expect(rider.locator("tr[id^=posting-]", has_text=attended)).to_have_count(1)
    look(rider, "8-rider-points")
    assert balance_of(world.rider.user) == balance_before + POINTS
    problems.check()
