"""The dashboards app's rows of the permission matrices (see ``tests.matrix_parts``).

Objects (``dashboard_objects``): the dashboard of community A1 (its staff and the admins above
see it; the other community's staff get a 404, as for anything outside their scope), street A
(whose public page is off, as by default: 404 for everyone), and a stored brief of A1 for
2026-04 in the private storage (beside ``MEDIA_ROOT``, which the matrices point at a temporary
folder). Dashboards only read: nothing to snapshot.
"""

from tests.api.matrix_case import Case as ApiCase
from tests.api.matrix_case import _row
from tests.pages.matrix_case import CONSOLE, SEE_IN_A1, row
from tests.pages.matrix_case import Case as PageCase

SEE_A1 = _row(401, 403, 403, 403, 200, 404, 200, 200)
NOBODY = _row(*[404] * 8)

API_CASES: dict = {
    "GET /dashboards/public/{street_code}": ApiCase(
        "GET", "/api/v1/dashboards/public/{dash_street}", None, NOBODY
    ),
    "GET /dashboards/{area_code}": ApiCase(
        "GET", "/api/v1/dashboards/{dash_area}?kind=month&anchor=2026-04", None, SEE_A1
    ),
    "GET /dashboards/{area_code}/overdue": ApiCase(
        "GET", "/api/v1/dashboards/{dash_area}/overdue", None, SEE_A1
    ),
    "GET /dashboards/{area_code}/map": ApiCase(
        "GET", "/api/v1/dashboards/{dash_area}/map", None, SEE_A1
    ),
    "GET /dashboards/{area_code}/heat": ApiCase(
        "GET", "/api/v1/dashboards/{dash_area}/heat?kind=year&anchor=2026", None, SEE_A1
    ),
    "GET /dashboards/{area_code}/export": ApiCase(
        "GET", "/api/v1/dashboards/{dash_area}/export?kind=month&anchor=2026-04", None, SEE_A1,
        download=True,
    ),
    "GET /dashboards/{area_code}/brief": ApiCase(
        "GET", "/api/v1/dashboards/{dash_area}/brief?month=2026-04", None, SEE_A1,
        download=True,
    ),
}  # fmt: skip

PAGE_CASES: dict = {
    "dashboards home": PageCase("GET", "dashboards:home", (), None, CONSOLE),
    "dashboards dashboard": PageCase(
        "GET", "dashboards:dashboard", ("dash_area",), None, SEE_IN_A1
    ),
    "dashboards export": PageCase("GET", "dashboards:export", ("dash_area",), None, SEE_IN_A1),
    "dashboards brief": PageCase("GET", "dashboards:brief", ("dash_area",), None, SEE_IN_A1),
    "dashboards stored_brief": PageCase(
        "GET", "dashboards:stored_brief", ("dash_area", "dash_month"), None, SEE_IN_A1
    ),
    "dashboards public": PageCase(
        "GET", "dashboards:public", ("dash_street",), None, row(*["404"] * 8)
    ),
}  # fmt: skip


def dashboard_objects(world) -> dict:
    from yizhan.dashboards import brief

    area = world.community_a1.code
    if "2026-04" not in brief.stored_months(area):
        brief.store_brief(area, "2026-04", b"%PDF-1.4 stored for the matrix")
    return {"dash_area": area, "dash_street": world.street_a.code, "dash_month": "2026-04"}


def api_uses(case) -> bool:
    return case.path.startswith("/api/v1/dashboards")


def api_ids(world, case) -> dict:
    return dashboard_objects(world)


def page_uses(case) -> bool:
    return case.name.startswith("dashboards:")


def page_ids(world, case) -> dict:
    return dashboard_objects(world)


def snapshot() -> tuple:
    return ()
