"""The 随手拍 pages as people use them: a rider files a report with a photo from the camera-first
form (by location or, without JavaScript, by community) and follows it under "My reports"; the
form offers the categories of the place and, before filing, the open reports of the same kind
nearby with "I saw it too"; staff triage (filters, the map's markers), accept, dispatch, verify
(points paid), close, merge, reject, acknowledge urgent alerts, decide held points, go on duty,
and keep the street's categories and settings; the department's handler reports a case handled
with an after photo; the rider reopens a closed report with a photo. Bad input is a 400 (or the
service's status) with the message, and nothing is written: no report row, no photo file.
Query counts of the triage list, "my reports" and the cases do not grow with the rows."""

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.helpers import client_for as any_client_for
from tests.world import report_jpeg, report_objects
from yizhan.core.models import AuditEntry
from yizhan.points.selectors import balance_of
from yizhan.reports import services
from yizhan.reports.choices import Flag, PointsStatus, ReportStatus
from yizhan.reports.models import Category, Report, ReportEvent, ReportPhoto, Witness

A1_EAST = {"lat": "40.0972", "lng": "113.3172"}  # in A1's east grid, street A
STREET_B = {"lat": "40.085", "lng": "113.31"}  # in B1's grid, street B
NOWHERE = {"lat": "41.5", "lng": "115.5"}  # outside every grid


def client_for(user):
    """A signed-in client reading the pages in English (the source strings the tests quote)."""
    client = any_client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def rw(world, settings, tmp_path):
    """tests.world.report_objects (street A's standard categories, 城管队 and its handler, reports
    in every state), with photos in a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path
    world.media = Path(tmp_path)
    world.objects = report_objects(world)
    return world


def html_of(response) -> str:
    return response.content.decode()


def media_files(world) -> set[str]:
    return {str(p.relative_to(world.media)) for p in world.media.rglob("*") if p.is_file()}


def category(world, code: str) -> Category:
    return world.objects["categories"][code]


def report_form(world, **changes):
    """A valid report form for the rider: 楼道堆物 in A1's east grid with one photo."""
    data = {
        **A1_EAST,
        "crs": "wgs84",
        "category": str(category(world, "stairwell_clutter").pk),
        "description": "楼道里堆满了旧家具",
        "address": "甲一路 8 号",
        "building": "5号楼",
        "unit": "2单元",
        "floor": "3",
        "idempotency_key": "page-report-0001",
        "photos": [report_jpeg(50)],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def state(world):
    """What a refused write must leave alone."""
    return (
        sorted(Report.objects.values_list("pk", "status", "witnesses", "department_id")),
        ReportEvent.objects.count(),
        ReportPhoto.objects.count(),
        Witness.objects.count(),
        AuditEntry.objects.count(),
        media_files(world),
    )


# --- the report form -----------------------------------------------------------------------------


def test_the_report_form_is_camera_first_and_offers_the_places_categories(rw):
    response = client_for(rw.rider.user).get(reverse("reports:new"))
    assert response.status_code == 200
    html = html_of(response)
    photos = re.search(r"<input[^>]*name=\"photos\"[^>]*>", html).group(0)
    assert 'type="file"' in photos and 'accept="image/*"' in photos
    assert 'capture="environment"' in photos and "multiple" in photos
    keys = re.findall(r'name="idempotency_key" value="([^"]+)"', html)
    assert len(keys) == 1 and len(keys[0]) >= 8
    assert 'id="use-my-location"' in html and 'id="report-map"' in html
    assert 'data-tile-url=""' in html  # no tiles: the form still works
    # Before anything is chosen: the rider's own community, and its street's categories.
    assert f'<option value="{rw.community_a1.code}" selected>' in html
    assert "Clutter in a stairwell" in html and "Lost elderly person or child" in html
    assert "The categories of 甲街道 (甲一社区)." in html
    assert f'hx-get="{reverse("reports:categories_for_place")}"' in html
    assert f'hx-get="{reverse("reports:duplicates")}"' in html


def test_a_rider_files_a_report_and_sees_it_in_my_reports(rw):
    client = client_for(rw.rider.user)
    before = Report.objects.count()
    response = client.post(reverse("reports:new"), report_form(rw))
    assert response.status_code == 302
    report = Report.objects.latest("pk")
    assert Report.objects.count() == before + 1
    assert response["Location"] == reverse("reports:done", args=[report.pk])
    assert report.reporter == rw.rider.user and report.status == ReportStatus.SUBMITTED
    assert report.grid == rw.grid_a1_east and report.category.code == "stairwell_clutter"
    assert (report.building, report.unit, report.floor) == ("5号楼", "2单元", "3")
    assert report.photos.count() == 1
    done = html_of(client.get(response["Location"]))
    assert f'data-testid="report-number">#{report.pk}<' in done
    assert "Staff of 甲一社区 see it now" in done
    # The same page sent twice (a double tap): one report.
    again = client.post(reverse("reports:new"), report_form(rw))
    assert again["Location"] == response["Location"]
    assert Report.objects.count() == before + 1
    mine = html_of(client.get(reverse("reports:mine")))
    rows = mine.split('data-testid="report-row"')[1:]
    assert f"#{report.pk} Clutter in a stairwell" in rows[0]
    assert '<span class="chip submitted">Submitted</span>' in rows[0]
    closed = rw.objects["closed"]
    assert any(f"#{closed.pk} Poor sanitation" in row and "chip closed" in row for row in rows)
    assert f"#{rw.objects['dispatched'].pk} " not in mine  # someone else's


def test_without_javascript_the_community_places_the_report(rw):
    client = client_for(rw.rider.user)
    data = report_form(rw, lat="", lng="", community=rw.community_a2.code)
    data["idempotency_key"] = "page-report-community"
    response = client.post(reverse("reports:new"), data)
    assert response.status_code == 302
    report = Report.objects.latest("pk")
    assert report.community == rw.community_a2 and report.grid == rw.grid_a2
    # The "show the categories of this community" button reloads the form for that community.
    html = html_of(client.get(reverse("reports:new"), {"community": rw.community_b1.code}))
    assert "The categories of 乙街道 (乙一社区)." in html
    assert "Clutter in a stairwell" not in html  # street B has no categories


def test_the_categories_follow_the_place(rw):
    client = client_for(rw.rider.user)
    url = reverse("reports:categories_for_place")
    chosen = category(rw, "bad_parking").pk
    html = html_of(client.get(url, {**A1_EAST, "category": chosen}))
    assert "The categories of 甲街道 (甲一社区)." in html
    assert f'<option value="{chosen}" selected>' in html
    assert "<optgroup" in html and "Street order (街面秩序)" in html
    street_b = html_of(client.get(url, STREET_B))
    assert "The categories of 乙街道 (乙一社区)." in street_b
    assert "Clutter in a stairwell" not in street_b
    outside = client.get(url, NOWHERE)
    assert outside.status_code == 400
    assert "outside every grid" in html_of(outside)
    bad = client.get(url, {"lat": "north", "lng": "113.3"})
    assert bad.status_code == 400 and "Latitude must be a number" in html_of(bad)


# --- duplicates and "I saw it too" ---------------------------------------------------------------


def test_the_duplicate_fragment_lists_open_reports_nearby_and_i_saw_it_too(rw):
    submitted = rw.objects["submitted"]  # the rider's 楼道堆物 at (40.095, 113.315)
    other = client_for(rw.other_rider.user)
    url = reverse("reports:duplicates")
    params = {"category": category(rw, "stairwell_clutter").pk, "lat": "40.0952", "lng": "113.3151"}
    html = html_of(other.get(url, params))
    rows = html.split('data-testid="duplicate"')[1:]
    assert len(rows) == 1  # the dispatched one of the same kind is 850 m away
    assert f"#{submitted.pk} Clutter in a stairwell" in rows[0] and "楼道堆满纸箱" in rows[0]
    assert re.search(r"\b2\d m\b", rows[0])  # about 23 m
    assert f'hx-post="{reverse("reports:witness", args=[submitted.pk])}"' in rows[0]
    assert "I saw it too" in rows[0]
    # Another kind, or no place yet: nothing.
    other_kind = {**params, "category": category(rw, "bad_parking").pk}
    assert 'data-testid="no-duplicates"' in html_of(other.get(url, other_kind))
    assert html_of(other.get(url, {"category": params["category"]})).strip() == ""
    # The reporter sees it as their own, with no button.
    own = html_of(client_for(rw.rider.user).get(url, params))
    assert "This is your own report." in own and "I saw it too</button>" not in own

    response = other.post(
        reverse("reports:witness", args=[submitted.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert f"you are counted as a witness of #{submitted.pk}" in html_of(response)
    submitted.refresh_from_db()
    assert submitted.witnesses == 1
    assert Witness.objects.filter(report=submitted, user=rw.other_rider.user).count() == 1
    assert "You said you saw it too." in html_of(other.get(url, params))
    # Again, without htmx: no second witness; "my reports" lists it under "I saw it too".
    again = other.post(reverse("reports:witness", args=[submitted.pk]))
    assert again.status_code == 302 and again["Location"].endswith("?show=witnessed")
    submitted.refresh_from_db()
    assert submitted.witnesses == 1
    seen = html_of(other.get(reverse("reports:mine"), {"show": "witnessed"}))
    assert f"#{submitted.pk} Clutter in a stairwell" in seen


@pytest.mark.parametrize(
    "who, target, status, message",
    [
        ("rider", "submitted", 409, "You reported this yourself."),
        ("other_rider", "closed", 409, "no longer open"),
        ("other_rider", "missing", 404, "There is no such report."),
    ],
)
def test_i_saw_it_too_is_refused_for_my_own_or_a_closed_report(rw, who, target, status, message):
    report_id = rw.objects[target].pk if target != "missing" else 999999
    before = state(rw)
    response = client_for(rw.account(who)).post(reverse("reports:witness", args=[report_id]))
    assert response.status_code == status
    assert message in html_of(response)
    assert state(rw) == before


# --- bad input -----------------------------------------------------------------------------------


def _not_an_image():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.jpg", b"this is not a picture", content_type="image/jpeg")


def _truncated_jpeg():
    from django.core.files.uploadedfile import SimpleUploadedFile

    whole = report_jpeg(60, size=(200, 150)).read()
    return SimpleUploadedFile("cut.jpg", whole[: len(whole) // 2], content_type="image/jpeg")


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"description": ""}, "description", "Please say in a few words what is wrong."),
        ({"description": "长" * 5000}, "description", "at most 500 characters"),
        ({"photos": None}, "photos", "Please add at least one photo."),
        ("seven", "photos", "At most 6 photos, please."),
        ("not_an_image", "photos", "not a photo we can read"),
        ("truncated", "photos", ""),
        (NOWHERE, "lat", "outside every grid"),
        ({"lat": "", "lng": "", "community": ""}, "lat", "Where is it?"),
        ({"lng": ""}, "lat", "Give both latitude and longitude"),
        ({"lat": "95"}, "lat", "Latitude must be a number between -90 and 90."),
        ({"crs": "mars"}, "crs", "Select a valid choice"),
        ({"category": ""}, "category", "Please choose a category."),
        ({"category": "999999"}, "category", "Please choose a category."),
        ("street_b_category", "category", "is not a category of 甲街道"),
        ({"building": "楼" * 41}, "building", "at most 40 characters"),
    ],
)
def test_bad_report_input_is_a_400_and_writes_nothing(rw, change, field, message):
    if change == "seven":
        change = {"photos": [report_jpeg(70 + i) for i in range(7)]}
    elif change == "not_an_image":
        change = {"photos": [_not_an_image()]}
    elif change == "truncated":
        change = {"photos": [_truncated_jpeg()]}
    elif change == "street_b_category":
        elsewhere = services.category_create(
            street=rw.street_b, code="stairwell_clutter", name="楼道堆物", family="housing_safety",
            actor=rw.district_admin,
        )  # fmt: skip
        change = {"category": str(elsewhere.pk)}
    before = state(rw)
    response = client_for(rw.rider.user).post(reverse("reports:new"), report_form(rw, **change))
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert message.lower() in " ".join(form.errors[field]).lower()
    html = html_of(response)
    assert 'data-testid="form-error"' in html
    # Nothing written, and the corrected form gets a fresh key.
    assert state(rw) == before
    assert "page-report-0001" not in html
    assert re.search(r'name="idempotency_key" value="[0-9a-f-]{36}"', html)


# --- the rider's record and reopening ------------------------------------------------------------


def test_the_rider_sees_the_public_timeline_and_reopens_with_a_photo(rw):
    closed = rw.objects["closed"]
    client = client_for(rw.rider.user)
    url = reverse("reports:detail", args=[closed.pk])
    html = html_of(client.get(url))
    assert '<span class="chip closed" data-testid="status">Closed</span>' in html
    timeline = html.split('data-testid="timeline"')[1]
    actions = re.findall(r'data-action="(\w+)"', timeline)
    assert actions == ["submitted", "dispatched", "handled", "verified", "closed"]
    assert "To 城管队, by" in timeline and "现场核查通过" in timeline
    assert timeline.count("<img") == 2  # the report's photo and the after photo
    assert "Points paid" in html
    assert "城管张" not in html  # staff names stay on the staff side
    assert f'action="{reverse("reports:reopen", args=[closed.pk])}"' in html

    before = state(rw)
    missing = client.post(reverse("reports:reopen", args=[closed.pk]), {"note": "还是有积水"})
    assert missing.status_code == 400
    assert "Please add at least one photo." in html_of(missing)
    assert state(rw) == before
    response = client.post(
        reverse("reports:reopen", args=[closed.pk]),
        {"note": "还是有积水", "photos": [report_jpeg(80)]},
    )
    assert response.status_code == 302 and response["Location"] == url
    closed.refresh_from_db()
    assert closed.status == ReportStatus.ACCEPTED and closed.reopen_count == 1
    again = html_of(client.get(url))
    assert "Reopened" in again and "还是有积水" in again
    assert f'action="{reverse("reports:reopen", args=[closed.pk])}"' not in again


def test_another_riders_report_is_not_found(rw):
    dispatched = rw.objects["dispatched"]  # the second rider's
    client = client_for(rw.rider.user)
    assert client.get(reverse("reports:detail", args=[dispatched.pk])).status_code == 404
    assert client.get(reverse("reports:done", args=[dispatched.pk])).status_code == 404
    before = state(rw)
    response = client.post(
        reverse("reports:reopen", args=[rw.objects["verified"].pk]),
        {"note": "x", "photos": [report_jpeg(81)]},
    )
    assert response.status_code == 404 and state(rw) == before


# --- the whole way: triage → dispatch → handle → verify → close ----------------------------------


def test_staff_and_the_department_take_a_report_the_whole_way(rw):
    report = rw.objects["submitted"]  # the rider's 楼道堆物, awaiting triage
    staff, handler = client_for(rw.community_staff), client_for(rw.objects["handler"])
    department = rw.objects["department"]
    queue = html_of(staff.get(reverse("reports:triage")))
    assert queue.count('data-testid="report-row"') == 1  # only what awaits triage
    assert f"#{report.pk} Clutter in a stairwell" in queue
    assert 'id="reports-markers"' in queue and f'"id": {report.pk}' in queue

    record = html_of(staff.get(reverse("reports:console_detail", args=[report.pk])))
    for action in ("accept", "dispatch", "merge", "reject"):
        assert f'action="{reverse(f"reports:{action}", args=[report.pk])}"' in record
    assert f'action="{reverse("reports:verify", args=[report.pk])}"' not in record
    assert "138****1234" in record  # the reporter, masked
    assert "Building 3号楼" in record and "甲一路" in record

    accepted = staff.post(reverse("reports:accept", args=[report.pk]), {"note": "属实"})
    assert accepted.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED
    dispatched = staff.post(
        reverse("reports:dispatch", args=[report.pk]),
        {"department": department.pk, "deadline": "", "note": "请尽快清理"},
    )
    assert dispatched.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.DISPATCHED and report.department == department
    assert report.deadline_at is not None

    # The handler's list and case page; the case is handled with an after photo.
    cases = html_of(handler.get(reverse("reports:cases")))
    assert f"#{report.pk} Clutter in a stairwell" in cases
    case_url = reverse("reports:case_detail", args=[report.pk])
    case = html_of(handler.get(case_url))
    assert f'action="{reverse("reports:case_handle", args=[report.pk])}"' in case
    assert 'capture="environment"' in case and "请尽快清理" in case
    handled = handler.post(
        reverse("reports:case_handle", args=[report.pk]),
        {"note": "已清理完毕", "photos": [report_jpeg(90, name="after.jpg")]},
    )
    assert handled.status_code == 302 and handled["Location"] == reverse("reports:cases")
    report.refresh_from_db()
    assert report.status == ReportStatus.HANDLED
    assert report.photos.filter(stage="handled").count() == 1
    assert f'href="{case_url}"' not in html_of(handler.get(reverse("reports:cases")))

    # Staff check on site: fixed. The points arrive once.
    balance = balance_of(rw.rider.user)
    verified = staff.post(
        reverse("reports:verify", args=[report.pk]),
        {"passed": "yes", "note": "现场已清理", "photos": [report_jpeg(91)]},
    )
    assert verified.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.VERIFIED and report.points_status == PointsStatus.PAID
    assert balance_of(rw.rider.user) == balance + 3  # 楼道堆物 pays 3
    closed = staff.post(reverse("reports:close", args=[report.pk]), {"note": "结案"})
    assert closed.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.CLOSED
    assert balance_of(rw.rider.user) == balance + 3

    # The rider follows it, and reopens it with a photo.
    rider = client_for(rw.rider.user)
    mine = html_of(rider.get(reverse("reports:detail", args=[report.pk])))
    steps = re.findall(r'data-action="(\w+)"', mine)
    assert steps == ["submitted", "accepted", "dispatched", "handled", "verified", "closed"]
    assert "已清理完毕" in mine
    reopened = rider.post(
        reverse("reports:reopen", args=[report.pk]),
        {"note": "又堆上了", "photos": [report_jpeg(92)]},
    )
    assert reopened.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED and report.reopen_count == 1
    assert balance_of(rw.rider.user) == balance + 3  # paid once
    record = html_of(staff.get(reverse("reports:console_detail", args=[report.pk])))
    assert "又堆上了" in record and "Reopened" in record


def test_verify_can_send_a_case_back_and_staff_can_reopen_a_closed_one(rw):
    handled, closed = rw.objects["handled"], rw.objects["closed"]
    staff = client_for(rw.community_staff)
    before = state(rw)
    no_note = staff.post(reverse("reports:verify", args=[handled.pk]), {"passed": "no"})
    assert no_note.status_code == 400
    assert "Say what still needs doing." in html_of(no_note)
    assert state(rw) == before
    back = staff.post(
        reverse("reports:verify", args=[handled.pk]), {"passed": "no", "note": "盲道仍被占用"}
    )
    assert back.status_code == 302
    handled.refresh_from_db()
    assert handled.status == ReportStatus.DISPATCHED  # 返工, with a new deadline
    reopened = staff.post(
        reverse("reports:staff_reopen", args=[closed.pk]),
        {"note": "居民反映又有积水", "photos": [report_jpeg(93)]},
    )
    assert reopened.status_code == 302
    closed.refresh_from_db()
    assert closed.status == ReportStatus.ACCEPTED


def test_merge_into_a_nearby_report_and_reject_with_a_reason(rw):
    original = rw.objects["submitted"]
    staff = client_for(rw.community_staff)
    second = client_for(rw.objects["second_rider"].user)
    data = report_form(rw, lat="40.0951", lng="113.3151", idempotency_key="page-dup-0001")
    data["photos"] = [report_jpeg(94)]
    assert second.post(reverse("reports:new"), data).status_code == 302
    duplicate = Report.objects.latest("pk")
    record = html_of(staff.get(reverse("reports:console_detail", args=[duplicate.pk])))
    nearby = record.split('id="duplicates"')[1]
    assert f"#{original.pk}" in nearby and f"Merge this one into #{original.pk}" in nearby
    response = staff.post(reverse("reports:merge", args=[duplicate.pk]), {"into": original.pk})
    assert response.status_code == 302
    duplicate.refresh_from_db()
    original.refresh_from_db()
    assert duplicate.status == ReportStatus.MERGED and duplicate.merged_into == original
    assert original.witnesses == 1
    merged_view = html_of(second.get(reverse("reports:detail", args=[duplicate.pk])))
    assert f"Someone reported the same problem first (#{original.pk})" in merged_view
    witnesses = html_of(staff.get(reverse("reports:console_detail", args=[original.pk])))
    assert "孙三" in witnesses.split('id="witnesses"')[1]

    before = state(rw)
    empty = staff.post(reverse("reports:reject", args=[original.pk]), {"reason": ""})
    assert empty.status_code == 400
    assert "Please tell the reporter why it is rejected." in html_of(empty)
    assert state(rw) == before
    rejected = staff.post(reverse("reports:reject", args=[original.pk]), {"reason": "不在辖区"})
    assert rejected.status_code == 302
    original.refresh_from_db()
    assert original.status == ReportStatus.REJECTED
    rider_view = html_of(
        client_for(rw.rider.user).get(reverse("reports:detail", args=[original.pk]))
    )
    assert "不在辖区" in rider_view


@pytest.mark.parametrize(
    "action, target, data, status, message",
    [
        # A transition the state does not allow: the error page with the service's 409.
        ("accept", "dispatched", {}, 409, "cannot be accepted now"),
        ("close", "submitted", {}, 409, "cannot be closed now"),
        ("verify", "dispatched", {"passed": "yes"}, 409, "cannot be verified now"),
        # Input the user can correct: on the form.
        ("merge", "submitted", {"into": "999999"}, 400, "There is no report #999999 in your area."),
        ("merge", "submitted", {"into": "{submitted}"}, 400, "cannot be merged into itself"),
        ("merge", "submitted", {"into": "{closed}"}, 409, "Merge into an open report"),
        ("merge", "submitted", {"into": ""}, 400, "Which report? Give its number."),
        ("dispatch", "submitted", {"department": ""}, 400, "Choose the department"),
        ("dispatch", "submitted", {"department": "{department}", "deadline": "2001-01-01T09:00"},
         400, "The deadline must be in the future"),
        ("dispatch", "submitted", {"department": "999999"}, 400, "Select a valid choice"),
        ("redirect", "dispatched", {"department": "{department}", "note": "错了"}, 400,
         "Select a valid choice"),
        ("points_decide", "submitted", {"pay": "yes", "note": "看过"}, 409, "not waiting"),
        ("acknowledge", "submitted", {}, 409, "There is no alert to acknowledge."),
        ("staff_reopen", "closed", {"note": "又坏了"}, 400, "Please add at least one photo."),
    ],
)  # fmt: skip
def test_refused_console_actions_change_nothing(rw, action, target, data, status, message):
    ids = {
        "{submitted}": rw.objects["submitted"].pk,
        "{closed}": rw.objects["closed"].pk,
        "{department}": rw.objects["department"].pk,
    }
    body = {k: str(ids.get(v, v)) for k, v in data.items()}
    before = state(rw)
    response = client_for(rw.community_staff).post(
        reverse(f"reports:{action}", args=[rw.objects[target].pk]), body
    )
    assert response.status_code == status
    assert message in html_of(response)
    assert state(rw) == before


def test_console_actions_are_for_the_reports_area_only(rw):
    report = rw.objects["submitted"]  # in A1
    before = state(rw)
    other_staff = client_for(rw.other_community_staff)
    assert other_staff.get(reverse("reports:console_detail", args=[report.pk])).status_code == 404
    assert other_staff.post(reverse("reports:accept", args=[report.pk])).status_code == 404
    rider = client_for(rw.rider.user)
    assert rider.post(reverse("reports:accept", args=[report.pk])).status_code == 403
    assert rider.get(reverse("reports:triage")).status_code == 403
    assert state(rw) == before


# --- urgent alerts, held points, duty -------------------------------------------------------------


def test_an_urgent_alert_is_taken_and_held_points_are_decided(rw):
    staff = client_for(rw.community_staff)
    assert "Go on duty" in html_of(staff.get(reverse("reports:triage")))
    on = staff.post(reverse("reports:duty"), {"on_duty": "on"})
    assert on.status_code == 302
    rw.community_staff.refresh_from_db()
    assert rw.community_staff.on_duty
    assert "End my duty" in html_of(staff.get(reverse("reports:triage")))

    rider = client_for(rw.rider.user)
    data = report_form(
        rw, category=str(category(rw, "elderly_child").pk), description="一位老人迷路了",
        idempotency_key="page-urgent-0001", photos=[report_jpeg(1)],  # the same photo as #submitted
    )  # fmt: skip
    assert rider.post(reverse("reports:new"), data).status_code == 302
    urgent = Report.objects.latest("pk")
    assert urgent.urgent and Flag.SAME_PHOTO in urgent.flags
    queue = html_of(staff.get(reverse("reports:triage"), {"urgent": "on"}))
    assert queue.count('data-testid="report-row"') == 1 and "not taken" in queue
    flagged = html_of(staff.get(reverse("reports:triage"), {"flagged": "on", "status": "all"}))
    assert f"#{urgent.pk} " in flagged
    record = html_of(staff.get(reverse("reports:console_detail", args=[urgent.pk])))
    assert "I take this alert" in record
    checks = record.split('id="checks"')[1]
    assert "The same (or nearly the same) photo was sent before" in checks
    assert f"#{rw.objects['submitted'].pk}</a>" in checks  # the report with the same photo
    taken = staff.post(reverse("reports:acknowledge", args=[urgent.pk]))
    assert taken.status_code == 302
    urgent.refresh_from_db()
    assert urgent.acknowledged_by == rw.community_staff

    # The whole way to verified: the points are held for a person, then paid.
    handler = rw.objects["handler"]
    services.report_dispatch(
        report=urgent, actor=rw.community_staff, department=rw.objects["department"]
    )
    services.report_handle(report=urgent, actor=handler, note="已送回家", photos=[report_jpeg(95)])
    balance = balance_of(rw.rider.user)
    assert (
        staff.post(reverse("reports:verify", args=[urgent.pk]), {"passed": "yes"}).status_code
        == 302
    )
    urgent.refresh_from_db()
    assert urgent.points_status == PointsStatus.HELD and balance_of(rw.rider.user) == balance
    record = html_of(staff.get(reverse("reports:console_detail", args=[urgent.pk])))
    assert f'action="{reverse("reports:points_decide", args=[urgent.pk])}"' in record
    paid = staff.post(
        reverse("reports:points_decide", args=[urgent.pk]), {"pay": "yes", "note": "照片是同一处"}
    )
    assert paid.status_code == 302
    urgent.refresh_from_db()
    assert urgent.points_status == PointsStatus.PAID
    assert balance_of(rw.rider.user) == balance + 10


# --- the triage list ------------------------------------------------------------------------------


def test_triage_filters(rw):
    staff = client_for(rw.street_admin)
    url = reverse("reports:triage")

    def listed(**params):
        html = html_of(staff.get(url, params))
        return sorted(
            int(n) for n in re.findall(r'data-testid="report-row" id="report-(\d+)"', html)
        )

    o = rw.objects
    assert listed() == sorted([o["submitted"].pk, o["a2_report"].pk])
    every = [o[k].pk for k in ("submitted", "dispatched", "handled", "verified", "closed")]
    assert listed(status="all") == sorted([*every, o["a2_report"].pk])
    assert listed(status="open") == sorted(
        [o["submitted"].pk, o["dispatched"].pk, o["handled"].pk, o["a2_report"].pk]
    )
    assert listed(status="dispatched") == [o["dispatched"].pk]
    assert listed(status="all", category="broken_facility") == sorted(
        [o["verified"].pk, o["a2_report"].pk]
    )
    assert listed(status="all", area=rw.community_a2.code) == [o["a2_report"].pk]
    assert listed(status="all", q="井盖") == [o["verified"].pk]
    assert listed(overdue="on") == []
    Report.objects.filter(pk=o["dispatched"].pk).update(deadline_at="2020-01-01T00:00:00Z")
    assert listed(overdue="on") == [o["dispatched"].pk]
    late = html_of(staff.get(url, {"overdue": "on"}))
    assert '<span class="chip overdue">Overdue</span>' in late
    assert listed(status="nonsense") == listed()  # an unknown value is dropped
    # A community's staff see their community only.
    mine = html_of(client_for(rw.other_community_staff).get(url, {"status": "all"}))
    assert re.findall(r'id="report-(\d+)"', mine) == [str(o["a2_report"].pk)]


def count_queries(client, url, params=None) -> int:
    client.get(url, params)  # warm the session
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def _more_reports(world, n: int, start: int) -> None:
    second = world.objects["second_rider"].user
    for i in range(n):
        report = services.report_submit(
            reporter=second if i % 2 else world.rider.user,
            category=category(world, "illegal_posting"),
            lat=40.091 + 0.0004 * (i % 20), lng=113.301 + 0.0004 * (i // 20),
            description=f"小广告 {start + i}", idempotency_key=f"more-report-{start + i:04d}",
            photos=[report_jpeg(300 + start + i)],
        )  # fmt: skip
        if i % 3 == 0:
            services.report_witness(report=report, user=world.other_rider.user)
        if i % 4 == 0:
            services.report_dispatch(
                report=report, actor=world.community_staff, department=world.objects["department"]
            )


def test_list_query_counts_do_not_grow_with_rows(rw):
    staff = client_for(rw.street_admin)
    rider = client_for(rw.rider.user)
    other = client_for(rw.other_rider.user)
    handler = client_for(rw.objects["handler"])
    pages = [
        (staff, reverse("reports:triage"), None),
        (staff, reverse("reports:triage"), {"status": "all"}),
        (rider, reverse("reports:mine"), None),
        (other, reverse("reports:mine"), {"show": "witnessed"}),
        (handler, reverse("reports:cases"), None),
    ]
    _more_reports(rw, 3, 0)
    few = [count_queries(c, u, p) for c, u, p in pages]
    _more_reports(rw, 15, 3)
    many = [count_queries(c, u, p) for c, u, p in pages]
    assert few == many


# --- the department's pages ----------------------------------------------------------------------


def test_a_handler_sees_their_departments_cases_only(rw):
    handler = client_for(rw.objects["handler"])
    dispatched, submitted = rw.objects["dispatched"], rw.objects["submitted"]
    html = html_of(handler.get(reverse("reports:cases")))
    assert re.findall(r'href="/cases/(\d+)/"', html) == [str(dispatched.pk)]
    assert handler.get(reverse("reports:case_detail", args=[submitted.pk])).status_code == 404
    # The notification's link (the console's record) leads a handler to the case page.
    follow = handler.get(reverse("reports:console_detail", args=[dispatched.pk]))
    assert follow.status_code == 302
    assert follow["Location"] == reverse("reports:case_detail", args=[dispatched.pk])
    assert handler.get(reverse("reports:triage")).status_code == 403
    # Another department's handler sees nothing of it.
    from yizhan.people.services import account_create, department_create

    other_department = department_create(name="环卫所", area=rw.street_a, actor=rw.street_admin)
    other = account_create(
        username="handler_b", name="环卫李", role="handler", area=rw.street_a,
        department=other_department, password="x-Secret-2026",
    )  # fmt: skip
    outsider = client_for(other)
    assert "No open case." in html_of(outsider.get(reverse("reports:cases")))
    assert outsider.get(reverse("reports:case_detail", args=[dispatched.pk])).status_code == 404
    before = state(rw)
    refused = outsider.post(
        reverse("reports:case_handle", args=[dispatched.pk]),
        {"note": "已处理", "photos": [report_jpeg(96)]},
    )
    assert refused.status_code == 404 and state(rw) == before
    # Riders and staff have their own pages.
    assert client_for(rw.rider.user).get(reverse("reports:cases")).status_code == 403
    assert client_for(rw.community_staff).get(reverse("reports:cases")).status_code == 403


@pytest.mark.parametrize(
    "data, message",
    [
        ({"note": "已处理"}, "Please add at least one photo."),
        ({"note": "", "photos": "one"}, "Please say what was done."),
        ({"note": "已处理", "photos": "bad"}, "not a photo we can read"),
        ({"note": "已处理", "photos": "seven"}, "At most 6 photos, please."),
    ],
)
def test_handled_without_a_good_photo_or_a_note_is_refused(rw, data, message):
    dispatched = rw.objects["dispatched"]
    photos = {
        "one": [report_jpeg(97)],
        "bad": [_not_an_image()],
        "seven": [report_jpeg(100 + i) for i in range(7)],
    }
    body = {**data, **({"photos": photos[data["photos"]]} if "photos" in data else {})}
    before = state(rw)
    response = client_for(rw.objects["handler"]).post(
        reverse("reports:case_handle", args=[dispatched.pk]), body
    )
    assert response.status_code == 400
    assert message in html_of(response)
    assert state(rw) == before


# --- categories and settings ---------------------------------------------------------------------


def test_street_admins_keep_the_categories(rw):
    admin = client_for(rw.street_admin)
    url = reverse("reports:categories")
    html = html_of(admin.get(url))
    assert html.count('data-testid="category-row"') == 14
    assert 'data-testid="seed"' in html and 'id="new-category"' in html
    seeded = admin.post(reverse("reports:categories_seed"), {"street": rw.street_a.code})
    assert seeded.status_code == 302 and Category.objects.filter(street=rw.street_a).count() == 14
    created = admin.post(
        url,
        {"street": rw.street_a.code, "code": "shared_bikes", "name": "共享单车乱停",
         "name_en": "Shared bikes", "family": "street_order",
         "department": rw.objects["department"].pk, "deadline_amount": "4",
         "deadline_unit": "working_hours", "ack_minutes": "10", "points": "4",
         "sort_order": "20"},
    )  # fmt: skip
    assert created.status_code == 302
    made = Category.objects.get(street=rw.street_a, code="shared_bikes")
    assert made.department == rw.objects["department"] and made.deadline_amount == 4
    listing = html_of(admin.get(url))
    row = next(r for r in listing.split('data-testid="category-row"') if "shared_bikes" in r)
    assert ">4<" in row  # the points of its earning rule
    edit_url = reverse("reports:category_edit", args=[made.pk])
    assert admin.get(edit_url).status_code == 200
    saved = admin.post(
        edit_url,
        {"name": "共享单车乱停放", "deadline_amount": "2", "deadline_unit": "working_days",
         "ack_minutes": "10", "points": "6", "sort_order": "1"},
    )  # fmt: skip
    assert saved.status_code == 302
    made.refresh_from_db()
    assert (made.name, made.deadline_amount, made.is_active) == ("共享单车乱停放", 2, False)
    again = html_of(admin.get(url))
    row = next(r for r in again.split('data-testid="category-row"') if "shared_bikes" in r)
    assert ">6<" in row and "not in use" in row

    before = Category.objects.count()
    taken = admin.post(
        url,
        {"street": rw.street_a.code, "code": "shared_bikes", "name": "重复", "family": "other",
         "deadline_amount": "1", "deadline_unit": "working_days", "ack_minutes": "10"},
    )  # fmt: skip
    assert taken.status_code == 409 and "already has a category shared_bikes" in html_of(taken)
    bad = admin.post(
        url,
        {"street": rw.street_a.code, "code": "Not OK!", "name": "", "family": "x",
         "deadline_amount": "0", "deadline_unit": "weeks", "ack_minutes": "10"},
    )  # fmt: skip
    assert bad.status_code == 400
    assert set(bad.context["form"].errors) >= {"code", "name", "family", "deadline_amount"}
    assert Category.objects.count() == before


def test_community_staff_see_the_categories_but_do_not_change_them(rw):
    staff = client_for(rw.community_staff)
    html = html_of(staff.get(reverse("reports:categories")))
    assert html.count('data-testid="category-row"') == 14
    assert 'id="new-category"' not in html and 'data-testid="seed"' not in html
    before = Category.objects.count()
    response = staff.post(
        reverse("reports:categories"),
        {"street": rw.street_a.code, "code": "new_one", "name": "新", "family": "other",
         "deadline_amount": "1", "deadline_unit": "working_days", "ack_minutes": "10"},
    )  # fmt: skip
    assert response.status_code == 403 and Category.objects.count() == before
    edit = staff.get(reverse("reports:category_edit", args=[category(rw, "other").pk]))
    assert edit.status_code == 403
    seed = staff.post(reverse("reports:categories_seed"), {"street": rw.street_a.code})
    assert seed.status_code == 403


def test_street_settings(rw):
    admin = client_for(rw.street_admin)
    url = reverse("reports:settings")
    html = html_of(admin.get(url))
    assert 'name="duplicate_radius_m"' in html and 'value="50"' in html
    data = {
        "street": rw.street_a.code, "duplicate_radius_m": "80", "duplicate_days": "14",
        "witness_share_percent": "50", "burst_reports": "5", "burst_minutes": "30",
        "max_photo_distance_m": "500", "max_photo_age_hours": "72",
    }  # fmt: skip
    assert admin.post(url, data).status_code == 302
    assert services.report_settings(rw.street_a).duplicate_radius_m == 80
    bad = admin.post(url, {**data, "duplicate_radius_m": "5000"})
    assert bad.status_code == 400 and "duplicate_radius_m" in bad.context["form"].errors
    assert services.report_settings(rw.street_a).duplicate_radius_m == 80
    staff = client_for(rw.community_staff)
    assert "Only the street's administrators change these." in html_of(staff.get(url))
    assert staff.post(url, {**data, "duplicate_radius_m": "60"}).status_code == 403
    assert services.report_settings(rw.street_a).duplicate_radius_m == 80


def _photo_with_exif(*, days_ago: int, lat: float, lng: float):
    """A JPEG as a phone writes it: the capture time and GPS in its EXIF."""
    import io
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone
    from PIL import Image

    def dms(value: float) -> tuple[float, float, float]:
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        return (float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4))

    taken = timezone.localtime() - timedelta(days=days_ago)
    data = Image.Exif()
    data[0x8769] = {0x9003: taken.strftime("%Y:%m:%d %H:%M:%S"), 0x9011: "+08:00"}
    data[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lng)}
    out = io.BytesIO()
    Image.effect_noise((120, 90), 80).convert("RGB").save(out, "JPEG", exif=data)
    return SimpleUploadedFile("phone.jpg", out.getvalue(), content_type="image/jpeg")


def test_the_console_shows_the_photos_own_time_and_place(rw):
    from yizhan.people.services import consent_give

    consent_give(user=rw.rider.user, actor=rw.rider.user, kind="location")
    rider = client_for(rw.rider.user)
    photo = _photo_with_exif(days_ago=5, lat=40.095, lng=113.33)  # in A2, about 1 km east
    data = report_form(rw, idempotency_key="page-exif-0001", photos=[photo])
    assert rider.post(reverse("reports:new"), data).status_code == 302
    report = Report.objects.latest("pk")
    assert set(report.flags) >= {Flag.FAR_FROM_PHOTO, Flag.OLD_PHOTO}
    record = html_of(client_for(rw.community_staff).get(
        reverse("reports:console_detail", args=[report.pk])
    ))  # fmt: skip
    checks = record.split('id="checks"')[1].split("</section>")[0]
    assert "Far from where the photo says it was taken" in checks
    assert "The photo was taken long before the report" in checks
    assert "40.095000, 113.330000" in checks
    assert re.search(r"1\.\d km from the report's place", checks)
    assert re.search(r"1\d\d\.\d h before the report", checks)  # five days
    # The rider sees none of it.
    mine = html_of(rider.get(reverse("reports:detail", args=[report.pk])))
    assert "Far from where" not in mine and "113.330000" not in mine
