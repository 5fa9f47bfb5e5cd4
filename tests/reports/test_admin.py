"""The back office of reports: issuing and revoking Open311 keys, and the working calendar.

A street's administrators (and those above) issue keys for their streets: the raw key is shown
once, on the answer to the POST, and only its SHA-256 is stored. Community staff, riders and
merchants may not; a refused issue writes nothing. Only the platform operator sets or removes a
date of the working calendar (core.services.holiday_set / holiday_remove); everyone in the
back office reads it.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from tests.api import helpers
from tests.api.test_permission_matrix import snapshot
from tests.world import PASSWORD
from yizhan.core import services as core_services
from yizhan.core.errors import Forbidden, NotFound
from yizhan.core.models import AuditEntry, Holiday
from yizhan.core.workcalendar import add_working_days
from yizhan.people.models import User
from yizhan.people.services import account_create
from yizhan.reports import services
from yizhan.reports.models import Open311Key

ISSUE = "admin:reports_open311key_issue"
KEYS = "admin:reports_open311key_changelist"
SET_DATE = "admin:core_holiday_set"
CALENDAR = "admin:core_holiday_changelist"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def client_for(user):
    client = helpers.client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def operator(world):
    return account_create(
        username="operator", name="运营", role="admin", password=PASSWORD, is_superuser=True
    )


@pytest.fixture
def categories(world):
    """Both streets take requests (so a key's street matters)."""
    services.categories_seed(street=world.street_a, actor=world.street_admin)
    services.categories_seed(street=world.street_b, actor=world.district_admin)


# --- Open311 keys --------------------------------------------------------------------------------


def test_a_street_admin_issues_a_key_and_sees_it_once(world, categories):
    client = client_for(world.street_admin)
    form = client.get(reverse(ISSUE))
    assert form.status_code == 200
    page = form.content.decode()
    assert 'name="name"' in page and 'name="street"' in page
    assert world.street_a.name in page and world.street_b.name not in page  # only A is theirs

    response = client.post(reverse(ISSUE), {"street": world.street_a.pk, "name": "12345 热线"})
    assert response.status_code == 200
    key = Open311Key.objects.get()
    raw = response.context["raw"]
    assert raw.startswith("o311_") and len(raw) > 40
    assert response.content.decode().count(raw) == 1
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert key.prefix == raw[:12]
    assert (key.street, key.area_code, key.name) == (world.street_a, "440000001", "12345 热线")
    assert key.created_by == world.street_admin and key.revoked_at is None
    assert AuditEntry.objects.filter(action="open311_key.issued", target_id=str(key.pk)).exists()
    # Never again: not in the list, not on the key's own page.
    listing = client.get(reverse(KEYS)).content.decode()
    assert key.name in listing and key.prefix in listing and raw not in listing
    detail = client.get(reverse("admin:reports_open311key_change", args=[key.pk]))
    assert detail.status_code == 200
    assert raw not in detail.content.decode() and key.key_hash not in detail.content.decode()


def test_the_key_files_requests_in_its_street(world, categories):
    response = client_for(world.street_admin).post(
        reverse(ISSUE), {"street": world.street_a.pk, "name": "12345 热线"}
    )
    raw = response.context["raw"]
    filed = client_for(None).post(
        "/open311/v2/requests.json",
        {"api_key": raw, "jurisdiction_id": "440000001", "service_code": "flying_wire",
         "lat": "40.095", "long": "113.305", "description": "窗口拉线充电"},
    )  # fmt: skip
    assert filed.status_code == 200


def test_each_key_has_its_own_account_that_cannot_log_in(world, categories):
    key, raw = services.open311_key_issue(
        street=world.street_a, name="热线", actor=world.street_admin
    )
    other, _raw = services.open311_key_issue(
        street=world.street_a, name="区 App", actor=world.street_admin
    )
    account = key.account
    assert account is not None and account != other.account
    assert account.role == "merchant"  # a role that collects no points
    assert account.area is None and account.area_code == ""
    assert not account.has_usable_password()
    assert not account.is_staff and not account.is_superuser and account.is_active
    assert account.name == "Open311 热线"
    client = client_for(None)
    assert not client.login(username=account.username, password="")
    assert not client.login(username=account.username, password=raw)


@pytest.mark.parametrize("role", ["community_staff", "other_community_staff"])
def test_community_staff_may_not_issue_keys(world, categories, role):
    client = client_for(world.account(role))
    assert client.get(reverse(ISSUE)).status_code == 403
    before = snapshot(), Open311Key.objects.count(), User.objects.count()
    response = client.post(reverse(ISSUE), {"street": world.street_a.pk, "name": "偷偷发"})
    assert response.status_code == 403
    assert (snapshot(), Open311Key.objects.count(), User.objects.count()) == before


@pytest.mark.parametrize("role", ["rider", "merchant", "pending_rider"])
def test_accounts_outside_the_back_office_get_a_403(world, role):
    response = client_for(world.account(role)).get(reverse(ISSUE))
    assert response.status_code == 403
    assert b"<h1>" in response.content


def test_anonymous_visitors_are_sent_to_log_in(db):
    response = client_for(None).get(reverse(ISSUE))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_an_admin_cannot_issue_a_key_for_another_street(world, categories):
    """Street B is not offered to street A's admin; posting it anyway is a form error."""
    before = Open311Key.objects.count(), User.objects.count()
    response = client_for(world.street_admin).post(
        reverse(ISSUE), {"street": world.street_b.pk, "name": "越权"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert (Open311Key.objects.count(), User.objects.count()) == before
    # The service says the same to a caller that skips the form.
    with pytest.raises(Forbidden):
        services.open311_key_issue(street=world.street_b, name="越权", actor=world.street_admin)
    assert (Open311Key.objects.count(), User.objects.count()) == before


@pytest.mark.parametrize("name", ["", " ", "x" * 101])
def test_a_key_needs_a_client_name(world, categories, name):
    before = Open311Key.objects.count(), User.objects.count()
    response = client_for(world.street_admin).post(
        reverse(ISSUE), {"street": world.street_a.pk, "name": name}
    )
    assert response.status_code == 400
    assert (Open311Key.objects.count(), User.objects.count()) == before


def test_the_district_admin_issues_for_any_street_beneath(world, categories):
    client = client_for(world.district_admin)
    page = client.get(reverse(ISSUE)).content.decode()
    assert world.street_a.name in page and world.street_b.name in page
    response = client.post(reverse(ISSUE), {"street": world.street_b.pk, "name": "乙街热线"})
    assert response.status_code == 200
    assert Open311Key.objects.get().street == world.street_b


def test_the_issue_link_is_offered_to_those_who_may(world):
    assert b"Issue a key" in client_for(world.street_admin).get(reverse(KEYS)).content
    assert b"Issue a key" not in client_for(world.community_staff).get(reverse(KEYS)).content


def test_revoking_a_key_stops_it_and_its_account(world, categories):
    key, raw = services.open311_key_issue(
        street=world.street_a, name="热线", actor=world.street_admin
    )
    client = client_for(world.street_admin)
    response = client.post(
        reverse(KEYS), {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert not User.objects.get(pk=key.account_id).is_active
    assert AuditEntry.objects.filter(action="open311_key.revoked", target_id=str(key.pk)).exists()
    filed = client_for(None).post(
        "/open311/v2/requests.json",
        {"api_key": raw, "jurisdiction_id": "440000001", "service_code": "flying_wire",
         "lat": "40.095", "long": "113.305", "description": "窗口拉线充电"},
    )  # fmt: skip
    assert filed.status_code == 403
    # Revoking again is refused and changes nothing.
    revoked_at = key.revoked_at
    again = client.post(
        reverse(KEYS), {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    assert "revoked already" in again.content.decode()
    key.refresh_from_db()
    assert key.revoked_at == revoked_at


def test_community_staff_cannot_revoke_a_streets_key(world, categories):
    key, _raw = services.open311_key_issue(
        street=world.street_a, name="热线", actor=world.street_admin
    )
    client_for(world.community_staff).post(
        reverse(KEYS), {"action": "revoke", "_selected_action": [key.pk]}
    )
    key.refresh_from_db()
    assert key.revoked_at is None
    with pytest.raises(Forbidden):
        services.open311_key_revoke(key=key, actor=world.community_staff)


# --- the working calendar ------------------------------------------------------------------------


def test_the_operator_sets_a_holiday(world, operator):
    client = client_for(operator)
    assert client.get(reverse(SET_DATE)).status_code == 200
    assert b"Set a date" in client.get(reverse(CALENDAR)).content
    response = client.post(reverse(SET_DATE), {"day": "2030-10-01", "name": "国庆节"})
    assert response.status_code == 302
    assert response["Location"] == reverse(CALENDAR)
    holiday = Holiday.objects.get()
    assert (holiday.date, holiday.is_workday, holiday.name) == (date(2030, 10, 1), False, "国庆节")
    entry = AuditEntry.objects.get(action="holiday.set")
    assert entry.actor == operator and entry.data["date"] == "2030-10-01"
    # Setting the date again changes it (the form is filled from ?day=).
    form = client.get(reverse(SET_DATE), {"day": "2030-10-01"})
    assert form.context["form"].initial["name"] == "国庆节"
    client.post(reverse(SET_DATE), {"day": "2030-10-01", "is_workday": "on", "name": "调休"})
    holiday.refresh_from_db()
    assert (holiday.is_workday, holiday.name) == (True, "调休")
    assert Holiday.objects.count() == 1


def test_holidays_move_working_day_deadlines(world, operator):
    from datetime import datetime

    from yizhan.core.workcalendar import TZ

    monday = datetime(2030, 9, 30, 10, 0, tzinfo=TZ)
    assert add_working_days(monday, 1).date() == date(2030, 10, 1)
    core_services.holiday_set(day=date(2030, 10, 1), is_workday=False, name="国庆", actor=operator)
    assert add_working_days(monday, 1).date() == date(2030, 10, 2)
    # A Saturday worked (调休) counts.
    friday = datetime(2030, 10, 4, 10, 0, tzinfo=TZ)
    core_services.holiday_set(day=date(2030, 10, 5), is_workday=True, name="调休", actor=operator)
    assert add_working_days(friday, 1).date() == date(2030, 10, 5)


def test_the_operator_removes_a_date(world, operator):
    core_services.holiday_set(day=date(2030, 10, 1), is_workday=False, name="国庆", actor=operator)
    holiday = Holiday.objects.get()
    response = client_for(operator).post(
        reverse(CALENDAR), {"action": "remove", "_selected_action": [holiday.pk]}, follow=True
    )
    assert response.status_code == 200
    assert not Holiday.objects.exists()
    assert AuditEntry.objects.filter(action="holiday.removed").exists()
    with pytest.raises(NotFound):
        core_services.holiday_remove(day=date(2030, 10, 1), actor=operator)


@pytest.mark.parametrize(
    "role", ["community_staff", "street_admin", "district_admin", "rider", "merchant"]
)
def test_only_the_operator_keeps_the_calendar(world, operator, role):
    core_services.holiday_set(day=date(2030, 10, 1), is_workday=False, name="国庆", actor=operator)
    user = world.account(role)
    client = client_for(user)
    before = snapshot(), list(Holiday.objects.values_list("date", "is_workday", "name"))
    assert client.get(reverse(SET_DATE)).status_code == 403
    assert client.post(reverse(SET_DATE), {"day": "2030-10-02", "name": "X"}).status_code == 403
    holiday = Holiday.objects.get()
    client.post(reverse(CALENDAR), {"action": "remove", "_selected_action": [holiday.pk]})
    assert (snapshot(), list(Holiday.objects.values_list("date", "is_workday", "name"))) == before
    with pytest.raises(Forbidden):
        core_services.holiday_set(day=date(2030, 10, 3), is_workday=False, name="", actor=user)
    with pytest.raises(Forbidden):
        core_services.holiday_remove(day=date(2030, 10, 1), actor=user)


def test_console_users_read_the_calendar(world, operator):
    core_services.holiday_set(
        day=date(2030, 10, 1), is_workday=False, name="国庆节", actor=operator
    )
    listing = client_for(world.community_staff).get(reverse(CALENDAR))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "国庆节" in page and "Set a date" not in page
    assert 'value="remove"' not in page  # no actions offered


@pytest.mark.parametrize(
    "form, says",
    [
        ({"day": "2030-02-30"}, "Enter a valid date"),
        ({"day": ""}, "This field is required"),
        ({"day": "0999-01-01"}, "between 2000 and 2100"),
        ({"day": "2030-10-01", "name": "节" * 51}, "at most 50 characters"),
    ],
)
def test_a_bad_date_is_a_400_and_writes_nothing(world, operator, form, says):
    response = client_for(operator).post(reverse(SET_DATE), form)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not Holiday.objects.exists()


# --- reports and the inbox in the back office -----------------------------------------------------


@pytest.fixture
def filed(world, categories, settings, tmp_path):
    """The rider's report in A1 with a photo, dispatched (the rider is told in their inbox)."""
    from tests.world import report_jpeg
    from yizhan.people.services import department_create
    from yizhan.reports.models import Category

    settings.MEDIA_ROOT = tmp_path
    category = Category.objects.get(street=world.street_a, code="stairwell_clutter")
    report = services.report_submit(
        reporter=world.rider.user, category=category, lat="40.095", lng="113.315",
        description="楼道堆满纸箱", idempotency_key="admin-test-0001", photos=[report_jpeg(21)],
    )  # fmt: skip
    department = department_create(name="城管队", area=world.street_a, actor=world.street_admin)
    return services.report_dispatch(
        report=report, actor=world.community_staff, department=department
    )


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"status__exact": "dispatched"},
        {"area": "440000001001"},
        {"source__exact": "app", "urgent__exact": "0"},
    ],
)
def test_reports_are_listed_with_filters(world, filed, query):
    response = client_for(world.community_staff).get(
        reverse("admin:reports_report_changelist"),
        {"category__id__exact": filed.category_id, **query},
    )
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_the_report_list_is_scoped(world, filed):
    response = client_for(world.other_community_staff).get(
        reverse("admin:reports_report_changelist")
    )
    assert response.context["cl"].result_count == 0
    detail = client_for(world.other_community_staff).get(
        reverse("admin:reports_report_change", args=[filed.pk])
    )
    assert detail.status_code == 302  # not visible: back to the admin index


def test_a_report_shows_its_timeline_and_photos_read_only(world, filed):
    response = client_for(world.community_staff).get(
        reverse("admin:reports_report_change", args=[filed.pk])
    )
    assert response.status_code == 200
    page = response.content.decode()
    photo = filed.photos.get()
    assert photo.public_thumbnail_url in page  # the copy with faces blurred
    assert photo.thumbnail.name not in page  # never the original
    assert "submitted" in page and "dispatched" in page  # the timeline's actions
    assert 'name="_save"' not in page  # nothing to save: read-only


def test_each_console_user_sees_their_own_inbox_and_the_operator_all(world, filed, operator):
    from yizhan.notifications.models import Notification

    # The dispatch told the rider (their report moved); nobody else in this world.
    told = Notification.objects.get(recipient=world.rider.user)
    mine = Notification.objects.create(recipient=world.community_staff, kind="test", title="给甲一")
    url = reverse("admin:notifications_notification_changelist")
    staff_list = client_for(world.community_staff).get(url)
    assert [n.pk for n in staff_list.context["cl"].result_list] == [mine.pk]
    assert client_for(world.street_admin).get(url).context["cl"].result_count == 0
    operator_list = client_for(operator).get(url)
    assert {n.pk for n in operator_list.context["cl"].result_list} == {mine.pk, told.pk}
    detail = client_for(world.street_admin).get(
        reverse("admin:notifications_notification_change", args=[mine.pk])
    )
    assert detail.status_code == 302  # not theirs
