"""The page matrix's row type and its common rows of outcomes, shared by ``test_page_matrix``
and the rows each app keeps in its own ``tests/<app>/matrix.py`` (``tests.matrix_parts``).

Outcomes: ok 200 · go 302 after doing it · login 302 to the log-in page · away 302 elsewhere,
nothing done · a 4xx status, nothing done."""

from dataclasses import dataclass


@dataclass
class Case:
    method: str
    name: str  # URL name
    args: tuple  # placeholders for reverse()
    body: object
    expect: str  # one outcome per MATRIX_ROLES column


def row(*outcomes: str) -> str:
    return " ".join(outcomes)


RIDER_ONLY = row("login", "ok", "ok", "403", "403", "403", "403", "403")
CONSOLE = row("login", "403", "403", "403", "ok", "ok", "ok", "ok")
# Staff of community A1 and the admins above it may act; other community's staff see nothing.
ACT_IN_A1 = row("login", "403", "403", "403", "go", "404", "go", "go")
SEE_IN_A1 = row("login", "403", "403", "403", "ok", "404", "ok", "ok")
# The street's catalogue, rules and windows: its admins (and the district's) change them.
CONFIGURE_STREET = row("login", "403", "403", "403", "403", "403", "go", "go")
# A station of A1: its staff and the admins above act; other community's staff are not offered it.
AT_STATION_A1 = row("login", "403", "403", "403", "go", "400", "go", "go")
# A station's console pages: anyone may see a station, so another community's staff get a 403.
RUN_STATION_A1 = row("login", "403", "403", "403", "ok", "403", "ok", "ok")
ACT_STATION_A1 = row("login", "403", "403", "403", "go", "403", "go", "go")
# The merchant's pages for the corner they host.
MERCHANT_ONLY = row("login", "403", "403", "ok", "403", "403", "403", "403")
MERCHANT_ACTS = row("login", "403", "403", "go", "403", "403", "403", "403")
