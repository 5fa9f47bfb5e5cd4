"""Rate limits on registration, report submission, station check-in and redemptions: over the
limit a 429 with Retry-After and a readable message, and nothing written."""

import pytest
from django.test import Client

from tests.api.helpers import call, client_for
from tests.api.test_points_api import shop  # noqa: F401 - the fixture
from tests.world import PASSWORD, report_jpeg, station_objects
from yizhan.people.models import RiderProfile
from yizhan.reports.models import Report
from yizhan.rewards.models import Redemption
from yizhan.stations import services as station_services
from yizhan.stations.models import Visit


@pytest.fixture
def limits(settings):
    settings.RATELIMIT_ENABLED = True

    def set_limit(name, value):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, name: value}

    return set_limit


def limited(response):
    assert response.status_code == 429, response.content[:300]
    body = response.json()
    assert body["code"] == "rate_limited" and body["message"]
    assert int(response["Retry-After"]) >= 1
    assert body["detail"] == {"retry_after": int(response["Retry-After"])}
    return body


def registration(phone):
    return {
        "name": "新骑手",
        "phone": phone,
        "password": PASSWORD,
        "community": "440000001001",
        "platform": "jd",
        "occupation": "courier",
        "vehicle": "e_bike",
        "work_lat": 40.095,
        "work_lng": 113.305,
        "consent": True,
    }


def test_registration_is_limited_per_address(world, limits):
    limits("register", "1/1h")
    client = Client(REMOTE_ADDR="203.0.113.5")
    first = call(client, "POST", "/api/v1/riders/register", registration("13511110001"))
    assert first.status_code == 201, first.content
    count = RiderProfile.objects.count()
    limited(call(client, "POST", "/api/v1/riders/register", registration("13511110002")))
    assert RiderProfile.objects.count() == count
    # The page counts against the same limit; another address still registers.
    page = Client(REMOTE_ADDR="203.0.113.5").post("/register/", registration("13511110003"))
    assert page.status_code == 429 and int(page["Retry-After"]) >= 1
    assert b"<h1>" in page.content
    other = Client(REMOTE_ADDR="203.0.113.6")
    assert (
        call(other, "POST", "/api/v1/riders/register", registration("13511110004")).status_code
        == 201
    )


def test_report_submission_is_limited_per_rider(world, limits, settings, tmp_path):
    from tests.world import report_objects
    from yizhan.reports.models import Category

    settings.MEDIA_ROOT = tmp_path
    report_objects(world)
    limits("report_submit", "1/1h")
    category = Category.objects.filter(street__code="440000001").first()
    rider = client_for(world.rider.user)

    def submit(key):
        data = {
            "category": category.pk,
            "lat": 40.095,
            "lng": 113.315,
            "description": "楼道里堆满了纸箱",
            "photos": [report_jpeg(901)],
        }
        return rider.post("/api/v1/reports", data=data, headers={"Idempotency-Key": key})

    first = submit("limit-report-key-0001")
    assert first.status_code == 201
    before = Report.objects.count()
    limited(submit("limit-report-key-0002"))
    assert Report.objects.count() == before
    # A phone that lost the first answer retries with its key: it gets the report, not a 429.
    again = submit("limit-report-key-0001")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Report.objects.count() == before
    # Another rider has an allowance of their own.
    other = client_for(world.other_rider.user).get("/api/v1/reports/mine")
    assert other.status_code == 200


def test_check_in_is_limited_per_rider(world, limits):
    made = station_objects(world)
    station = made["corner"]
    limits("check_in", "1/1h")
    rider = client_for(world.rider.user)
    path = f"/api/v1/stations/{station.pk}/checkin"
    token = station_services.qr_token(station)
    first = call(
        rider, "POST", path, {"token": token}, headers={"Idempotency-Key": "limit-checkin-0001"}
    )
    assert first.status_code == 201
    visits = Visit.objects.count()
    limited(
        call(
            rider, "POST", path, {"token": token}, headers={"Idempotency-Key": "limit-checkin-0002"}
        )
    )
    assert Visit.objects.count() == visits
    retry = call(
        rider, "POST", path, {"token": token}, headers={"Idempotency-Key": "limit-checkin-0001"}
    )
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    assert Visit.objects.count() == visits


def test_redemptions_are_limited_per_rider(shop, limits):  # noqa: F811
    limits("redemption", "1/1h")
    rider = client_for(shop.rider.user)
    path = f"/api/v1/rewards/{shop.reward.pk}/reserve"
    body = {"station_id": shop.station.pk}
    first = call(rider, "POST", path, body, headers={"Idempotency-Key": "limit-reserve-0001"})
    assert first.status_code == 201
    count = Redemption.objects.count()
    limited(call(rider, "POST", path, body, headers={"Idempotency-Key": "limit-reserve-0002"}))
    assert Redemption.objects.count() == count
    retry = call(rider, "POST", path, body, headers={"Idempotency-Key": "limit-reserve-0001"})
    assert retry.status_code == 201 and retry.json()["id"] == first.json()["id"]
    assert Redemption.objects.count() == count


def test_the_openapi_document_declares_429_on_limited_operations(db):
    doc = Client().get("/api/v1/openapi.json").json()
    for path, method in [
        ("/api/v1/riders/register", "post"),
        ("/api/v1/reports", "post"),
        ("/api/v1/auth/token", "post"),
    ]:
        assert "429" in doc["paths"][path][method]["responses"]
