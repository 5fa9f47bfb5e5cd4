"""The station pages as people use them: a rider finds the nearest stations (by location, by
community, with filters; without map tiles; bad input is a 400 with the message), opens a
station's page, scans its QR code and checks in (a second scan says "already"); staff create
and edit stations, set holidays, upload photos, inspect against the street checklist and print
the QR poster; a merchant keeps their corner up to date and records walk-ins; query counts."""

import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from tests.api.helpers import client_for as any_client_for
from tests.stations.exchange_helpers import registry
from tests.stations.exchange_helpers import row as sheet_row
from tests.stations.exchange_helpers import xlsx as sheet_xlsx
from tests.world import station_objects
from yizhan.core.models import AuditEntry
from yizhan.stations import exchange, services
from yizhan.stations.choices import StationStatus, VisitKind
from yizhan.stations.models import ChecklistItem, Inspection, Station, StationPhoto, Visit

NEAR_A1 = {"lat": "40.095", "lng": "113.305"}  # the A1 station's own point


def client_for(user):
    """A signed-in client reading the pages in English (the source strings the tests quote)."""
    client = any_client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def st(world):
    """tests.world.station_objects: the A1 station (08:00-22:00), the merchant's 24-hour corner
    in A1, a station in A2, street A's two-item checklist, an inspection and a check-in."""
    world.objects = station_objects(world)
    return world


def html_of(response) -> str:
    return response.content.decode()


def keys_on(html: str) -> list[str]:
    return re.findall(r'name="idempotency_key" value="([^"]+)"', html)


def jpeg_upload(name="photo.jpg", size=(64, 48)):
    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def registry_state():
    return (
        sorted(
            Station.objects.values_list(
                "pk", "name", "services_mask", "hours", "status", "status_note", "qr_version"
            )
        ),
        StationPhoto.objects.count(),
        Inspection.objects.count(),
        sorted(ChecklistItem.objects.values_list("pk", "text", "is_active")),
        sorted(Visit.objects.values_list("pk", "people")),
        AuditEntry.objects.count(),
    )


# --- nearby ------------------------------------------------------------------------------------


def test_nearby_lists_results_nearest_first_without_tiles(st, settings):
    settings.MAP_TILE_URL = ""
    response = client_for(None).get(reverse("stations:nearby"), {**NEAR_A1, "mode": "ebike"})
    assert response.status_code == 200
    html = html_of(response)
    assert 'data-tile-url=""' in html  # no tile layer: the list is still there
    names = re.findall(r'<h3><a href="/stations/\d+/">([^<]+)</a></h3>', html)
    assert names == ["甲一小哥驿站", "小店爱心角", "甲二小哥驿站"]
    station = st.objects["station"]
    first = html.split('data-testid="result"')[1]
    assert "0 m" in first and "Rider station (小哥驿站)" in first
    assert "Rest" in first and "Drinking water" in first and "Phone charging" in first
    assert "甲一路 1 号" in first and 'href="tel:0352-1234567"' in first
    assert "https://uri.amap.com/marker?position=" in first
    assert "https://api.map.baidu.com/marker?location=" in first
    assert "https://apis.map.qq.com/uri/v1/marker?marker=coord:" in first
    assert f'href="{reverse("stations:detail", args=[station.pk])}"' in first
    assert "Open now · closes at 22:00" in first or "Closed · opens at" in first
    corner = html.split('data-testid="result"')[2]
    assert "Open now · 24 hours" in corner and "Tyre inflation" in corner
    assert re.search(r"\b(8[0-9]0|9[0-9]0) m\b", corner)  # about 860 m east
    assert "Within 3.0 km of the place you chose" in html
    assert 'id="nearby-markers"' in html and '"lat": 40.095' in html


def test_nearby_filters_mode_services_kinds_and_open_now(st):
    client = client_for(st.rider.user)
    url = reverse("stations:nearby")

    def names(**params):
        html = html_of(client.get(url, {**NEAR_A1, **params}))
        return re.findall(r'<h3><a href="/stations/\d+/">([^<]+)</a></h3>', html)

    assert names(mode="walk") == ["甲一小哥驿站", "小店爱心角"]  # 1 km on foot
    assert names(services=["tyre_inflation"]) == ["小店爱心角"]
    assert names(services=["water", "phone_charging"]) == ["甲一小哥驿站", "小店爱心角"]
    assert names(kinds=["corner"]) == ["小店爱心角"]
    assert "小店爱心角" in names(open="1")  # open 24 hours
    assert names(kinds=["union_station"]) == []
    empty = html_of(client.get(url, {**NEAR_A1, "kinds": "union_station"}))
    assert "Nothing found here" in empty


def test_nearby_by_community_and_the_riders_own_community_by_default(st):
    community = st.community_a1
    html = html_of(client_for(None).get(reverse("stations:nearby"), {"community": community.code}))
    assert f"Within 3.0 km of {community.name}" in html
    assert "甲一小哥驿站" in html
    assert f'<option value="{community.code}" selected>' in html
    # A signed-in rider starts around their own community, nothing asked.
    own = html_of(client_for(st.rider.user).get(reverse("stations:nearby")))
    assert f"Within 3.0 km of {community.name}" in own and "甲一小哥驿站" in own
    # Anonymous, nothing asked: the prompt, no list.
    prompt = html_of(client_for(None).get(reverse("stations:nearby")))
    assert "Use my location" in prompt and 'data-testid="result"' not in prompt


@pytest.mark.parametrize(
    "params, message",
    [
        ({"lat": "91", "lng": "113.3"}, "atitude"),
        ({"lat": "abc", "lng": "113.3"}, "atitude"),
        ({"lat": "40.09", "lng": "113.3", "crs": "mars"}, "mars"),
        ({**NEAR_A1, "services": "teleport"}, "teleport is not a service of the catalogue."),
        ({**NEAR_A1, "kinds": "castle"}, "castle is not a kind of station."),
        ({**NEAR_A1, "mode": "car"}, "car is not a mode: use walk or ebike."),
        ({**NEAR_A1, "page": "0"}, "page must be a whole number"),
        ({"community": "999999"}, "Please choose a community from the list."),
    ],
)
def test_nearby_bad_input_is_a_400_with_the_message(st, params, message):
    before = registry_state()
    response = client_for(None).get(reverse("stations:nearby"), params)
    assert response.status_code == 400
    html = html_of(response)
    assert message in html and 'data-testid="nearby-error"' in html
    assert 'id="nearby-form"' in html  # the form is still there to correct
    assert registry_state() == before


def test_nearby_htmx_gets_the_list_only(st):
    response = client_for(None).get(
        reverse("stations:nearby"), NEAR_A1, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = html_of(response)
    assert "<html" not in html and 'data-testid="result"' in html
    bad = client_for(None).get(
        reverse("stations:nearby"), {"lat": "91", "lng": "1"}, headers={"HX-Request": "true"}
    )
    assert bad.status_code == 400 and "<html" not in html_of(bad)


def test_nearby_tells_the_map_its_tiles_system(st, settings):
    settings.MAP_TILE_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}"
    settings.MAP_TILE_CRS = "gcj02"
    html = html_of(client_for(None).get(reverse("stations:nearby"), NEAR_A1))
    # Markers stay WGS-84 in the page; nearby-map.js shifts them for GCJ-02 tiles.
    assert 'data-tile-crs="gcj02"' in html and '"lat": 40.095, "lng": 113.305' in html
    assert "nearby-map.js" in html and "coords.js" in html


def test_nearby_skips_suspended_stations(st):
    station = st.objects["station"]
    services.station_update(station=station, status="suspended", actor=st.community_staff)
    html = html_of(client_for(None).get(reverse("stations:nearby"), NEAR_A1))
    assert "甲一小哥驿站" not in html and "小店爱心角" in html


# --- a station's page ----------------------------------------------------------------------------


def test_station_page_for_everyone_and_the_manage_link(st):
    station = st.objects["station"]
    url = reverse("stations:detail", args=[station.pk])
    html = html_of(client_for(None).get(url))
    assert "<h1>甲一小哥驿站</h1>" in html and "Rider station (小哥驿站)" in html
    assert "Monday" in html and "08:00-22:00" in html and "Sunday" in html
    assert "Rest" in html and "Phone charging" in html and "甲一路 1 号" in html
    assert 'href="tel:0352-1234567"' in html and "uri.amap.com" in html
    assert 'id="station-map"' in html and "Manage this station" not in html
    staff = html_of(client_for(st.community_staff).get(url))
    assert f'href="{reverse("stations:edit", args=[station.pk])}"' in staff
    other = html_of(client_for(st.other_community_staff).get(url))
    assert "Manage this station" not in other
    corner = st.objects["corner"]
    mine = html_of(client_for(st.merchant).get(reverse("stations:detail", args=[corner.pk])))
    assert f'href="{reverse("stations:merchant_station", args=[corner.pk])}"' in mine
    assert "Open now · 24 hours" in mine


def test_station_page_shows_zones_exceptions_photos_and_suspension(st, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    station = st.objects["station"]
    staff = st.community_staff
    day = timezone.localdate() + timedelta(days=2)
    services.station_exception_set(station=station, day=day, closed=True, actor=staff)
    services.station_update(
        station=station, zones=["rest", "supply"], status="suspended", status_note="装修中",
        actor=staff,
    )  # fmt: skip
    services.station_photo_add(station=station, upload=jpeg_upload(), caption="门口", actor=staff)
    html = html_of(client_for(None).get(reverse("stations:detail", args=[station.pk])))
    assert "Rest (休息)" in html and "Supply (补给)" in html
    assert f"{day:%Y-%m-%d}" in html and "Closed" in html
    assert "Suspended at the moment." in html and "装修中" in html
    assert 'alt="门口"' in html


def test_unknown_station_is_a_404_page(st):
    response = client_for(None).get(reverse("stations:detail", args=[999999]))
    assert response.status_code == 404 and b"<h1>" in response.content


# --- the QR check-in -----------------------------------------------------------------------------


def test_print_the_qr_scan_check_in_and_again_says_already(st):
    corner = st.objects["corner"]
    poster = html_of(client_for(st.community_staff).get(reverse("stations:qr", args=[corner.pk])))
    token = services.qr_token(corner)
    link = reverse("stations:check_in", args=[corner.pk, token])
    assert f"http://testserver{link}" in poster  # the URL the code holds, printed under it
    assert re.search(r'<svg viewBox="[^"]+" class="qr">', poster)
    assert "小店爱心角" in poster and "Riders: scan to check in" in poster
    rider = client_for(st.rider.user)
    page = html_of(rider.get(link))
    assert "Check in here" in page
    (key,) = keys_on(page)
    done = rider.post(link, {"idempotency_key": key})
    assert done.status_code == 200 and '<h1 data-testid="checkin-result">Checked in</h1>' in (
        html_of(done)
    )
    assert rider.post(link, {"idempotency_key": key}).status_code == 200  # a double tap
    assert Visit.objects.filter(station=corner, kind=VisitKind.SCAN).count() == 1
    (again_key,) = keys_on(html_of(rider.get(link)))
    again = html_of(rider.post(link, {"idempotency_key": again_key}))
    assert "Already checked in today" in again
    assert Visit.objects.filter(station=corner, kind=VisitKind.SCAN).count() == 1


def test_anonymous_scan_goes_to_log_in_and_back(st, password):
    corner = st.objects["corner"]
    link = reverse("stations:check_in", args=[corner.pk, services.qr_token(corner)])
    response = client_for(None).get(link)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("people:login"))
    assert "next=" in response["Location"] and f"{corner.pk}" in response["Location"]
    client = client_for(None)
    logged_in = client.post(response["Location"], {"username": "13812341234", "password": password})
    assert logged_in.status_code == 302 and logged_in["Location"] == link
    assert "Check in here" in html_of(client.get(link))


def test_forged_replaced_or_suspended_codes_are_refused_before_any_button(st):
    corner = st.objects["corner"]
    rider = client_for(st.rider.user)
    before = registry_state()
    for token in ["forged-token-000", services.qr_token(st.objects["station"]), "假的码"]:
        response = rider.get(reverse("stations:check_in", args=[corner.pk, token]))
        assert response.status_code == 400
        html = html_of(response)
        assert "This QR code is not valid" in html and "Check in here" not in html
        posted = rider.post(
            reverse("stations:check_in", args=[corner.pk, token]),
            {"idempotency_key": "forged-key-0001"},
        )
        assert posted.status_code == 400
    old = services.qr_token(corner)
    staff = client_for(st.community_staff)
    assert staff.post(reverse("stations:qr_rotate", args=[corner.pk])).status_code == 302
    corner.refresh_from_db()
    assert corner.qr_version == 2
    replaced = rider.get(reverse("stations:check_in", args=[corner.pk, old]))
    assert replaced.status_code == 400
    assert Visit.objects.count() == before[4].__len__()
    services.station_update(station=corner, status="suspended", actor=st.community_staff)
    link = reverse("stations:check_in", args=[corner.pk, services.qr_token(corner)])
    suspended = rider.get(link)
    assert suspended.status_code == 409
    assert "suspended at the moment" in html_of(suspended)
    assert "Check in here" not in html_of(suspended)
    assert Visit.objects.filter(station=corner).count() == 0


def test_staff_see_a_valid_code_without_a_button_and_cannot_check_in(st):
    corner = st.objects["corner"]
    link = reverse("stations:check_in", args=[corner.pk, services.qr_token(corner)])
    staff = client_for(st.community_staff)
    html = html_of(staff.get(link))
    assert "This code is valid" in html and "Check in here" not in html
    refused = staff.post(link, {"idempotency_key": "staff-key-0001"})
    assert refused.status_code == 403
    assert not Visit.objects.filter(station=corner).exists()


# --- the console -------------------------------------------------------------------------------

NEW_STATION = {
    "name": "甲一新驿站",
    "kind": "party_service",
    "community": "440000001001",
    "address": "甲一路 9 号",
    "lat": "40.0952",
    "lng": "113.3155",
    "crs": "wgs84",
    "host_name": "",
    "merchant": "",
    "contact_name": "刘站长",
    "contact_phone": "0352-7654321",
    "description": "",
    "services": ["rest", "water", "ebike_charging"],
    "zones": ["party", "rest"],
    "hours": "周一至周五 08:00-20:00；周六、周日 09:00-18:00",
    "status": "open",
}


def test_staff_create_a_station(st):
    client = client_for(st.community_staff)
    form = html_of(client.get(reverse("stations:create")))
    assert 'id="station-map"' in form and 'id="community-centres"' in form
    assert "甲一社区" in form and "甲二社区" not in form  # only the staff's own community
    response = client.post(reverse("stations:create"), NEW_STATION)
    assert response.status_code == 302
    station = Station.objects.get(name="甲一新驿站")
    assert response["Location"] == reverse("stations:edit", args=[station.pk])
    assert station.grid == st.grid_a1_east and station.area_code == st.grid_a1_east.code
    assert services.service_codes(station.services_mask) == ["rest", "water", "ebike_charging"]
    assert station.zones == ["party", "rest"]
    assert station.hours["week"]["1"] == [["08:00", "20:00"]]
    assert station.hours["week"]["7"] == [["09:00", "18:00"]]
    edit = html_of(client.get(response["Location"]))
    assert "甲一新驿站 was added." in edit
    assert "周一至周五 08:00-20:00；周六、周日 09:00-18:00" in edit


def test_create_from_gcj02_coordinates_stores_wgs84(st):
    from yizhan.core.geo import wgs84_to_gcj02

    g_lat, g_lng = wgs84_to_gcj02(40.0952, 113.3155)
    body = {**NEW_STATION, "lat": f"{g_lat:.7f}", "lng": f"{g_lng:.7f}", "crs": "gcj02"}
    assert client_for(st.community_staff).post(reverse("stations:create"), body).status_code == 302
    station = Station.objects.get(name="甲一新驿站")
    assert abs(station.lat - 40.0952) < 1e-5 and abs(station.lng - 113.3155) < 1e-5


@pytest.mark.parametrize(
    "change, message",
    [
        ({"lat": "91"}, "atitude"),
        ({"lat": "abc"}, "Enter a number."),
        ({"community": "440000001002"}, "Select a valid choice."),  # A2: not offered to A1 staff
        ({"lat": "40.085"}, "outside 甲一社区"),
        ({"hours": "周八 08:00-20:00"}, "周八 is not a day of the week"),
        ({"services": ["teleport"]}, "Select a valid choice."),
        ({"contact_phone": "12"}, "Please enter a phone number"),
        ({"name": ""}, "This field is required."),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(st, change, message):
    before = registry_state()
    response = client_for(st.community_staff).post(
        reverse("stations:create"), {**NEW_STATION, **change}
    )
    assert response.status_code == 400
    assert message in html_of(response)
    assert registry_state() == before


def test_edit_hours_and_exceptions_keep_each_other(st):
    station = st.objects["station"]
    client = client_for(st.community_staff)
    url = reverse("stations:edit", args=[station.pk])
    page = html_of(client.get(url))
    assert "每天 08:00-22:00" in page and "甲一小哥驿站" in page
    holiday = timezone.localdate() + timedelta(days=3)
    added = client.post(
        reverse("stations:exception_add", args=[station.pk]),
        {"day": holiday.isoformat(), "periods": "10:00-16:00"},
    )
    assert added.status_code == 302
    station.refresh_from_db()
    assert station.hours["except"] == {holiday.isoformat(): [["10:00", "16:00"]]}
    body = {
        "name": "甲一小哥驿站", "kind": "rider_station", "address": "甲一路 1 号",
        "lat": f"{station.lat}", "lng": f"{station.lng}", "crs": "wgs84",
        "contact_phone": "0352-1234567", "services": ["rest", "water"],
        "hours": "周一至周五 09:00-18:00", "status": "open", "merchant": "",
    }  # fmt: skip
    saved = client.post(url, body)
    assert saved.status_code == 302
    station.refresh_from_db()
    assert station.hours == {
        "week": {str(d): [["09:00", "18:00"]] for d in range(1, 6)},
        "except": {holiday.isoformat(): [["10:00", "16:00"]]},
    }
    assert services.service_codes(station.services_mask) == ["rest", "water"]
    shown = html_of(client.get(url))
    assert f"{holiday:%Y-%m-%d}" in shown and "10:00–16:00" in shown
    removed = client.post(
        reverse("stations:exception_remove", args=[station.pk]), {"day": holiday.isoformat()}
    )
    assert removed.status_code == 302
    station.refresh_from_db()
    assert "except" not in station.hours
    again = client.post(
        reverse("stations:exception_remove", args=[station.pk]), {"day": holiday.isoformat()}
    )
    assert again.status_code == 404 and "There are no special hours" in html_of(again)


@pytest.mark.parametrize(
    "body, message",
    [
        ({"day": "2020-01-01", "closed": "on"}, "The date has passed"),
        ({"day": "{tomorrow}"}, "Give the opening periods of that day"),
        ({"day": "{tomorrow}", "periods": "25:00-26:00"}, "is not a time of day"),
        ({"day": "not-a-date", "closed": "on"}, "Enter a valid date."),
    ],
)
def test_exception_bad_input_is_400_and_nothing_changes(st, body, message):
    station = st.objects["station"]
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    body = {k: (tomorrow if v == "{tomorrow}" else v) for k, v in body.items()}
    before = registry_state()
    response = client_for(st.community_staff).post(
        reverse("stations:exception_add", args=[station.pk]), body
    )
    assert response.status_code == 400 and message in html_of(response)
    assert registry_state() == before


def test_edit_refuses_bad_hours_and_other_communities(st):
    station = st.objects["station"]
    before = registry_state()
    client = client_for(st.community_staff)
    response = client.post(
        reverse("stations:edit", args=[station.pk]),
        {"name": "x", "kind": "rider_station", "lat": "40.095", "lng": "113.305", "crs": "wgs84",
         "hours": "每天 8点到晚上", "status": "open"},
    )  # fmt: skip
    assert response.status_code == 400 and "No opening period" in html_of(response)
    other = client_for(st.other_community_staff).get(reverse("stations:edit", args=[station.pk]))
    assert other.status_code == 403
    assert registry_state() == before


def test_upload_and_remove_a_photo(st, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    station = st.objects["station"]
    client = client_for(st.community_staff)
    response = client.post(
        reverse("stations:photo_add", args=[station.pk]),
        {"photo": jpeg_upload(size=(2000, 1500)), "caption": "休息区"},
    )
    assert response.status_code == 302
    photo = StationPhoto.objects.get()
    assert (photo.caption, photo.width, photo.height) == ("休息区", 1600, 1200)
    assert (tmp_path / photo.image.name).exists() and (tmp_path / photo.thumbnail.name).exists()
    page = html_of(client.get(reverse("stations:edit", args=[station.pk])))
    assert photo.thumbnail.url in page
    public = html_of(client_for(None).get(reverse("stations:detail", args=[station.pk])))
    assert photo.thumbnail.url in public and 'alt="休息区"' in public
    before = registry_state()
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = client.post(
        reverse("stations:photo_add", args=[station.pk]),
        {"photo": SimpleUploadedFile("a.jpg", b"not a picture", content_type="image/jpeg")},
    )
    assert bad.status_code == 400 and "photo" in html_of(bad).lower()
    missing = client.post(reverse("stations:photo_add", args=[station.pk]), {})
    assert missing.status_code == 400
    assert registry_state() == before
    image_name = photo.image.name
    with django_capture_on_commit_callbacks(execute=True):  # files go once the row is gone
        gone = client.post(reverse("stations:photo_remove", args=[station.pk, photo.pk]))
    assert gone.status_code == 302 and not StationPhoto.objects.exists()
    assert not (tmp_path / image_name).exists()


def test_record_an_inspection_against_the_street_checklist(st):
    station = st.objects["station"]
    seats, water = st.objects["checklist_item"], st.objects["checklist_item_2"]
    client = client_for(st.community_staff)
    url = reverse("stations:inspect", args=[station.pk])
    form = html_of(client.get(url))
    assert "有休息座椅" in form and "有饮水设施" in form and "6+6" in form
    before = registry_state()
    incomplete = client.post(
        url, {"standard": "6+6", "inspected_on": timezone.localdate().isoformat(),
              f"item_{seats.pk}": "yes"},
    )  # fmt: skip
    assert incomplete.status_code == 400 and "Passed or not?" in html_of(incomplete)
    future = client.post(
        url, {"standard": "6+6", f"item_{seats.pk}": "yes", f"item_{water.pk}": "no",
              "inspected_on": (timezone.localdate() + timedelta(days=2)).isoformat()},
    )  # fmt: skip
    assert future.status_code == 400 and "within the past year" in html_of(future)
    unknown = client.post(url, {"standard": "9+9"})
    assert unknown.status_code == 400
    assert registry_state() == before
    done = client.post(
        url, {"standard": "6+6", "inspected_on": timezone.localdate().isoformat(),
              f"item_{seats.pk}": "yes", f"item_{water.pk}": "yes",
              f"note_{water.pk}": "新装饮水机", "note": "整体良好"},
    )  # fmt: skip
    assert done.status_code == 302
    assert done["Location"] == reverse("stations:inspections", args=[station.pk])
    inspection = Inspection.objects.order_by("-id").first()
    assert (inspection.passed, inspection.total, inspection.inspector) == (
        2, 2, st.community_staff,
    )  # fmt: skip
    listed = html_of(client.get(done["Location"]))
    assert "2 of 2 passed" in listed and "新装饮水机" in listed and "1 of 2 passed" in listed


def test_checklist_admins_add_and_retire_items_staff_only_read(st):
    admin = client_for(st.street_admin)
    url = reverse("stations:checklist")
    page = html_of(admin.get(url))
    assert "有休息座椅" in page and "Add an item" in page
    added = admin.post(
        url, {"street": st.street_a.code, "standard": "6+6", "text": "有充电设施", "sort_order": 3}
    )
    assert added.status_code == 302
    item = ChecklistItem.objects.get(text="有充电设施")
    duplicate = admin.post(
        url, {"street": st.street_a.code, "standard": "6+6", "text": "有充电设施", "sort_order": 3}
    )
    assert duplicate.status_code == 409 and "already has this item" in html_of(duplicate)
    retired = admin.post(reverse("stations:checklist_item", args=[item.pk]), {})
    assert retired.status_code == 302
    item.refresh_from_db()
    assert item.is_active is False
    staff = client_for(st.community_staff)
    read = html_of(staff.get(url))
    assert "有休息座椅" in read and "Add an item" not in read and "有充电设施" not in read
    before = registry_state()
    refused = staff.post(url, {"street": st.street_a.code, "standard": "6+6", "text": "新项"})
    assert refused.status_code == 403
    toggled = staff.post(reverse("stations:checklist_item", args=[item.pk]), {"is_active": "on"})
    assert toggled.status_code == 404
    assert registry_state() == before


def test_console_list_filters_and_people_served(st):
    station = st.objects["station"]
    services.visit_walk_in(station=station, people=4, actor=st.community_staff)
    client = client_for(st.community_staff)
    url = reverse("stations:console_list")
    html = html_of(client.get(url))
    rows = html.split('data-testid="station-row"')[1:]
    assert len(rows) == 2  # A1's station and corner; not A2's
    first = next(r for r in rows if "甲一小哥驿站" in r)
    assert '<td data-label="Served this month" class="num">5</td>' in first  # 1 scan + 4
    assert "甲二小哥驿站" not in html
    assert "小店爱心角" in html_of(client.get(url, {"kind": "corner"}))
    assert "甲一小哥驿站" not in html_of(client.get(url, {"kind": "corner"}))
    assert "小店爱心角" not in html_of(client.get(url, {"q": "甲一路"}))
    assert "甲一小哥驿站" in html_of(client.get(url, {"q": "甲一路"}))
    ignored = client.get(url, {"kind": "castle", "status": "nope"})
    assert ignored.status_code == 200 and "甲一小哥驿站" in html_of(ignored)
    street = html_of(client_for(st.street_admin).get(url))
    assert "甲二小哥驿站" in street


def test_visits_and_inspections_lists(st):
    station = st.objects["station"]
    client = client_for(st.community_staff)
    visits = html_of(client.get(reverse("stations:visits", args=[station.pk])))
    assert "王小明" in visits and "Checked in by QR code" in visits
    inspections = html_of(client.get(reverse("stations:inspections", args=[station.pk])))
    assert "1 of 2 passed" in inspections and "有休息座椅" in inspections


# --- import and export -------------------------------------------------------------------------


def xlsx_upload(data: bytes, name: str = "stations.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def import_rows(client, data: bytes, name: str = "stations.xlsx", **flags: str):
    return client.post(reverse("stations:import"), {"file": xlsx_upload(data, name), **flags})


def test_import_page_has_the_form_the_templates_and_the_columns(st):
    html = html_of(client_for(st.community_staff).get(reverse("stations:import")))
    assert 'enctype="multipart/form-data"' in html
    for field in ('name="file"', 'name="keep_good_rows"', 'name="dry_run"'):
        assert field in html
    template = reverse("stations:import_template")
    assert f'href="{template}?format=xlsx"' in html and f'href="{template}?format=csv"' in html
    columns = html.split('id="import-columns"')[1]
    for column in exchange.COLUMNS:
        assert f"<strong>{column.header}</strong>" in columns
    assert 'id="import-report"' not in html


def test_import_an_xlsx_and_see_the_report(st):
    rows = [
        sheet_row(ref="N-1", name="新驿站"),
        sheet_row(ref="N-2", name="新爱心角", kind="爱心角", lat=40.096, lng=113.316),
    ]
    response = import_rows(client_for(st.community_staff), sheet_xlsx(rows))
    assert response.status_code == 200
    html = html_of(response)
    assert "Imported." in html
    assert '<dd data-testid="report-created">2</dd>' in html
    assert 'id="import-errors"' not in html
    created = Station.objects.filter(ref__in=["N-1", "N-2"]).order_by("ref")
    assert [(s.name, s.kind, s.community) for s in created] == [
        ("新驿站", "rider_station", st.community_a1),
        ("新爱心角", "corner", st.community_a1),
    ]


def test_import_row_errors_are_a_400_report_and_nothing_written(st):
    before = registry_state()
    rows = [
        sheet_row(ref="N-1"),
        sheet_row(ref="N-2", lat="40.1N"),
        sheet_row(ref="N-3", services="飞行"),
        sheet_row(ref="N-4", community=st.community_b1.code, lat=40.085),
    ]
    response = import_rows(client_for(st.community_staff), sheet_xlsx(rows))
    assert response.status_code == 400
    html = html_of(response)
    assert "Nothing was written" in html
    assert '<dd data-testid="report-created">1</dd>' in html  # would be created
    assert '<dd data-testid="report-failed">3</dd>' in html
    errors = re.findall(
        r'<tr data-testid="import-error"><td[^>]*>(\d+)</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)<',
        html,
    )
    assert [(n, col) for n, col, _ in errors] == [("3", "纬度"), ("4", "服务"), ("5", "社区代码")]
    assert errors[0][2].startswith("纬度 must be a decimal number such as 40.0925, not 40.1N")
    assert errors[2][2] == "You do not have permission to do this."
    assert registry_state() == before


def test_import_keep_good_rows_and_dry_run(st):
    client = client_for(st.community_staff)
    before = registry_state()
    dry = import_rows(client, sheet_xlsx([sheet_row(ref="N-1")]), dry_run="on")
    assert dry.status_code == 200 and "Dry run: nothing was written." in html_of(dry)
    assert registry_state() == before
    kept = import_rows(
        client,
        sheet_xlsx([sheet_row(ref="N-1"), sheet_row(ref="N-2", lat="x")]),
        keep_good_rows="on",
    )
    assert kept.status_code == 200
    assert "The good rows were written" in html_of(kept)
    assert Station.objects.filter(ref__in=["N-1", "N-2"]).count() == 1


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "This is not a spreadsheet (it looks like a PNG file)"),
        (None, "lacks the required columns 社区代码、纬度、经度"),
        (b"", "The submitted file is empty."),
    ],
)
def test_import_a_bad_file_is_a_400_on_the_form(st, data, message):
    if data is None:
        data = sheet_xlsx([], header=["名称", "类型"])
    before = registry_state()
    response = import_rows(client_for(st.community_staff), data)
    assert response.status_code == 400
    assert message in html_of(response)
    assert 'id="import-report"' not in html_of(response)
    assert registry_state() == before


def test_console_list_links_to_import_and_export_with_its_filters(st):
    client = client_for(st.community_staff)
    html = html_of(client.get(reverse("stations:console_list"), {"kind": "corner"}))
    assert f'href="{reverse("stations:import")}"' in html
    export = reverse("stations:export")
    assert f'href="{export}?kind=corner&amp;format=xlsx"' in html
    assert f'href="{export}?kind=corner&amp;format=csv"' in html
    plain = html_of(client.get(reverse("stations:console_list")))
    assert f'href="{export}?format=csv"' in plain


def exported_names(response) -> list[str]:
    from openpyxl import load_workbook

    assert response.status_code == 200
    assert response["Content-Type"] == exchange.XLSX_CONTENT_TYPE
    assert response["Content-Disposition"].startswith('attachment; filename="stations-')
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)]


def test_export_keeps_the_lists_filters_and_scope(st):
    client = client_for(st.community_staff)
    url = reverse("stations:export")
    assert exported_names(client.get(url)) == ["甲一小哥驿站", "小店爱心角"]  # not A2's
    assert exported_names(client.get(url, {"kind": "corner", "format": "xlsx"})) == ["小店爱心角"]
    csv = client.get(url, {"q": "甲一路", "format": "csv"})
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and "甲一小哥驿站" in lines[1]
    street = exported_names(client_for(st.street_admin).get(url))
    assert "甲二小哥驿站" in street
    bad = client.get(url, {"format": "ods"})
    assert bad.status_code == 400 and "Unknown format ods" in html_of(bad)


def test_export_then_import_again_changes_nothing(world):
    """Stations with a reference (外部编号) come back as "unchanged"."""
    registry(world)
    client = client_for(world.community_staff)
    exported = client.get(reverse("stations:export"))
    before = registry_state()
    response = import_rows(client, exported.content)
    assert response.status_code == 200
    html = html_of(response)
    assert '<dd data-testid="report-unchanged">2</dd>' in html
    assert '<dd data-testid="report-created">0</dd>' in html
    assert registry_state()[:-1] == before[:-1]  # the registry (the audit log may record updates)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_template_downloads(st, fmt):
    response = client_for(st.other_community_staff).get(
        reverse("stations:import_template"), {"format": fmt}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="stations-template.{fmt}"'
    # Its example row lies in the user's own community (A2), so it imports as it is.
    report = exchange.import_stations(
        response.content, actor=st.other_community_staff, dry_run=True
    )
    assert (report.ok, report.created) == (True, 1)


# --- the merchant ------------------------------------------------------------------------------


def test_merchant_updates_services_hours_and_status_and_records_walk_ins(st):
    corner = st.objects["corner"]
    client = client_for(st.merchant)
    home = html_of(client.get(reverse("stations:merchant_home")))
    assert "小店爱心角" in home and "甲一小哥驿站" not in home
    url = reverse("stations:merchant_station", args=[corner.pk])
    page = html_of(client.get(url))
    assert "24小时" in page and 'data-testid="served">0<' in page
    (key,) = keys_on(page)
    saved = client.post(
        url, {"status": "suspended", "status_note": "店内装修，10号恢复",
              "services": ["water", "phone_charging", "meals"], "hours": "每天 07:00-21:00",
              "contact_name": "老板", "contact_phone": "13912345678"},
    )  # fmt: skip
    assert saved.status_code == 302
    corner.refresh_from_db()
    assert corner.status == StationStatus.SUSPENDED and corner.status_note == "店内装修，10号恢复"
    assert services.service_codes(corner.services_mask) == ["water", "phone_charging", "meals"]
    assert corner.hours == {"week": {str(d): [["07:00", "21:00"]] for d in range(1, 8)}}
    walk_in = reverse("stations:walk_in", args=[corner.pk])
    body = {"people": "3", "note": "充电", "idempotency_key": key}
    assert client.post(walk_in, body).status_code == 302
    assert client.post(walk_in, body).status_code == 302  # a double tap: counted once
    visit = Visit.objects.get(station=corner)
    assert (visit.kind, visit.people, visit.recorded_by) == (VisitKind.WALK_IN, 3, st.merchant)
    after = html_of(client.get(url))
    assert 'data-testid="served">3<' in after and "Suspended" in after


@pytest.mark.parametrize(
    "body, message",
    [
        ({"people": "0", "idempotency_key": "walk-in-key-0001"}, "whole number from 1 to 500"),
        ({"people": "501", "idempotency_key": "walk-in-key-0002"}, "whole number from 1 to 500"),
        ({"people": "many", "idempotency_key": "walk-in-key-0003"}, "Enter a whole number."),
        ({"people": "2", "idempotency_key": "short"}, "idempotency key"),
    ],
)
def test_merchant_bad_walk_in_is_400_and_nothing_written(st, body, message):
    corner = st.objects["corner"]
    before = registry_state()
    response = client_for(st.merchant).post(reverse("stations:walk_in", args=[corner.pk]), body)
    assert response.status_code == 400 and message in html_of(response)
    assert registry_state() == before


def test_merchant_bad_update_is_400_and_other_stations_are_not_theirs(st):
    corner = st.objects["corner"]
    client = client_for(st.merchant)
    before = registry_state()
    url = reverse("stations:merchant_station", args=[corner.pk])
    bad = client.post(url, {"status": "open", "hours": "周一 9点"})
    assert bad.status_code == 400 and "No opening period" in html_of(bad)
    wrong = client.post(url, {"status": "closed-forever"})
    assert wrong.status_code == 400
    station = st.objects["station"]
    other = client.get(reverse("stations:merchant_station", args=[station.pk]))
    assert other.status_code == 404
    assert registry_state() == before


# --- query counts ------------------------------------------------------------------------------


def _more_stations(world, n):
    for i in range(n):
        services.station_create(
            name=f"加站{i:02d}", kind="corner", community=world.community_a1,
            lat=40.0905 + 0.0003 * (i % 30), lng=113.301 + 0.0005 * (i // 30 + i % 7),
            services=["water"], hours="每天 06:00-23:00", actor=world.community_staff,
        )  # fmt: skip


def _queries(client, url, params=None) -> int:
    client.get(url, params)  # warm the catalogue cache and the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["anonymous", "rider"])
def test_nearby_query_count_does_not_grow_with_rows(st, who):
    client = client_for(st.account(who))
    url = reverse("stations:nearby")
    _more_stations(st, 3)
    few = _queries(client, url, NEAR_A1)
    _more_stations(st, 27)
    many = _queries(client, url, NEAR_A1)
    # The search is one statement when its first stage (1 km) holds the page, as with many
    # stations here, and two when it does not, as with few: never more with the rows.
    assert few == many + 1
    # A signed-in rider adds the session, the user, their community, the inbox badge and the
    # privacy-notice check (people.templatetags.consent, once per request).
    assert many <= (2 if who == "anonymous" else 6)


def test_console_list_query_count_does_not_grow_with_rows(st):
    client = client_for(st.community_staff)
    url = reverse("stations:console_list")
    for n in range(3):
        services.visit_walk_in(station=st.objects["corner"], people=n + 1, actor=st.merchant)
    _more_stations(st, 3)
    few = _queries(client, url)
    _more_stations(st, 27)
    many = _queries(client, url)
    assert few == many
