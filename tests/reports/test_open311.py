"""Open311 GeoReport v2 at /open311/v2/: discovery, services, a service's definition, filing a
request with a key, reading requests back, tokens; JSON and XML with the spec's element names;
errors in the spec's format; our statuses mapped to open / closed; nothing of the reporter shown.

Streets A and B both take requests here (A has the standard categories, B one), so every call
names its street with ``jurisdiction_id`` unless a test says otherwise.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from types import SimpleNamespace
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.utils import timezone, translation

from tests.world import report_jpeg
from yizhan.core.models import AuditEntry
from yizhan.core.workcalendar import TZ
from yizhan.people.models import User
from yizhan.people.services import department_create
from yizhan.reports import services
from yizhan.reports.choices import PointsStatus, ReportStatus, Source
from yizhan.reports.models import Category, Report, ReportPhoto

A, B = "440000001", "440000002"
BASE = "/open311/v2"
#: A point in community A1's west grid (street A), one in B1 (street B), one outside every grid.
IN_A, IN_B, NOWHERE = ("40.095", "113.305"), ("40.085", "113.31"), ("39.5", "113.305")
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords",
                  "group"]  # fmt: skip
REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
    "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
]  # fmt: skip


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def served(world):
    """Street A's standard categories and a department; street B's one category; a key for A."""
    admin = world.street_admin
    categories = {c.code: c for c in services.categories_seed(street=world.street_a, actor=admin)}
    litter = services.category_create(
        street=world.street_b, code="litter", name="乱扔垃圾", family="city_appearance",
        actor=world.district_admin,
    )  # fmt: skip
    department = department_create(name="城管队", area=world.street_a, actor=admin)
    key, raw = services.open311_key_issue(street=world.street_a, name="12345 热线", actor=admin)
    return SimpleNamespace(
        categories=categories, litter=litter, department=department, key=key, raw=raw
    )


def client() -> Client:
    c = Client(enforce_csrf_checks=True)  # an outside client has no CSRF token
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


def get(path: str, **params):
    params.setdefault("jurisdiction_id", A)
    params = {k: v for k, v in params.items() if v is not None}
    return client().get(f"{BASE}/{path}", params)


def post(fmt: str = "json", headers=None, **fields):
    body = {
        "jurisdiction_id": A,
        "service_code": "flying_wire",
        "lat": IN_A[0],
        "long": IN_A[1],
        "description": "三楼窗户拉线给电动车充电",
        **fields,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return client().post(f"{BASE}/requests.{fmt}", body, headers=headers or {})


def file(served, **fields) -> Report:
    response = post(api_key=served.raw, **fields)
    assert response.status_code == 200, response.content
    return Report.objects.get(pk=response.json()[0]["service_request_id"])


def xml(response) -> ElementTree.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(response.content)


def as_json(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def assert_error(response, status: int, fmt: str = "json", says: str = "") -> str:
    """The spec's error format: a list of {code, description}; the code is the HTTP status."""
    assert response.status_code == status
    if fmt == "json":
        body = as_json(response)
        assert isinstance(body, list) and len(body) == 1
        assert list(body[0]) == ["code", "description"]
        assert body[0]["code"] == status
        description = body[0]["description"]
    else:
        root = xml(response)
        assert root.tag == "errors"
        assert [e.tag for e in root] == ["error"]
        assert [e.tag for e in root[0]] == ["code", "description"]
        assert root[0].findtext("code") == str(status)
        description = root[0].findtext("description")
    assert description
    assert says in description
    return description


def counts() -> tuple[int, int, int, int]:
    return (
        Report.objects.count(),
        ReportPhoto.objects.count(),
        User.objects.count(),
        AuditEntry.objects.count(),
    )


# --- discovery -----------------------------------------------------------------------------------


def test_discovery_in_json(served):
    body = as_json(client().get(f"{BASE}/discovery.json"))
    assert list(body) == ["changeset", "contact", "key_service", "endpoints"]
    assert body["changeset"].endswith("+08:00")
    (endpoint,) = body["endpoints"]
    assert endpoint == {
        "specification": "http://wiki.open311.org/GeoReport_v2",
        "url": "http://testserver/open311/v2",
        "changeset": body["changeset"],
        "type": "production",
        "formats": ["text/xml", "application/json"],
    }


def test_discovery_in_xml(served):
    root = xml(client().get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [e.tag for e in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoints = root.find("endpoints")
    assert [e.tag for e in endpoints] == ["endpoint"]
    endpoint = endpoints[0]
    assert [e.tag for e in endpoint] == ["specification", "url", "changeset", "type", "formats"]
    assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]
    assert endpoint.findtext("url") == "http://testserver/open311/v2"


def test_the_changeset_moves_when_a_service_changes(served):
    before = as_json(client().get(f"{BASE}/discovery.json"))["changeset"]
    category = served.categories["flying_wire"]
    Category.objects.filter(pk=category.pk).update(updated_at=timezone.now() + timedelta(days=1))
    after = as_json(client().get(f"{BASE}/discovery.json"))["changeset"]
    assert after > before


# --- services ------------------------------------------------------------------------------------


def test_services_in_json(served):
    body = as_json(get("services.json"))
    codes = [s["service_code"] for s in body]
    # The standard catalogue without its urgent categories (一老一小, road collapse).
    assert "flying_wire" in codes and "stairwell_clutter" in codes
    assert "elderly_child" not in codes and "road_collapse" not in codes
    assert len(codes) == len(served.categories) - 2
    wire = body[codes.index("flying_wire")]
    assert list(wire) == SERVICE_FIELDS
    assert wire["service_name"] == "Charging by a wire from a window"
    assert wire["description"] == "电动车从楼上窗户拉线充电、楼道内充电"
    assert wire["metadata"] is True
    assert wire["type"] == "realtime"
    assert wire["keywords"] == "飞线充电, Charging by a wire from a window, flying_wire"
    assert wire["group"] == "Housing safety (房屋安全)"


def test_services_in_xml(served):
    root = xml(get("services.xml"))
    assert root.tag == "services"
    assert {e.tag for e in root} == {"service"}
    first = root[0]
    assert [e.tag for e in first] == SERVICE_FIELDS
    assert first.findtext("metadata") == "true"
    assert first.findtext("type") == "realtime"
    assert "elderly_child" not in [s.findtext("service_code") for s in root]


def test_each_street_has_its_own_services(served):
    assert [s["service_code"] for s in as_json(get("services.json", jurisdiction_id=B))] == [
        "litter"
    ]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_jurisdiction_id_is_required_when_several_streets_are_served(served, fmt):
    response = client().get(f"{BASE}/services.{fmt}")
    assert_error(response, 400, fmt, "jurisdiction_id was not provided")


@pytest.mark.parametrize("code", ["440000009", "440000001001", "sfgov.org"])
def test_an_unknown_jurisdiction_is_a_404(served, code):
    assert_error(get("services.xml", jurisdiction_id=code), 404, "xml", "was not found")


def test_one_street_needs_no_jurisdiction_id(world):
    services.categories_seed(street=world.street_a, actor=world.street_admin)
    body = as_json(client().get(f"{BASE}/services.json"))
    assert "flying_wire" in [s["service_code"] for s in body]


def test_a_street_without_categories_in_use_is_not_a_jurisdiction(world, served):
    services.category_update(category=served.litter, is_active=False, actor=world.district_admin)
    assert_error(get("services.json", jurisdiction_id=B), 404)
    # Street A is the only one left: the id may be left out.
    assert as_json(client().get(f"{BASE}/services.json"))


# --- a service's definition --------------------------------------------------------------------


def test_service_definition_in_json(served):
    body = as_json(get("services/stairwell_clutter.json"))
    assert list(body) == ["service_code", "attributes"]
    assert body["service_code"] == "stairwell_clutter"
    assert [a["code"] for a in body["attributes"]] == ["building", "unit", "floor"]
    building = body["attributes"][0]
    assert list(building) == [
        "variable", "code", "datatype", "required", "datatype_description", "order",
        "description",
    ]  # fmt: skip
    assert building["variable"] is True
    assert building["datatype"] == "string"
    assert building["required"] is False
    assert [a["order"] for a in body["attributes"]] == [1, 2, 3]


def test_service_definition_in_xml(served):
    root = xml(get("services/stairwell_clutter.xml"))
    assert root.tag == "service_definition"
    assert [e.tag for e in root] == ["service_code", "attributes"]
    attributes = root.find("attributes")
    assert [e.tag for e in attributes] == ["attribute"] * 3
    assert attributes[0].findtext("code") == "building"
    assert attributes[0].findtext("required") == "false"
    assert attributes[2].findtext("order") == "3"


@pytest.mark.parametrize("code", ["nothing_like_it", "elderly_child", "litter"])
def test_an_unknown_or_urgent_or_other_streets_service_is_a_404(served, code):
    assert_error(get(f"services/{code}.json"), 404, says=f"service_code {code} was not found")


def test_an_unknown_format_is_a_404_in_xml(served):
    assert_error(get("services.html"), 404, "xml", "Unknown format html")


# --- filing a request ----------------------------------------------------------------------------


def test_post_a_request_in_json(served):
    response = post(
        api_key=served.raw,
        address_string="甲一路 8 号",
        **{"attribute[building]": "3号楼", "attribute[unit]": "2单元", "attribute[floor]": "3层"},
    )
    assert response.status_code == 200
    (answer,) = as_json(response)
    assert list(answer) == ["service_request_id", "service_notice", "account_id"]
    assert answer["account_id"] is None
    assert answer["service_notice"] == (
        "We aim to have it handled within 1 working days (工作日) of dispatch."
    )
    report = Report.objects.get(pk=answer["service_request_id"])
    assert report.source == Source.OPEN311
    assert report.reporter_id == served.key.account_id
    assert report.category == served.categories["flying_wire"]
    assert report.status == ReportStatus.SUBMITTED
    assert (report.lat, report.lng) == (40.095, 113.305)
    assert report.input_crs == "wgs84"
    assert report.grid.code == "440000001001001"
    assert (report.address, report.building, report.unit, report.floor) == (
        "甲一路 8 号", "3号楼", "2单元", "3层",
    )  # fmt: skip
    assert report.description == "三楼窗户拉线给电动车充电"
    assert not report.photos.exists()


def test_post_a_request_in_xml(served):
    root = xml(post("xml", api_key=served.raw))
    assert root.tag == "service_requests"
    assert [e.tag for e in root] == ["request"]
    assert [e.tag for e in root[0]] == ["service_request_id", "service_notice", "account_id"]
    assert Report.objects.filter(pk=int(root[0].findtext("service_request_id"))).exists()
    assert root[0].find("account_id").text is None


def test_the_personal_fields_of_a_post_are_not_stored(served):
    report = file(
        served, email="ann@example.com", first_name="Ann", last_name="Lee",
        phone="13512345678", account_id="crm-77", device_id="device-123",
    )  # fmt: skip
    account = User.objects.get(pk=report.reporter_id)
    assert account == served.key.account
    assert (account.email, account.phone_masked, account.phone_index) == ("", "", None)
    stored = json.dumps(
        [list(AuditEntry.objects.values_list("data", flat=True)),
         list(Report.objects.values()), list(User.objects.values("username", "name", "email"))],
        default=str, ensure_ascii=False,
    )  # fmt: skip
    for value in ("ann@example.com", "Ann", "Lee", "13512345678", "crm-77", "device-123"):
        assert value not in stored


def test_the_client_account_cannot_log_in_and_earns_nothing(served, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    account = served.key.account
    assert account.role == "merchant" and not account.has_usable_password()
    assert account.area is None and not account.is_staff
    assert not Client().login(username=account.username, password="")
    report = file(served)
    staff = served.key.created_by
    report = services.report_dispatch(report=report, actor=staff, department=served.department)
    report = services.report_handle(
        report=report, actor=staff, note="已拆除", photos=[report_jpeg(7, name="after.jpg")]
    )
    report = services.report_verify(report=report, actor=staff, passed=True)
    assert report.status == ReportStatus.VERIFIED
    report.refresh_from_db()
    assert report.points_status == PointsStatus.NONE  # not paid, and not held for review
    assert report.flags == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_a_key_is_a_403(served, fmt):
    before = counts()
    assert_error(post(fmt), 403, fmt, "api_key was not provided")
    assert counts() == before


@pytest.mark.parametrize("raw", ["o311_wrong", "x" * 500])
def test_post_with_a_wrong_key_is_a_403(served, raw):
    before = counts()
    assert_error(post(api_key=raw), 403, says="Invalid api_key")
    assert counts() == before


def test_post_with_a_revoked_key_is_a_403(served):
    services.open311_key_revoke(key=served.key, actor=served.key.created_by)
    before = counts()
    assert_error(post(api_key=served.raw), 403, says="Invalid api_key")
    assert counts() == before


def test_a_key_files_only_in_its_own_street(served):
    before = counts()
    response = post(api_key=served.raw, jurisdiction_id=B, service_code="litter",
                    lat=IN_B[0], long=IN_B[1])  # fmt: skip
    assert_error(response, 403, says="another street")
    assert counts() == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_with_an_unknown_service_code_is_a_404(served, fmt):
    """The spec's POST lists "404 - service_code … was not found"."""
    before = counts()
    assert_error(post(fmt, api_key=served.raw, service_code="potholes"), 404, fmt, "potholes")
    assert counts() == before


def test_post_to_an_urgent_service_is_refused(served):
    before = counts()
    assert_error(post(api_key=served.raw, service_code="elderly_child"), 404)
    assert counts() == before


@pytest.mark.parametrize(
    "fields, says",
    [
        ({"service_code": ""}, "service_code was not provided"),
        ({"lat": "abc"}, "Latitude must be a number"),
        ({"lat": "95"}, "Latitude must be a number between -90 and 90"),
        ({"long": "200"}, "Longitude must be a number"),
        ({"lat": "nan"}, "Latitude must be a number"),
        ({"long": None}, "Send both lat and long"),
        ({"lat": None, "long": None}, "A location is required"),
        ({"lat": None, "long": None, "address_string": "甲一路 8 号"}, "address_string alone"),
        ({"lat": NOWHERE[0], "long": NOWHERE[1]}, "outside every grid"),
        ({"lat": IN_B[0], "long": IN_B[1]}, "is not a category of"),
        ({"description": ""}, "Please say in a few words what is wrong"),
        ({"description": "很" * 501}, "At most 500 characters"),
        ({"attribute[colour]": "red"}, "Unknown attribute colour"),
        ({"attribute[building][]": "3号楼"}, "takes one value"),
        ({"attribute[floor]": "层" * 21}, "At most 20 characters"),
    ],
)
def test_bad_input_is_a_400_and_files_nothing(served, fields, says):
    before = counts()
    assert_error(post(api_key=served.raw, **fields), 400, says=says)
    assert counts() == before


def test_a_retry_returns_the_first_request(served):
    first = post(api_key=served.raw, device_id="phone-1")
    again = post(api_key=served.raw, device_id="phone-1")
    assert as_json(first) == as_json(again)
    assert Report.objects.count() == 1
    # Another device, or another text, is another request.
    other = post(api_key=served.raw, device_id="phone-2")
    assert as_json(other)[0]["service_request_id"] != as_json(first)[0]["service_request_id"]
    assert Report.objects.count() == 2


def test_a_client_token_makes_the_retry_exact(served):
    headers = {"Idempotency-Key": "hotline-call-0001"}
    first = as_json(post(api_key=served.raw, headers=headers))
    assert as_json(post(api_key=served.raw, headers=headers)) == first
    before = counts()
    response = post(api_key=served.raw, headers=headers, description="另一件事")
    assert_error(response, 400, says="already used for a different request")
    assert counts() == before
    # The same token from a form field, as clients that cannot set headers send it.
    assert as_json(post(api_key=served.raw, idempotency_key="hotline-call-0001")) == first


def test_only_get_and_post(served):
    response = client().put(f"{BASE}/requests.json")
    assert_error(response, 405)
    assert response["Allow"] == "GET, HEAD, POST"
    assert_error(client().post(f"{BASE}/services.json", {"jurisdiction_id": A}), 405)


# --- reading requests back -----------------------------------------------------------------------


def move(report: Report, to: str, served, settings, tmp_path) -> Report:
    """Take a filed request through the workflow to ``to`` (staff of street A)."""
    settings.MEDIA_ROOT = tmp_path
    staff = served.key.created_by
    if to == "accepted":
        return services.report_accept(report=report, actor=staff)
    if to == "rejected":
        return services.report_reject(report=report, actor=staff, reason="不属于本街道")
    report = services.report_dispatch(report=report, actor=staff, department=served.department)
    if to == "dispatched":
        return report
    report = services.report_handle(
        report=report, actor=staff, note="已处理", photos=[report_jpeg(report.pk, name="a.jpg")]
    )
    if to == "handled":
        return report
    report = services.report_verify(report=report, actor=staff, passed=True)
    if to == "verified":
        return report
    return services.report_close(report=report, actor=staff)


@pytest.mark.parametrize(
    "to, status, notes",
    [
        ("submitted", "open", "Submitted"),
        ("accepted", "open", "Accepted"),
        ("dispatched", "open", "Dispatched"),
        ("handled", "open", "Handled"),
        ("verified", "closed", "Verified"),
        ("closed", "closed", "Closed"),
        ("rejected", "closed", "Rejected"),
    ],
)
def test_our_statuses_map_to_open_and_closed(served, settings, tmp_path, to, status, notes):
    report = file(served)
    if to != "submitted":
        report = move(report, to, served, settings, tmp_path)
    report.refresh_from_db()
    (row,) = as_json(get(f"requests/{report.pk}.json"))
    assert row["status"] == status
    assert row["status_notes"] == notes
    if status == "closed":
        closed_at = report.verified_at if to == "verified" else report.closed_at
        assert row["updated_datetime"] == timezone.localtime(closed_at).isoformat("T", "seconds")
    if to == "rejected":
        assert row["description"] is None  # a rejected text is not republished
    else:
        assert row["description"] == "三楼窗户拉线给电动车充电"


def test_a_merged_request_is_closed_as_a_duplicate(served):
    first, second = file(served), file(served, description="又看见有人拉线充电")
    services.report_merge(report=second, into=first, actor=served.key.created_by)
    (row,) = as_json(get(f"requests/{second.pk}.json"))
    assert row["status"] == "closed"
    assert row["status_notes"] == f"Duplicate: merged into request {first.pk}."


def test_an_overdue_request_says_so(served):
    report = services.report_dispatch(
        report=file(served), actor=served.key.created_by, department=served.department
    )
    Report.objects.filter(pk=report.pk).update(deadline_at=timezone.now() - timedelta(hours=1))
    (row,) = as_json(get(f"requests/{report.pk}.json"))
    assert (row["status"], row["status_notes"]) == ("open", "Dispatched, overdue")


def test_get_one_request_in_json(served):
    report = file(served, address_string="甲一路 8 号")
    report = services.report_dispatch(
        report=report, actor=served.key.created_by, department=served.department
    )
    (row,) = as_json(get(f"requests/{report.pk}.json"))
    assert list(row) == REQUEST_FIELDS
    assert row["service_request_id"] == report.pk
    assert row["service_code"] == "flying_wire"
    assert row["service_name"] == "Charging by a wire from a window"
    assert row["agency_responsible"] == "城管队"
    assert row["expected_datetime"] == timezone.localtime(report.deadline_at).isoformat(
        "T", "seconds"
    )
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert row[field].endswith("+08:00")
    assert row["address"] == "甲一路 8 号, 甲一社区, 甲街道"
    assert (row["address_id"], row["zipcode"]) == (None, None)
    assert (row["lat"], row["long"]) == (40.095, 113.305)
    assert "media_url" not in row


def test_get_one_request_in_xml(served):
    report = file(served)
    root = xml(get(f"requests/{report.pk}.xml"))
    assert root.tag == "service_requests"
    assert [e.tag for e in root] == ["request"]
    assert [e.tag for e in root[0]] == REQUEST_FIELDS
    assert root[0].findtext("service_request_id") == str(report.pk)
    assert root[0].findtext("status") == "open"
    assert root[0].find("agency_responsible").text is None  # not dispatched yet
    assert root[0].find("expected_datetime").text is None
    assert root[0].findtext("lat") == "40.095"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_request_is_a_404(served, fmt):
    assert_error(get(f"requests/999999.{fmt}"), 404, fmt, "999999 was not found")
    assert_error(get(f"requests/abc.{fmt}"), 404, fmt)


def test_another_streets_request_is_not_found_in_this_one(served):
    report = file(served)
    assert_error(get(f"requests/{report.pk}.json", jurisdiction_id=B), 404)


def test_an_urgent_report_is_never_published(world, served):
    report = services.report_submit(
        reporter=world.rider.user, category=served.categories["elderly_child"], lat=IN_A[0],
        lng=IN_A[1], description="一位老人在路口迷路", idempotency_key="urgent-0001",
        source=Source.OPEN311,
    )  # fmt: skip
    assert_error(get(f"requests/{report.pk}.json"), 404)
    assert as_json(get("requests.json")) == []


def test_get_requests_lists_the_last_90_days_newest_first(served):
    old, recent, newest = file(served), file(served, device_id="2"), file(served, device_id="3")
    Report.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))
    body = as_json(get("requests.json"))
    assert [r["service_request_id"] for r in body] == [newest.pk, recent.pk]
    assert all(list(r) == REQUEST_FIELDS for r in body)
    root = xml(get("requests.xml"))
    assert root.tag == "service_requests"
    assert [r.findtext("service_request_id") for r in root] == [str(newest.pk), str(recent.pk)]


def test_get_requests_by_status(served):
    open_one = file(served)
    rejected = services.report_reject(
        report=file(served, device_id="2"), actor=served.key.created_by, reason="重复"
    )
    ids = lambda **p: [r["service_request_id"] for r in as_json(get("requests.json", **p))]  # noqa: E731
    assert ids(status="open") == [open_one.pk]
    assert ids(status="closed") == [rejected.pk]
    assert ids(status="open,closed") == [rejected.pk, open_one.pk]
    assert_error(get("requests.json", status="pending"), 400, says="status is open or closed")


def test_get_requests_by_service_code(served):
    wire = file(served)
    clutter = file(served, service_code="stairwell_clutter")
    ids = lambda **p: [r["service_request_id"] for r in as_json(get("requests.json", **p))]  # noqa: E731
    assert ids(service_code="stairwell_clutter") == [clutter.pk]
    assert ids(service_code="stairwell_clutter,flying_wire") == [clutter.pk, wire.pk]
    assert ids(service_code="potholes") == []


def test_get_requests_by_dates(served):
    first, second = file(served), file(served, device_id="2")
    Report.objects.filter(pk=first.pk).update(created_at=datetime(2026, 1, 10, 9, 0, tzinfo=TZ))
    Report.objects.filter(pk=second.pk).update(created_at=datetime(2026, 2, 20, 9, 0, tzinfo=TZ))
    ids = lambda **p: [r["service_request_id"] for r in as_json(get("requests.json", **p))]  # noqa: E731
    # 09:00 in Beijing is 01:00 UTC: the offset is honoured.
    assert ids(start_date="2026-01-10T01:00:00Z", end_date="2026-01-11T00:00:00Z") == [first.pk]
    assert ids(start_date="2026-01-10T01:00:01Z", end_date="2026-01-11T00:00:00Z") == []
    assert ids(start_date="2026-01-01T00:00:00+08:00", end_date="2026-03-01T00:00:00+08:00") == [
        second.pk,
        first.pk,
    ]
    # Only a start: 90 days from it; only an end: 90 days up to it; "+" sent unencoded.
    assert ids(start_date="2026-02-01T00:00:00+08:00") == [second.pk]
    assert ids(end_date="2026-01-31T00:00:00+08:00") == [first.pk]
    response = client().get(
        f"{BASE}/requests.json?jurisdiction_id={A}&start_date=2026-02-01T00:00:00+08:00"
    )
    assert [r["service_request_id"] for r in as_json(response)] == [second.pk]
    # A date alone is midnight in Beijing.
    assert ids(start_date="2026-02-20", end_date="2026-02-21") == [second.pk]


@pytest.mark.parametrize(
    "params, says",
    [
        ({"start_date": "yesterday"}, "start_date must be a date and time in W3C format"),
        ({"end_date": "2026-13-01T00:00:00Z"}, "end_date must be"),
        ({"start_date": "0001-01-01T00:00:00Z"}, "start_date must be"),
        ({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"}, "before"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
        ({"service_request_id": "1;DROP"}, "numbers separated by commas"),
    ],
)
def test_bad_filters_are_a_400(served, params, says):
    assert_error(get("requests.json", **params), 400, says=says)


def test_service_request_id_overrides_every_other_filter(served):
    old, other = file(served), file(served, service_code="stairwell_clutter")
    Report.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    body = as_json(
        get("requests.json", service_request_id=f"{old.pk}, {other.pk},999999", status="closed",
            service_code="litter")
    )  # fmt: skip
    assert sorted(r["service_request_id"] for r in body) == sorted([old.pk, other.pk])


# --- tokens --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_tokens_are_never_issued(served, fmt):
    assert_error(get(f"tokens/12345.{fmt}"), 404, fmt, "realtime")


def test_tokens_check_the_jurisdiction(served):
    assert_error(client().get(f"{BASE}/tokens/12345.json"), 400)


# --- privacy -------------------------------------------------------------------------------------


def test_nothing_of_the_reporter_leaks(world, served, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rider = world.rider.user
    report = services.report_submit(
        reporter=rider, category=served.categories["stairwell_clutter"], lat="40.095",
        lng="113.315", description="楼道堆满纸箱，有事打我13700002222\x01", address="甲一路",
        building="3号楼", unit="2单元", floor="5层", idempotency_key="leak-test-0001",
        photos=[report_jpeg(11)],
    )  # fmt: skip
    photo = report.photos.get()
    pages = [
        get("requests.json").content.decode(),
        get("requests.xml").content.decode(),
        get(f"requests/{report.pk}.json").content.decode(),
        get(f"requests/{report.pk}.xml").content.decode(),
    ]
    (row,) = as_json(get(f"requests/{report.pk}.json"))
    assert row["description"] == "楼道堆满纸箱，有事打我137****2222\x01"
    xml(get(f"requests/{report.pk}.xml"))  # still well-formed XML (the \x01 is dropped there)
    for page in pages:
        for secret in (
            rider.name, rider.username, "13700002222", "13812341234", rider.phone_masked,
            "3号楼", "2单元", "5层", photo.image.name, photo.thumbnail.name, "/media/",
            "reporter", "media_url",
        ):  # fmt: skip
            assert secret not in page, secret


def test_a_body_too_large_to_read_is_a_400_in_the_spec_format(served, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    before = counts()
    fields = {f"attribute[x{i}]": "1" for i in range(30)}
    assert_error(post(api_key=served.raw, **fields), 400, says="could not be read")
    assert counts() == before


def test_the_list_takes_the_same_queries_however_long(served):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff = served.key.created_by
    for i in range(2):
        services.report_dispatch(
            report=file(served, device_id=f"d{i}"), actor=staff, department=served.department
        )
    with CaptureQueriesContext(connection) as few:
        assert len(as_json(get("requests.json"))) == 2
    for i in range(2, 8):
        services.report_dispatch(
            report=file(served, device_id=f"d{i}"), actor=staff, department=served.department
        )
    with CaptureQueriesContext(connection) as many:
        assert len(as_json(get("requests.json"))) == 8
    assert len(many) == len(few) == 2  # the jurisdiction, then the requests with their joins
