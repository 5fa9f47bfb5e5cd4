"""People served: QR check-ins (once per rider, station and local period) and walk-ins."""

from datetime import date, datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from yizhan.core.models import AuditEntry, IdempotencyRecord
from yizhan.stations import selectors
from yizhan.stations import services as s
from yizhan.stations.models import Station, Visit

from .test_services import TZ_SHANGHAI, create, refused  # noqa: F401


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ_SHANGHAI)


@pytest.fixture
def clock(monkeypatch):
    """Set the time services see: ``clock.set(local(2026, 9, 28, 23, 59))``."""

    class Clock:
        now = local(2026, 9, 28, 12)

        def set(self, when):
            self.now = when

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


@pytest.fixture
def station(world):
    return create(world)


def check_in(station, user, key, token=None):
    return s.visit_check_in(
        station=station, token=s.qr_token(station) if token is None else token, user=user,
        idempotency_key=key,
    )  # fmt: skip


def state():
    return (Visit.objects.count(), IdempotencyRecord.objects.count(), AuditEntry.objects.count())


def test_one_visit_per_rider_station_and_day(world, station, clock):
    rider = world.rider.user
    first = check_in(station, rider, "scan-0001")
    assert first.already is False
    assert (first.kind, first.people, first.rider, first.recorded_by) == ("scan", 1, rider, rider)
    assert first.day == date(2026, 9, 28) and first.area_code == station.area_code
    # The same rider scans again later the same day: the first visit, nothing new.
    clock.set(local(2026, 9, 28, 23, 59, 59))
    again = check_in(station, rider, "scan-0002")
    assert again.pk == first.pk and again.already is True
    assert Visit.objects.count() == 1
    # Just after local midnight (16:00 UTC): a new period, a new visit.
    clock.set(local(2026, 9, 29, 0, 0, 1))
    next_day = check_in(station, rider, "scan-0003")
    assert next_day.pk != first.pk and next_day.already is False
    assert next_day.day == date(2026, 9, 29)
    assert next_day.period == first.period + 1
    # UTC midnight (08:00 local) is not a boundary.
    clock.set(local(2026, 9, 29, 8, 0, 1))
    assert check_in(station, rider, "scan-0004").pk == next_day.pk
    # Another rider counts separately.
    other = check_in(station, world.other_rider.user, "scan-0005")
    assert other.already is False
    assert Visit.objects.count() == 3
    assert selectors.visit_totals(station) == {"people": 3, "visits": 3}


def test_the_period_is_counted_in_local_time(world, station, clock, settings):
    settings.STATION_VISIT_PERIOD_HOURS = 6  # 00–06, 06–12, 12–18, 18–24 local
    rider = world.rider.user
    clock.set(local(2026, 9, 28, 5, 59, 59))
    early = check_in(station, rider, "six-0001")
    clock.set(local(2026, 9, 28, 6, 0, 0))
    morning = check_in(station, rider, "six-0002")
    clock.set(local(2026, 9, 28, 11, 59, 59))
    same = check_in(station, rider, "six-0003")
    assert morning.pk != early.pk and same.pk == morning.pk
    assert (early.already, morning.already, same.already) == (False, False, True)
    assert morning.period == early.period + 1
    assert s.visit_period(local(2026, 9, 28, 6)) * 6 * 3600 == (
        local(2026, 9, 28, 6).timestamp() + 8 * 3600
    )


def test_a_replay_with_the_same_key_returns_the_same_visit(world, station, clock):
    rider = world.rider.user
    first = check_in(station, rider, "replay-0001")
    before = state()
    replay = check_in(station, rider, "replay-0001")
    assert replay.pk == first.pk and replay.already is True
    assert state() == before
    # The same key for another station is refused and changes nothing.
    other = create(world, name="另一站", lat=40.096)
    before = state()
    refused(lambda: check_in(other, rider, "replay-0001"), code="idempotency_key_reused",
            status=409)  # fmt: skip
    assert state() == before


@pytest.mark.parametrize("token", ["forged-token-0000000", "", None, 5, "签名错误", "A" * 500])
def test_a_forged_code_is_refused(world, station, clock, token):
    before = state()
    if token is None:
        call = lambda: s.visit_check_in(  # noqa: E731
            station=station, token=None, user=world.rider.user, idempotency_key="forged-01"
        )
    else:
        call = lambda: check_in(station, world.rider.user, "forged-01", token=token)  # noqa: E731
    refused(call, code="invalid_qr", status=400, field="token")
    assert state() == before


def test_a_code_of_another_station_is_refused(world, station, clock):
    other = create(world, name="另一站", lat=40.096)
    before = state()
    refused(lambda: check_in(station, world.rider.user, "wrong-0001", token=s.qr_token(other)),
            code="invalid_qr")  # fmt: skip
    assert state() == before


def test_after_rotation_the_old_code_fails(world, station, clock):
    old = s.qr_token(station)
    check_in(station, world.rider.user, "rot-00001", token=old)
    s.station_qr_rotate(station=station, actor=world.community_staff)
    fresh = Station.objects.get(pk=station.pk)
    before = state()
    refused(lambda: check_in(fresh, world.other_rider.user, "rot-00002", token=old),
            code="invalid_qr")  # fmt: skip
    assert state() == before
    assert check_in(fresh, world.other_rider.user, "rot-00003").already is False


def test_a_printed_code_survives_a_field_key_rotation(world, station, clock, settings):
    """A poster signed under the key being rotated out still checks in; once the old key is
    dropped it does not, and new codes are signed with the current key."""
    settings.FIELD_ENCRYPTION_KEY = "old-field-key-" + "o" * 40
    printed = s.qr_token(station)
    settings.FIELD_ENCRYPTION_KEY = "new-field-key-" + "n" * 40
    settings.FIELD_ENCRYPTION_OLD_KEYS = ["old-field-key-" + "o" * 40]
    assert s.qr_token(station) != printed
    assert check_in(station, world.rider.user, "keyrot-0001", token=printed).already is False
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    refused(lambda: check_in(station, world.other_rider.user, "keyrot-0002", token=printed),
            code="invalid_qr")  # fmt: skip


def test_a_suspended_station_takes_no_check_ins(world, station, clock):
    s.station_update(station=station, actor=world.community_staff, status="suspended")
    station.refresh_from_db()
    before = state()
    error = refused(lambda: check_in(station, world.rider.user, "susp-0001"),
                    code="station_suspended", status=409)  # fmt: skip
    assert station.name in str(error.message)
    assert state() == before


@pytest.mark.parametrize("who", ["merchant", "community_staff", "street_admin", "anonymous"])
def test_only_riders_check_in(world, station, clock, who):
    user = world.account(who) or AnonymousUser()
    before = state()
    error = refused(lambda: check_in(station, user, "who-00001"),
                    status=401 if who == "anonymous" else 403)  # fmt: skip
    if who != "anonymous":
        assert error.code == "not_a_rider"
    assert state() == before


@pytest.mark.parametrize("key", ["short", "", None, "has space in it", "x" * 101])
def test_a_bad_idempotency_key(world, station, clock, key):
    before = state()
    refused(lambda: check_in(station, world.rider.user, key), code="invalid_idempotency_key")
    assert state() == before


# --- walk-ins ------------------------------------------------------------------------------------


@pytest.fixture
def corner(world):
    return create(world, name="小店爱心角", kind="corner", lat=40.096, lng=113.315,
                  merchant=world.merchant)  # fmt: skip


def test_walk_ins_by_the_host_and_by_staff(world, corner, clock):
    visit = s.visit_walk_in(station=corner, people=3, actor=world.merchant, note="三位小哥充电")
    assert (visit.kind, visit.people, visit.rider, visit.period) == ("walk_in", 3, None, None)
    assert visit.recorded_by == world.merchant and visit.day == date(2026, 9, 28)
    assert visit.note == "三位小哥充电"
    s.visit_walk_in(station=corner, people=s.MAX_WALK_IN, actor=world.community_staff)
    # Walk-ins are not limited to one a period.
    s.visit_walk_in(station=corner, people=1, actor=world.merchant)
    assert AuditEntry.objects.filter(action="station.walk_in").count() == 3
    assert selectors.visit_totals(corner) == {"people": 504, "visits": 3}
    served = selectors.people_served(Station.objects.filter(pk=corner.pk))
    assert served == {corner.pk: 504}


def test_a_walk_in_with_a_key_is_recorded_once(world, corner, clock):
    first = s.visit_walk_in(
        station=corner, people=2, actor=world.merchant, idempotency_key="walk-0001"
    )
    before = state()
    again = s.visit_walk_in(
        station=corner, people=2, actor=world.merchant, idempotency_key="walk-0001"
    )
    assert again.pk == first.pk and state() == before
    refused(lambda: s.visit_walk_in(station=corner, people=5, actor=world.merchant,
                                    idempotency_key="walk-0001"), status=409)  # fmt: skip
    assert state() == before


@pytest.mark.parametrize("people", [0, -1, s.MAX_WALK_IN + 1, 2.5, "3", True, None])
def test_walk_in_bounds(world, corner, clock, people):
    before = state()
    refused(lambda: s.visit_walk_in(station=corner, people=people, actor=world.merchant),
            field="people")  # fmt: skip
    assert state() == before


@pytest.mark.parametrize("who", ["rider", "other_community_staff"])
def test_walk_ins_refused_for_others(world, corner, clock, who):
    before = state()
    refused(lambda: s.visit_walk_in(station=corner, people=1, actor=world.account(who)),
            status=403)  # fmt: skip
    assert state() == before


def test_people_served_per_station_and_period(world, corner, station, clock):
    check_in(station, world.rider.user, "served-001")
    s.visit_walk_in(station=corner, people=4, actor=world.merchant)
    clock.set(local(2026, 9, 30, 9))
    check_in(station, world.rider.user, "served-002")
    s.visit_walk_in(station=station, people=2, actor=world.community_staff)
    both = Station.objects.filter(pk__in=[station.pk, corner.pk])
    assert selectors.people_served(both) == {station.pk: 4, corner.pk: 4}
    assert selectors.people_served(both, since=date(2026, 9, 29)) == {station.pk: 3}
    assert selectors.people_served(both, until=date(2026, 9, 28)) == {station.pk: 1, corner.pk: 4}
    assert selectors.visit_totals(station, since=date(2026, 9, 30)) == {"people": 3, "visits": 2}


# --- a check-in scanned offline and sent later (the phone's outbox) ---------------------------


def scanned(station, user, key, at):
    return s.visit_check_in(
        station=station, token=s.qr_token(station), user=user, idempotency_key=key, scanned_at=at
    )


def test_an_offline_scan_counts_for_the_day_it_was_scanned(world, station, clock):
    rider = world.rider.user
    clock.set(local(2026, 9, 29, 7, 30))  # sent at 07:30 the next morning
    visit = scanned(station, rider, "offline-0001", local(2026, 9, 28, 22, 15))
    assert visit.already is False and visit.day == date(2026, 9, 28)
    # Scanning again the same morning is a new period: another visit.
    assert check_in(station, rider, "scan-0002").day == date(2026, 9, 29)
    assert Visit.objects.count() == 2


def test_an_offline_scan_too_old_is_refused_with_a_message(world, station, clock, settings):
    settings.STATION_OFFLINE_CHECK_IN_HOURS = 24
    clock.set(local(2026, 9, 30, 12))
    before = state()
    exc = refused(
        lambda: scanned(station, world.rider.user, "offline-0002", local(2026, 9, 29, 11, 59))
    )
    assert exc.status == 400 and exc.code == "check_in_too_old" and "24" in str(exc.message)
    assert state() == before


def test_a_scan_time_ahead_of_ours_counts_as_now(world, station, clock):
    clock.set(local(2026, 9, 28, 23, 59))
    visit = scanned(station, world.rider.user, "offline-0003", local(2026, 9, 29, 0, 30))
    assert visit.day == date(2026, 9, 28)


def test_the_check_in_page_refuses_a_scan_time_that_is_not_a_time(world, station):
    from tests.api.helpers import client_for

    url = f"/s/{station.pk}/{s.qr_token(station)}/"
    response = client_for(world.rider.user).post(
        url, {"idempotency_key": "offline-0004", "scanned_at": "not-a-time"}
    )
    assert response.status_code == 400
    assert "扫码时间" in response.content.decode()
    assert not Visit.objects.exists()
