"""The privacy app's rows of the permission matrices (see ``tests.matrix_parts``).

Every page and operation is about the account signed in (no id in any URL): a rider downloads
and deletes their own data only, so the rider and the other rider both succeed, each on their
own account (``tests/privacy/test_delete.py`` checks one cannot touch the other); merchants and
staff are refused (403), anonymous visitors sent to log in (401 / the log-in page). Nothing to
build; a denied request must leave every account's identity as it was.
"""

from tests.api.matrix_case import Case as ApiCase
from tests.api.matrix_case import _row
from tests.pages.matrix_case import RIDER_ONLY, row
from tests.pages.matrix_case import Case as PageCase
from tests.world import PASSWORD
from yizhan.people.models import Consent, User

RIDER_OWN = _row(401, 200, 200, 403, 403, 403, 403, 403)

API_CASES: dict = {
    "GET /privacy/me/data.json": ApiCase(
        "GET", "/api/v1/privacy/me/data.json", None, RIDER_OWN, download=True
    ),
    "GET /privacy/me/data.xlsx": ApiCase(
        "GET", "/api/v1/privacy/me/data.xlsx", None, RIDER_OWN, download=True
    ),
    "POST /privacy/me/delete": ApiCase(
        "POST", "/api/v1/privacy/me/delete", {"password": PASSWORD, "confirm": True}, RIDER_OWN
    ),
}

PAGE_CASES: dict = {
    "privacy my_data": PageCase("GET", "privacy:my_data", (), None, RIDER_ONLY),
    "privacy download_json": PageCase("GET", "privacy:download_json", (), None, RIDER_ONLY),
    "privacy download_xlsx": PageCase("GET", "privacy:download_xlsx", (), None, RIDER_ONLY),
    "privacy delete": PageCase("GET", "privacy:delete", (), None, RIDER_ONLY),
    "privacy delete (post)": PageCase(
        "POST", "privacy:delete", (), {"password": PASSWORD, "confirm": "on"},
        row("login", "go", "go", "403", "403", "403", "403", "403"),
    ),
}  # fmt: skip


def api_uses(case) -> bool:
    return False


def api_ids(world, case) -> dict:
    return {}


def page_uses(case) -> bool:
    return False


def page_ids(world, case) -> dict:
    return {}


def snapshot() -> tuple:
    return (
        sorted(User.objects.values_list("pk", "username", "name", "is_active", "phone_index")),
        Consent.objects.filter(withdrawn_at__isnull=False).count(),
    )
