"""The privacy notice (隐私政策), versioned in code.

Each version is a template (``people/notice/v<N>.html``, English msgids translated to plain
Simplified Chinese) with an id and the date it takes effect. The versions live here, not in a
table: the notice says what the code collects and does, so a new version ships with the code
change that makes it true, is reviewed with it, and goes through the same translations; a row
editable in the back office could promise what the code does not do.

A rider's privacy consent is *current* when it names :func:`current_notice`'s version; when a
new version takes effect, riders are asked to agree again (``people.selectors.consent_status``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Notice:
    version: str
    effective: date
    template: str
    #: What changed from the version before, shown when a rider is asked to agree again.
    changes: str | Promise


NOTICES: tuple[Notice, ...] = (
    Notice("1", date(2026, 11, 22), "people/notice/v1.html", _("The first version.")),
    Notice(
        "2",
        date(2026, 12, 1),
        "people/notice/v2.html",
        _(
            "A separate, optional consent for using your location; every time staff look at "
            "your full phone number it is logged with a reason; how to withdraw consent and "
            "delete your account."
        ),
    ),
)


def notices() -> tuple[Notice, ...]:
    return NOTICES


def current_notice(today: date | None = None) -> Notice:
    """The newest version in effect (today in Asia/Shanghai)."""
    today = today or timezone.localdate()
    in_force = [n for n in notices() if n.effective <= today]
    return max(in_force or notices()[:1], key=lambda n: n.effective)


def notice_for(version: str | None) -> Notice | None:
    return next((n for n in notices() if n.version == version), None)
