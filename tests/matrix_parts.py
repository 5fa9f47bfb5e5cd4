"""The apps whose permission-matrix rows live beside their own tests, in ``tests/<app>/matrix.py``.

Each such module has ``API_CASES`` (``tests.api.matrix_case.Case`` by operation, as in
``tests/api/test_permission_matrix.py``) and ``PAGE_CASES`` (``tests.pages.matrix_case.Case`` by
name, as in ``tests/pages/test_page_matrix.py``); ``api_uses(case)`` / ``page_uses(case)`` say
whether a row needs the app's objects and ``api_ids(world, case)`` / ``page_ids(world, case)``
make them (placeholder → value); ``snapshot()`` returns what a denied request must not change.
Both matrices merge every part listed here, and both still fail when an operation or a page has
no row.
"""

from tests.appeals import matrix as appeals
from tests.dashboards import matrix as dashboards
from tests.duties import matrix as duties
from tests.events import matrix as events
from tests.honours import matrix as honours
from tests.organisation import matrix as organisation
from tests.oversight import matrix as oversight
from tests.privacy import matrix as privacy
from tests.wishes import matrix as wishes

PARTS: list = [
    events,
    duties,
    wishes,
    appeals,
    honours,
    organisation,
    dashboards,
    privacy,
    oversight,
]
