"""Accounts and sessions: Argon2, log-in lockout, staff unlocking, two-factor log-in (TOTP with
recovery codes) and scoped, expiring, revocable API tokens."""

import base64
import hashlib
import hmac
import re
import struct
import time
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.api.helpers import call, client_for
from tests.world import PASSWORD
from yizhan.core.errors import ApplicationError
from yizhan.core.models import AuditEntry
from yizhan.people import security, services
from yizhan.people.models import ApiToken, RecoveryCode, TwoFactorDevice, User

LOGIN = "/login/"


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 (HMAC-SHA1, 30-second steps, 6 digits), written here independently of pyotp."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    step = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


@pytest.fixture
def lockout(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_WINDOW = 600
    settings.LOGIN_LOCKOUT_SECONDS = 900
    settings.LOGIN_IP_FAILURE_LIMIT = 100


def message(response) -> str:
    """The form's error message on the log-in page."""
    found = re.search(r'<ul class="errorlist nonfield">(.*?)</ul>', response.content.decode(), re.S)
    return found.group(1) if found else ""


def log_in(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


# --- Argon2 ------------------------------------------------------------------------------------


def test_argon2_is_the_hasher_and_older_hashes_still_work(settings, world):
    from yizhan.config.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in base.PASSWORD_HASHERS
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    user = world.community_staff
    # An account stored before the switch: PBKDF2, upgraded to Argon2 at its next log-in.
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    response = log_in(Client(), "staff_a1", PASSWORD)
    assert response.status_code == 302
    stored = User.objects.get(pk=user.pk).password
    assert identify_hasher(stored).algorithm == "argon2"
    assert check_password(PASSWORD, stored)


# --- lockout -----------------------------------------------------------------------------------


def test_failed_log_ins_lock_the_account_with_when_to_try_again(world, lockout):
    client = Client()
    for _ in range(2):
        response = log_in(client, "13812341234", "wrong-password")
        assert response.status_code == 400
    response = log_in(client, "13812341234", "wrong-password")
    assert response.status_code == 429
    assert 800 <= int(response["Retry-After"]) <= 901
    assert "try again after" in response.content.decode() or "之后" in response.content.decode()
    user = User.objects.get(pk=world.rider.user.pk)
    assert user.locked_until is not None and user.locked_until > timezone.now()
    entry = AuditEntry.objects.get(action="account.locked")
    assert entry.target_id == str(user.pk)
    assert entry.area_code == user.area_code  # the community's staff see it in their log
    # Even the right password is refused while locked, and does not unlock it.
    assert log_in(client, "13812341234", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_counts_the_account_whichever_name_is_typed(world, lockout):
    client = Client()
    username = world.rider.user.username
    log_in(client, "13812341234", "wrong")
    log_in(client, username, "wrong")
    assert log_in(client, "138 1234 1234", "wrong").status_code == 429


def test_an_unknown_account_gets_the_same_answers(world, lockout):
    known, unknown = Client(), Client()
    for attempt in range(3):
        a = log_in(known, "13812341234", "wrong")
        b = log_in(unknown, "13999999999", "wrong")
        assert a.status_code == b.status_code == (429 if attempt == 2 else 400)
        assert message(a) == message(b) != ""
    assert AuditEntry.objects.filter(action="login.name_locked").count() == 1


def test_a_right_log_in_clears_the_failures(world, lockout):
    client = Client()
    log_in(client, "13812341234", "wrong")
    log_in(client, "13812341234", "wrong")
    assert log_in(client, "13812341234", PASSWORD).status_code == 302
    client.post(reverse("people:logout"))
    assert log_in(client, "13812341234", "wrong").status_code == 400  # counting from zero


def test_too_many_failures_from_one_address_block_it(world, settings, lockout):
    settings.LOGIN_IP_FAILURE_LIMIT = 4
    client = Client(REMOTE_ADDR="198.51.100.7")
    for name in ["a1", "a2", "a3"]:
        assert log_in(client, name, "wrong").status_code == 400
    assert log_in(client, "a4", "wrong").status_code == 429
    assert log_in(client, "13812341234", PASSWORD).status_code == 429  # the address, whoever
    assert log_in(Client(REMOTE_ADDR="198.51.100.8"), "13812341234", PASSWORD).status_code == 302
    assert AuditEntry.objects.get(action="login.address_blocked").target_id == "198.51.100.7"


def test_the_api_token_endpoint_and_the_back_office_share_the_lock(world, lockout):
    api = Client()
    body = {"username": "staff_a1", "password": "wrong"}
    assert call(api, "POST", "/api/v1/auth/token", body).status_code == 401
    assert call(api, "POST", "/api/v1/auth/token", body).status_code == 401
    answer = call(api, "POST", "/api/v1/auth/token", body)
    assert answer.status_code == 429
    assert answer.json()["code"] == "account_locked"
    assert int(answer["Retry-After"]) > 0
    admin = Client().post("/admin/login/", {"username": "staff_a1", "password": PASSWORD})
    assert admin.status_code == 200  # the form again, with the lockout message
    assert "_auth_user_id" not in admin.client.session


def test_staff_unlock_from_the_riders_page(world, lockout):
    for _ in range(3):
        log_in(Client(), "13812341234", "wrong")
    rider_user = world.rider.user
    staff = client_for(world.community_staff)
    page = staff.get(reverse("people:rider_detail", args=[world.rider.pk]))
    assert reverse("people:account_unlock", args=[rider_user.pk]) in page.content.decode()
    other = client_for(world.other_community_staff)
    refused = other.post(reverse("people:account_unlock", args=[rider_user.pk]))
    assert refused.status_code == 404
    assert User.objects.get(pk=rider_user.pk).locked_until is not None
    done = staff.post(reverse("people:account_unlock", args=[rider_user.pk]))
    assert done.status_code == 302
    assert User.objects.get(pk=rider_user.pk).locked_until is None
    assert log_in(Client(), "13812341234", PASSWORD).status_code == 302
    entry = AuditEntry.objects.get(action="account.unlocked")
    assert entry.actor_id == world.community_staff.pk


def test_unlock_in_the_back_office(world, lockout):
    for _ in range(3):
        log_in(Client(), "staff_a2", "wrong")
    target = world.other_community_staff
    client = client_for(world.street_admin)
    response = client.post(
        reverse("admin:people_user_changelist"),
        {"action": "unlock", "_selected_action": [target.pk]},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=target.pk).locked_until is None
    assert log_in(Client(), "staff_a2", PASSWORD).status_code == 302


# --- two-factor log-in -------------------------------------------------------------------------


def enrol(user) -> tuple[str, list[str]]:
    device = security.two_factor_begin(user=user)
    codes = security.two_factor_confirm(user=user, code=totp(device.secret))
    return device.secret, codes


def test_enrolment_page_shows_a_qr_code_and_turns_it_on_with_a_real_code(world):
    staff = world.community_staff
    client = client_for(staff)
    page = client.get(reverse("people:two_factor_enrol"))
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.content.decode()
    secret = page.context["secret"]
    wrong = client.post(reverse("people:two_factor_enrol"), {"code": "000000"})
    assert wrong.status_code == 400
    assert not User.objects.get(pk=staff.pk).two_factor_enabled
    done = client.post(reverse("people:two_factor_enrol"), {"code": totp(secret)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert User.objects.get(pk=staff.pk).two_factor_enabled
    # Hashed at rest: neither the codes nor the secret are stored in clear.
    stored = set(RecoveryCode.objects.filter(user=staff).values_list("code_hash", flat=True))
    assert not stored & {c.replace("-", "") for c in codes} and len(stored) == 10
    assert secret not in TwoFactorDevice.objects.get(user=staff).secret_encrypted
    assert AuditEntry.objects.filter(action="two_factor.enabled", target_id=str(staff.pk)).exists()


def test_log_in_asks_for_the_code_and_nothing_else_is_reachable_before_it(world):
    secret, _codes = enrol(world.community_staff)
    client = Client()
    response = log_in(client, "staff_a1", PASSWORD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("people:two_factor_verify"))
    fenced = client.get(reverse("people:console"))
    assert fenced.status_code == 302
    assert fenced["Location"].startswith(reverse("people:two_factor_verify"))
    api = client.get("/api/v1/me")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"
    assert client.get("/admin/").status_code == 302
    wrong = client.post(reverse("people:two_factor_verify"), {"code": "123456"})
    assert wrong.status_code == 400
    # The enrolment used this 30 seconds' code (each is good once): the next one, which is
    # accepted for clock drift.
    ok = client.post(
        reverse("people:two_factor_verify"),
        {"code": totp(secret, time.time() + 30), "next": reverse("people:riders")},
    )
    assert ok.status_code == 302 and ok["Location"] == reverse("people:riders")
    assert client.get(reverse("people:console")).status_code == 200
    assert client.get("/api/v1/me").status_code == 200


def test_a_code_is_good_once(world):
    secret, _codes = enrol(world.community_staff)
    later = time.time() + 60  # the enrolment used the current step
    user = User.objects.get(pk=world.community_staff.pk)
    assert security.two_factor_verify(user=user, code=totp(secret, later), at=later) == "totp"
    with pytest.raises(ApplicationError) as caught:
        security.two_factor_verify(user=user, code=totp(secret, later), at=later)
    assert getattr(caught.value, "code", "") == "wrong_code"


def test_a_recovery_code_logs_in_once(world):
    _secret, codes = enrol(world.community_staff)
    client = Client()
    log_in(client, "staff_a1", PASSWORD)
    ok = client.post(reverse("people:two_factor_verify"), {"code": codes[0].upper()})
    assert ok.status_code == 302
    assert client.get(reverse("people:console")).status_code == 200
    again = Client()
    log_in(again, "staff_a1", PASSWORD)
    assert again.post(reverse("people:two_factor_verify"), {"code": codes[0]}).status_code == 400
    assert security.recovery_codes_left(world.community_staff) == 9
    assert AuditEntry.objects.filter(action="two_factor.recovery_used").count() == 1


def test_code_tries_are_limited(world, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "two_factor": "3/15m"}
    enrol_at = time.time()
    enrol(world.community_staff)
    client = Client()
    log_in(client, "staff_a1", PASSWORD)
    statuses = [
        client.post(reverse("people:two_factor_verify"), {"code": "000000"}).status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 429]  # the enrolment's own code was the first try
    assert enrol_at


def test_required_roles_are_sent_to_enrolment_first(world, settings):
    settings.YIZHAN_REQUIRE_2FA_ROLES = ["admin"]
    client = Client()
    response = log_in(client, "admin_a", PASSWORD)
    assert response["Location"].startswith(reverse("people:two_factor_enrol"))
    assert client.get(reverse("people:console"))["Location"].startswith(
        reverse("people:two_factor_enrol")
    )
    page = client.get(reverse("people:two_factor_enrol"))
    done = client.post(reverse("people:two_factor_enrol"), {"code": totp(page.context["secret"])})
    assert done.status_code == 200
    assert client.get(reverse("people:console")).status_code == 200
    # Staff (not required) log in as before; and a required account cannot turn it off.
    staff = Client()
    assert log_in(staff, "staff_a1", PASSWORD)["Location"] == reverse("people:console")
    admin = User.objects.get(username="admin_a")
    with pytest.raises(ApplicationError) as caught:
        security.two_factor_disable(user=admin, code="000000")
    assert caught.value.code == "two_factor_required"


def test_the_production_profile_requires_it_of_admins():
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yizhan.config.settings.production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "yizhan.example.cn",
    }
    env.pop("YIZHAN_REQUIRE_2FA_ROLES", None)
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(sorted(s.YIZHAN_REQUIRE_2FA_ROLES))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "['admin', 'superuser']"


def test_the_owner_turns_it_off_with_a_code_and_staff_reset_a_lost_one(world):
    staff = world.community_staff
    secret, _codes = enrol(staff)
    client = client_for(staff)
    session = client.session
    session[security.SESSION_KEY] = staff.pk
    session.save()
    later = time.time() + 30
    # (the page checks "now"; a code of the next step is accepted for clock drift)
    response = client.post(reverse("people:two_factor_disable"), {"code": totp(secret, later)})
    assert response.status_code == 302
    assert not User.objects.get(pk=staff.pk).two_factor_enabled
    assert not TwoFactorDevice.objects.filter(user=staff).exists()
    enrol(staff)
    with pytest.raises(ApplicationError):
        security.two_factor_reset(user=staff, actor=world.other_community_staff)
    security.two_factor_reset(user=staff, actor=world.street_admin)
    assert not User.objects.get(pk=staff.pk).two_factor_enabled
    assert AuditEntry.objects.filter(action="two_factor.reset").count() == 1


def test_riders_have_no_two_factor_pages(world):
    client = client_for(world.rider.user)
    assert client.get(reverse("people:two_factor_enrol")).status_code == 403
    assert client.get(reverse("people:account_security")).status_code == 403


def test_the_api_token_needs_the_code_of_an_enrolled_account(world, settings):
    secret, _codes = enrol(world.community_staff)
    client = Client()
    body = {"username": "staff_a1", "password": PASSWORD}
    missing = call(client, "POST", "/api/v1/auth/token", body)
    assert missing.status_code == 401 and missing.json()["code"] == "otp_required"
    later = time.time() + 30
    ok = call(client, "POST", "/api/v1/auth/token", {**body, "otp": totp(secret, later)})
    assert ok.status_code == 201
    settings.YIZHAN_REQUIRE_2FA_ROLES = ["admin"]
    not_enrolled = call(
        client, "POST", "/api/v1/auth/token", {"username": "admin_a", "password": PASSWORD}
    )
    assert not_enrolled.status_code == 403
    assert not_enrolled.json()["code"] == "two_factor_required"


# --- API tokens ----------------------------------------------------------------------------------


def token_for(client, username="13812341234", **extra):
    answer = call(
        client, "POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD, **extra}
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


def bearer(raw):
    return {"Authorization": f"Bearer {raw}"}


def test_tokens_are_hashed_at_rest(world):
    made = token_for(Client())
    token = ApiToken.objects.get(pk=made["id"])
    assert made["token"] not in token.key_hash
    assert token.key_hash == hashlib.sha256(made["token"].encode()).hexdigest()
    assert made["scope"] == "write"


def test_a_read_token_reads_and_may_not_write(world):
    made = token_for(Client(), scope="read")
    client = Client()
    assert call(client, "GET", "/api/v1/me", headers=bearer(made["token"])).status_code == 200
    refused = call(
        client, "PUT", "/api/v1/me/language", {"language": "en"}, headers=bearer(made["token"])
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "token_scope"
    assert User.objects.get(pk=world.rider.user.pk).language == ""  # nothing changed
    revoke = call(
        client, "DELETE", f"/api/v1/auth/tokens/{made['id']}", headers=bearer(made["token"])
    )
    assert revoke.status_code == 403  # revoking is a write too
    writer = token_for(Client(), scope="write")
    ok = call(
        client, "PUT", "/api/v1/me/language", {"language": "en"}, headers=bearer(writer["token"])
    )
    assert ok.status_code == 200


def test_an_unknown_scope_is_refused(world):
    answer = call(
        Client(),
        "POST",
        "/api/v1/auth/token",
        {"username": "13812341234", "password": PASSWORD, "scope": "admin"},
    )
    assert answer.status_code == 400
    assert not ApiToken.objects.exists()


def test_tokens_expire(world):
    made = token_for(Client(), ttl_days=1)
    client = Client()
    assert call(client, "GET", "/api/v1/me", headers=bearer(made["token"])).status_code == 200
    ApiToken.objects.filter(pk=made["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert call(client, "GET", "/api/v1/me", headers=bearer(made["token"])).status_code == 401
    too_long = call(
        Client(),
        "POST",
        "/api/v1/auth/token",
        {"username": "13812341234", "password": PASSWORD, "ttl_days": 10_000},
    )
    assert too_long.status_code == 400


def test_tokens_are_revocable(world):
    made = token_for(Client())
    client = Client()
    headers = bearer(made["token"])
    assert call(client, "DELETE", f"/api/v1/auth/tokens/{made['id']}", headers=headers).json() == {
        "ok": True
    }
    assert call(client, "GET", "/api/v1/me", headers=headers).status_code == 401


def test_a_forged_token_is_refused(world):
    client = Client()
    for raw in ["yz_" + "A" * 43, "not-a-token", "yz_" + "x" * 300]:
        assert call(client, "GET", "/api/v1/me", headers=bearer(raw)).status_code == 401


def test_token_issue_service_records_the_scope(world):
    token, _raw = services.token_issue(user=world.rider.user, scope="read")
    entry = AuditEntry.objects.get(action="token.issued", target_id=str(token.pk))
    assert entry.data["scope"] == "read"
