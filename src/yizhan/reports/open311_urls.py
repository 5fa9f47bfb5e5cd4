"""Open311 GeoReport v2, mounted at ``/open311/v2/`` (see ``reports.open311``).

Each resource takes its format as an extension (``services.xml``, ``requests/12.json``); an
unknown extension is answered in XML with a 404 in the spec's error format.
"""

from django.urls import re_path

from yizhan.reports import open311

app_name = "open311"

FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    re_path(rf"^discovery{FMT}", open311.discovery, name="discovery"),
    re_path(rf"^services{FMT}", open311.service_list, name="services"),
    re_path(
        rf"^services/(?P<service_code>[^/]+?){FMT}", open311.service_definition, name="service"
    ),
    re_path(rf"^requests{FMT}", open311.requests, name="requests"),
    re_path(
        rf"^requests/(?P<service_request_id>[^/]+?){FMT}", open311.request_detail, name="request"
    ),
    re_path(rf"^tokens/(?P<token_id>[^/]+?){FMT}", open311.token, name="token"),
]
