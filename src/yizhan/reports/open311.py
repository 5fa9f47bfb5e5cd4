"""Open311 GeoReport v2 at ``/open311/v2/``: the standard's six methods plus service discovery.

Plain Django views rather than ninja, so the URL shapes (``services.xml``, ``requests/12.json``)
and the XML are exactly the spec's (http://wiki.open311.org/GeoReport_v2):

* XML (``text/xml``) is the standard's required format; JSON follows its Spark convention: a
  root holding repeated elements (``<services><service>…``) becomes an array, containers inside
  an element (``<attributes>``, ``<endpoints>``, ``<formats>``) become arrays, an empty element
  becomes ``null``;
* ``jurisdiction_id`` is the code of a street we serve (one with categories in use). It is
  required when there are several: missing is a 400, unknown a 404;
* errors are ``<errors><error><code>…</code><description>…</description></error></errors>``
  (JSON ``[{"code": …, "description": …}]``): 404 for what does not exist, 403 for a missing,
  wrong or revoked ``api_key``, 400 for everything else (the spec allows no other statuses);
* times are W3C/ISO 8601 in Asia/Shanghai (``+08:00``); ``lat``/``long`` are WGS-84.

What is public: every report of the street except urgent ones (一老一小: a lost person's place is
not broadcast, and the spec is for non-emergency requests), with its category, status, place,
department and times; with ``OPEN311_PUBLISH_PHOTOS`` (off by default: number plates are not
blurred yet) also ``media_url``, the first photo's copy with faces blurred, never the original.
Never who reported it, the building / unit / floor or any staff-only note; a rejected report's
text is withheld; mobile numbers in a text are masked.
Requests are filed through ``services.report_submit`` like the app's, under the key's client
account (``services.open311_key_issue``); the personal fields the spec allows on a POST (email,
names, phone, account_id) are neither read nor stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from xml.etree import ElementTree

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db.models import Max, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.errors import ApplicationError
from yizhan.core.workcalendar import TZ
from yizhan.people.services import token_hash
from yizhan.reports import services
from yizhan.reports.choices import OPEN_STATUSES, ReportStatus, Source
from yizhan.reports.models import Category, Open311Key, Report
from yizhan.reports.selectors import report_photos_prefetch

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
#: The spec's response volume: the most recent 90 days or the first 1000 requests.
MAX_REQUESTS = 1000
WINDOW = timedelta(days=90)
#: Each container element and the name of its items (XML); in JSON they become arrays.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
#: The attributes every service takes (all optional): where inside a building the hazard is.
ATTRIBUTES = (
    ("building", gettext_lazy("Building"), gettext_lazy("e.g. 3号楼"), 40),
    ("unit", gettext_lazy("Unit or stairwell"), gettext_lazy("e.g. 2单元"), 20),
    ("floor", gettext_lazy("Floor"), gettext_lazy("e.g. 5层, B1"), 20),
)
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]*)\](\[\])?$")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


class Open311Error(Exception):
    """An answer in the spec's error format."""

    def __init__(self, status: int, description: Any) -> None:
        super().__init__(str(description))
        self.status = status
        self.description = str(description)


# --- output --------------------------------------------------------------------------------------


def _element(tag: str, value: Any) -> ElementTree.Element:
    element = ElementTree.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            element.append(_element(key, child))
    elif isinstance(value, list):
        for child in value:
            element.append(_element(ITEMS[tag], child))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _NOT_XML.sub("", str(value))
    return element


def _render(fmt: str, root: str, data: Any, status: int = 200) -> HttpResponse:
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
    else:
        body = '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(
            _element(root, data), encoding="unicode"
        )
    return HttpResponse(body.encode("utf-8"), status=status, content_type=CONTENT_TYPES[fmt])


def _errors(fmt: str, status: int, description: str) -> HttpResponse:
    return _render(fmt, "errors", [{"code": status, "description": description}], status)


def _status_of(exc: ApplicationError) -> int:
    """The spec knows three statuses: 404 missing, 403 key trouble, 400 everything else."""
    if exc.status in (401, 403):
        return 403
    return 404 if exc.status == 404 else 400


def endpoint(*methods: str) -> Callable:
    """An Open311 method: the format from the URL, the spec's errors for every refusal."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorator(view: Callable) -> Callable:
        @csrf_exempt  # the api_key authenticates a POST, never a session cookie
        @wraps(view)
        def wrapper(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            answer = fmt if fmt in CONTENT_TYPES else "xml"
            try:
                if fmt not in CONTENT_TYPES:
                    raise Open311Error(
                        404, _("Unknown format %(fmt)s: use .xml or .json.") % {"fmt": fmt}
                    )
                if request.method not in allowed:
                    response = _errors(
                        answer,
                        405,
                        _("%(method)s is not allowed here.") % {"method": request.method},
                    )
                    response["Allow"] = ", ".join(sorted(allowed))
                    return response
                root, data = view(request, **kwargs)
                return _render(fmt, root, data)
            except Open311Error as exc:
                return _errors(answer, exc.status, exc.description)
            except ApplicationError as exc:
                return _errors(answer, _status_of(exc), str(exc.message))
            except SuspiciousOperation:  # too many fields, a body too large to read …
                return _errors(answer, 400, _("The request could not be read: is it too large?"))

        return wrapper

    return decorator


def _w3c(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(TZ).isoformat(timespec="seconds")


def _public_text(text: str) -> str:
    """A report's text as the public sees it: mobile numbers masked (138****1234)."""
    return _MOBILE.sub(r"\1****\2", text)


# --- input ---------------------------------------------------------------------------------------


def _param(request: HttpRequest, name: str) -> str | None:
    """A parameter (the body of a POST, else the query); empty counts as not given (spec)."""
    value = request.POST.get(name) if request.method == "POST" else None
    if value is None:
        value = request.GET.get(name)
    value = (value or "").strip()
    return value or None


def _list(request: HttpRequest, name: str) -> list[str]:
    """A parameter that may be comma-separated and given several times."""
    values = []
    for raw in request.GET.getlist(name):
        values += [part.strip() for part in raw.split(",") if part.strip()]
    return values


def _when(request: HttpRequest, name: str) -> datetime | None:
    raw = _param(request, name)
    if raw is None:
        return None
    # A "+08:00" sent without URL-encoding arrives as " 08:00".
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", raw)
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None or not 1900 <= moment.year <= 2999:
        raise Open311Error(
            400,
            _("%(name)s must be a date and time in W3C format, e.g. 2026-01-01T00:00:00+08:00.")
            % {"name": name},
        )
    if timezone.is_naive(moment):  # no offset: Asia/Shanghai local time
        moment = moment.replace(tzinfo=TZ)
    return moment


def _window(request: HttpRequest) -> tuple[datetime, datetime]:
    start, end = _when(request, "start_date"), _when(request, "end_date")
    if start and end:
        if end < start:
            raise Open311Error(400, _("end_date is before start_date."))
        if end - start > WINDOW:
            raise Open311Error(400, _("start_date to end_date may not span more than 90 days."))
        return start, end
    if start:
        return start, start + WINDOW
    if end:
        return end - WINDOW, end
    now = timezone.now()
    return now - WINDOW, now


def _ids(raw: str) -> list[int]:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts or not all(part.isdigit() and len(part) <= 18 for part in parts):
        raise Open311Error(
            400, _("service_request_id must be numbers separated by commas, e.g. 12,15.")
        )
    if len(parts) > MAX_REQUESTS:
        raise Open311Error(
            400, _("At most %(n)s service_request_id at once.") % {"n": MAX_REQUESTS}
        )
    return [int(part) for part in parts]


# --- what is served ------------------------------------------------------------------------------


def _streets() -> QuerySet:
    """The jurisdictions: streets with categories in use."""
    in_use = Category.objects.filter(is_active=True).values("street_id")
    return Area.objects.filter(level=AreaLevel.STREET, pk__in=in_use).order_by("code")


def _jurisdiction(request: HttpRequest) -> Area:
    code = _param(request, "jurisdiction_id")
    if code is not None:
        street = _streets().filter(code=code).first()
        if street is None:
            raise Open311Error(
                404,
                _("jurisdiction_id %(code)s was not found: give the code of a street we serve.")
                % {"code": code[:40]},
            )
        return street
    streets = list(_streets()[:2])
    if len(streets) == 1:
        return streets[0]
    if not streets:
        raise Open311Error(404, _("No street takes requests here yet."))
    raise Open311Error(
        400,
        _("jurisdiction_id was not provided: this server serves several streets; give its code."),
    )


def _categories(street: Area) -> QuerySet:
    """A street's services: its categories in use, except the urgent ones (not 311 matters)."""
    return Category.objects.filter(street=street, is_active=True, urgent=False).order_by(
        "sort_order", "code"
    )


def _category(street: Area, code: str) -> Category:
    category = _categories(street).filter(code=code[:40]).first()
    if category is None:
        raise Open311Error(404, _("service_code %(code)s was not found.") % {"code": code[:40]})
    return category


def _notice(category: Category) -> str:
    return _("We aim to have it handled within %(amount)s %(unit)s of dispatch.") % {
        "amount": category.deadline_amount,
        "unit": category.get_deadline_unit_display(),
    }


def _service(category: Category) -> dict:
    keywords = dict.fromkeys(k for k in (category.name, category.name_en, category.code) if k)
    return {
        "service_code": category.code,
        "service_name": category.label,
        "description": category.description or category.label,
        "metadata": True,  # the optional building / unit / floor attributes
        "type": "realtime",
        "keywords": ", ".join(keywords),
        "group": category.get_family_display(),
    }


def _definition(category: Category) -> dict:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": code,
                "datatype": "string",
                "required": False,
                "datatype_description": str(example),
                "order": order,
                "description": _("%(label)s, if it is inside a building (at most %(n)s characters)")
                % {"label": label, "n": limit},
            }
            for order, (code, label, example, limit) in enumerate(ATTRIBUTES, start=1)
        ],
    }


def _public_reports(street: Area) -> QuerySet:
    return (
        Report.objects.filter(area_code__startswith=street.code)
        .exclude(Q(urgent=True) | Q(category__urgent=True))
        .select_related("category", "department", "community")
    )


def _updated(report: Report) -> datetime:
    """For a closed request, when it was closed (spec); else the last change."""
    if report.status == ReportStatus.VERIFIED:
        return report.verified_at or report.updated_at
    if report.status not in OPEN_STATUSES:
        return report.closed_at or report.updated_at
    return report.updated_at


def _status_notes(report: Report) -> str:
    if report.status == ReportStatus.MERGED:
        return _("Duplicate: merged into request %(id)s.") % {"id": report.merged_into_id}
    if report.is_overdue:
        return _("%(status)s, overdue") % {"status": report.get_status_display()}
    return str(report.get_status_display())


def _with_photos(reports: QuerySet) -> QuerySet:
    """With ``OPEN311_PUBLISH_PHOTOS`` on, each report's own photos in one query for the page."""
    if getattr(settings, "OPEN311_PUBLISH_PHOTOS", False):
        return reports.prefetch_related(report_photos_prefetch())
    return reports


def _media_url(request: HttpRequest, report: Report) -> str | None:
    """The first photo's copy with faces blurred (never an original: those have no URL); none
    for a rejected report (the photo may be why) or while the copy is missing."""
    if report.status == ReportStatus.REJECTED:
        return None
    for photo in getattr(report, "report_photos", []):
        if photo.has_blurred_derivative:
            return request.build_absolute_uri(photo.public_url)
    return None


def _request(report: Report, street: Area, request: HttpRequest | None = None) -> dict:
    place = (report.address, report.community.name, street.name)
    extra = {}
    if request is not None and getattr(settings, "OPEN311_PUBLISH_PHOTOS", False):
        extra["media_url"] = _media_url(request, report)
    return {
        "service_request_id": report.pk,
        "status": "open" if report.status in OPEN_STATUSES else "closed",
        "status_notes": _status_notes(report),
        "service_name": report.category.label,
        "service_code": report.category.code,
        "description": None
        if report.status == ReportStatus.REJECTED
        else _public_text(report.description),
        "agency_responsible": report.department.name if report.department_id else None,
        "service_notice": _notice(report.category),
        "requested_datetime": _w3c(report.created_at),
        "updated_datetime": _w3c(_updated(report)),
        "expected_datetime": _w3c(report.deadline_at),
        "address": ", ".join(part for part in place if part),
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lng,
        **extra,
    }


# --- filing a request ----------------------------------------------------------------------------


def _key(request: HttpRequest, street: Area) -> Open311Key:
    raw = _param(request, "api_key")
    if raw is None:
        raise Open311Error(
            403, _("api_key was not provided: ask the street's administrators for a key.")
        )
    key = None
    if len(raw) <= 200:
        key = Open311Key.objects.select_related("account").filter(key_hash=token_hash(raw)).first()
    if key is None or key.revoked_at is not None:
        raise Open311Error(403, _("Invalid api_key received: the request was not filed."))
    if key.street_id != street.pk:
        raise Open311Error(
            403,
            _("This api_key is for another street than jurisdiction_id %(code)s.")
            % {"code": street.code},
        )
    if key.account is None or not key.account.is_active:
        raise Open311Error(403, _("This api_key cannot file requests: ask for a new key."))
    return key


def _attributes(request: HttpRequest) -> dict[str, str]:
    known = {code for code, *_rest in ATTRIBUTES}
    values: dict[str, str] = {}
    unknown = []
    for name in request.POST:
        match = _ATTRIBUTE.match(name)
        if match is None:
            continue
        code = match[1]
        if code not in known:
            unknown.append(code)
            continue
        given = request.POST.getlist(name)
        if match[2] or len(given) > 1:
            raise Open311Error(400, _("attribute[%(code)s] takes one value.") % {"code": code})
        values[code] = given[0]
    if unknown:
        raise Open311Error(
            400,
            _("Unknown attribute %(codes)s: this service takes building, unit and floor.")
            % {"codes": ", ".join(sorted(unknown))[:100]},
        )
    return values


def _idempotency_key(key: Open311Key, request: HttpRequest, fields: dict) -> str:
    """``report_submit``'s key for this POST.

    A client that sends its own request token (the ``Idempotency-Key`` header, or an
    ``idempotency_key`` field; an extension of the spec) gets exactly that: a retry with the
    token returns the first request, the token with another payload is refused. Otherwise the
    key is the hash of the api key, the device_id, the payload and the day (Asia/Shanghai): the
    same client sending the same thing from the same device twice on one day (a retry after a
    lost answer) gets the first request back instead of filing a duplicate. Either way the
    api key is part of the hash, so two clients never share a key, and the device_id is kept
    only inside the hash.
    """
    token = request.headers.get("Idempotency-Key") or _param(request, "idempotency_key")
    if token:
        if len(token) > 200:
            raise Open311Error(400, _("The idempotency key is too long (at most 200)."))
        material = json.dumps({"key": key.pk, "token": token})
    else:
        material = json.dumps(
            {
                "key": key.pk,
                "day": timezone.localdate().isoformat(),
                "device_id": _param(request, "device_id"),
                **fields,
            },
            sort_keys=True,
            ensure_ascii=False,
        )
    return "o311-" + hashlib.sha256(material.encode()).hexdigest()[:48]


def _file(request: HttpRequest) -> tuple[str, list]:
    street = _jurisdiction(request)
    key = _key(request, street)
    code = _param(request, "service_code")
    if code is None:
        raise Open311Error(400, _("service_code was not provided."))
    category = _category(street, code)
    lat, lng = _param(request, "lat"), _param(request, "long")
    if lat is None or lng is None:
        if lat or lng:
            raise Open311Error(400, _("Send both lat and long (WGS-84)."))
        if _param(request, "address_string") or _param(request, "address_id"):
            raise Open311Error(
                400,
                _(
                    "We place every request on our grid by its point: send lat and long "
                    "(WGS-84); address_string alone cannot be placed."
                ),
            )
        raise Open311Error(400, _("A location is required: send lat and long (WGS-84)."))
    attributes = _attributes(request)
    address = _param(request, "address_string") or ""
    description = _param(request, "description") or ""
    fields = {
        "service_code": category.code,
        "lat": lat,
        "long": lng,
        "address_string": address,
        "description": description,
        "attributes": attributes,
        "media_url": _param(request, "media_url"),
    }
    report = services.report_submit(
        reporter=key.account,
        category=category,
        lat=lat,
        lng=lng,
        crs="wgs84",
        description=description,
        address=address,
        building=attributes.get("building", ""),
        unit=attributes.get("unit", ""),
        floor=attributes.get("floor", ""),
        idempotency_key=_idempotency_key(key, request, fields),
        source=Source.OPEN311,
    )
    return "service_requests", [
        {
            "service_request_id": report.pk,
            "service_notice": _notice(category),
            "account_id": None,
        }
    ]


# --- the methods ---------------------------------------------------------------------------------


@endpoint("GET")
def discovery(request: HttpRequest) -> tuple[str, dict]:
    latest = Category.objects.filter(street__in=_streets()).aggregate(at=Max("updated_at"))["at"]
    changeset = _w3c(latest) or "2026-01-01T00:00:00+08:00"
    url = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": "xml"}))
    return "discovery", {
        "changeset": changeset,
        "contact": _("Ask the street office (街道办) that runs this service."),
        "key_service": _(
            "API keys are issued per street by its administrators, in the back office "
            "(Open311 keys). Reading needs no key; filing a request does."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url.rsplit("/", 1)[0],
                "changeset": changeset,
                "type": "test" if settings.DEMO_MODE else "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


@endpoint("GET")
def service_list(request: HttpRequest) -> tuple[str, list]:
    street = _jurisdiction(request)
    return "services", [_service(category) for category in _categories(street)]


@endpoint("GET")
def service_definition(request: HttpRequest, service_code: str) -> tuple[str, dict]:
    street = _jurisdiction(request)
    return "service_definition", _definition(_category(street, service_code))


@endpoint("GET", "POST")
def requests(request: HttpRequest) -> tuple[str, list]:
    if request.method == "POST":
        return _file(request)
    street = _jurisdiction(request)
    reports = _public_reports(street)
    wanted = _param(request, "service_request_id")
    if wanted is not None:  # "This overrides all other arguments."
        reports = reports.filter(pk__in=_ids(wanted))
    else:
        codes = _list(request, "service_code")
        if codes:
            reports = reports.filter(category__code__in=codes)
        statuses = set(_list(request, "status"))
        if statuses - {"open", "closed"}:
            raise Open311Error(400, _("status is open or closed (or both, comma-separated)."))
        if statuses == {"open"}:
            reports = reports.filter(status__in=OPEN_STATUSES)
        elif statuses == {"closed"}:
            reports = reports.exclude(status__in=OPEN_STATUSES)
        start, end = _window(request)
        reports = reports.filter(created_at__gte=start, created_at__lte=end)
    found = _with_photos(reports.order_by("-created_at", "-id"))[:MAX_REQUESTS]
    return "service_requests", [_request(report, street, request) for report in found]


@endpoint("GET")
def request_detail(request: HttpRequest, service_request_id: str) -> tuple[str, list]:
    street = _jurisdiction(request)
    report = None
    if service_request_id.isdigit() and len(service_request_id) <= 18:
        report = _with_photos(_public_reports(street)).filter(pk=int(service_request_id)).first()
    if report is None:
        raise Open311Error(
            404,
            _("service_request_id %(id)s was not found.") % {"id": service_request_id[:20]},
        )
    return "service_requests", [_request(report, street, request)]


@endpoint("GET")
def token(request: HttpRequest, token_id: str) -> tuple[str, list]:
    _jurisdiction(request)
    raise Open311Error(
        404,
        _(
            "Token %(token)s was not found: every service here is realtime, so a POST answers "
            "with its service_request_id and no token is ever issued."
        )
        % {"token": token_id[:40]},
    )
