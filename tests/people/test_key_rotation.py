"""Rotating FIELD_ENCRYPTION_KEY from A to B: readable before, during and after; phone lookups
work throughout; rotate_field_keys is idempotent, resumable and reports unreadable rows."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.api.helpers import client_for
from tests.world import PASSWORD
from yizhan.core import crypto
from yizhan.people import security, selectors, services
from yizhan.people.models import TwoFactorDevice, User

A, B, C = "rotation-a-" + "a" * 40, "rotation-b-" + "b" * 40, "rotation-c-" + "c" * 40


@pytest.fixture
def under_a(settings, db):
    """The world built with key A (the world fixture is made after this one)."""
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_OLD_KEYS = A, []
    return settings


def run(*args) -> str:
    out, err = StringIO(), StringIO()
    call_command("rotate_field_keys", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def lookups_work(world) -> None:
    rider = world.rider.user
    assert User.objects.get(pk=rider.pk).phone == "13812341234"
    assert Client().login(username="13812341234", password=PASSWORD)  # the log-in backend
    assert security._account_for("13812341234").pk == rider.pk
    assert services._phone_taken("13812341234")
    found = selectors.riders_for_user(world.community_staff, q="13812341234")
    assert [r.pk for r in found] == [world.rider.pk]
    staff = client_for(world.community_staff)
    assert staff.get("/api/v1/riders", {"q": "13812341234"}).json()["count"] == 1


def test_rotate_from_a_to_b(under_a, world):
    device = TwoFactorDevice.objects.create(
        user=world.community_staff, secret_encrypted=crypto.encrypt("JBSWY3DPEHPK3PXP")
    )
    lookups_work(world)
    phones = User.objects.exclude(phone_encrypted="").count()
    # Deploy B with A as the old key: everything still reads and is found.
    under_a.FIELD_ENCRYPTION_KEY, under_a.FIELD_ENCRYPTION_OLD_KEYS = B, [A]
    lookups_work(world)
    assert TwoFactorDevice.objects.get(pk=device.pk).secret == "JBSWY3DPEHPK3PXP"
    # A new registration during the rotation still sees the number as taken.
    with pytest.raises(Exception) as taken:
        services.rider_register(
            name="重复", phone="13812341234", password=PASSWORD, community=world.community_a1,
            platform="jd", occupation="courier", vehicle="e_bike", work_lat=40.095,
            work_lng=113.305, consent=True,
        )  # fmt: skip
    assert getattr(taken.value, "code", "") == "phone_taken"
    with pytest.raises(CommandError, match=f"{phones + 1} rows still use an old key"):
        run("--check")
    out = run("--batch-size", "2")
    assert f"people.User.phone_encrypted: rows={phones} already_current=0 rotated={phones}" in out
    assert "people.TwoFactorDevice.secret_encrypted: rows=1 already_current=0 rotated=1" in out
    lookups_work(world)
    # Idempotent: a second run finds nothing to do.
    again = run()
    assert f"rows={phones} already_current={phones} rotated=0" in again
    assert "Every row uses the current key." in run("--check")
    # Drop A: everything still reads.
    under_a.FIELD_ENCRYPTION_OLD_KEYS = []
    lookups_work(world)
    assert TwoFactorDevice.objects.get(pk=device.pk).secret == "JBSWY3DPEHPK3PXP"
    assert all(u.phone for u in User.objects.exclude(phone_encrypted=""))


def test_a_stale_index_alone_is_rotated(under_a, world):
    """A row whose ciphertext is current but whose blind index was made with the old key."""
    under_a.FIELD_ENCRYPTION_KEY, under_a.FIELD_ENCRYPTION_OLD_KEYS = B, [A]
    user = world.rider.user
    User.objects.filter(pk=user.pk).update(phone_encrypted=crypto.encrypt("13812341234"))
    assert "people.User.phone_encrypted: rows=" in run()
    fresh = User.objects.get(pk=user.pk)
    assert fresh.phone_index == crypto.blind_index("13812341234")


def test_unreadable_row_is_reported_not_fatal(under_a, world):
    under_a.FIELD_ENCRYPTION_KEY = C
    foreign = crypto.encrypt("13999999999")
    under_a.FIELD_ENCRYPTION_KEY, under_a.FIELD_ENCRYPTION_OLD_KEYS = B, [A]
    bad = world.pending_rider.user
    User.objects.filter(pk=bad.pk).update(phone_encrypted=foreign)
    out = run()
    assert "unreadable=1" in out
    assert f"no configured key opens the rows with id {bad.pk}" in out
    assert User.objects.get(pk=bad.pk).phone_encrypted == foreign  # left alone
    assert User.objects.get(pk=world.rider.user.pk).phone == "13812341234"  # the rest rotated
    with pytest.raises(CommandError, match="0 rows still use an old key and 1 cannot be read"):
        run("--check")
    # Pages and lists do not break on it: the detail shows the stored mask.
    staff = client_for(world.community_staff)
    assert staff.get(f"/api/v1/riders/{world.pending_rider.pk}").status_code == 200


def test_interrupted_run_resumes(under_a, world, monkeypatch):
    under_a.FIELD_ENCRYPTION_KEY, under_a.FIELD_ENCRYPTION_OLD_KEYS = B, [A]
    from yizhan.people import rotation

    calls = {"n": 0}
    real = crypto.encrypt

    def flaky(value):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(value)

    monkeypatch.setattr(rotation.crypto, "encrypt", flaky)
    with pytest.raises(KeyboardInterrupt):
        run("--batch-size", "1")
    monkeypatch.setattr(rotation.crypto, "encrypt", real)
    out = run()
    assert "already_current=1" in out  # the first batch was committed before the interruption
    assert "Every row uses the current key." in run("--check")


def test_bad_batch_size():
    with pytest.raises(CommandError):
        run("--batch-size", "0")
