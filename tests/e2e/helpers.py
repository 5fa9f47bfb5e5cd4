"""Shared helpers of the end-to-end flows (tests/e2e/test_flows_*.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.utils.translation import gettext

from tests.world import report_jpeg

# Where a rider stands in community A1 of tests/world.py (its east grid), WGS-84.
A1_SPOT = {"latitude": 40.0955, "longitude": 113.3125, "accuracy": 10}


def t(msgid: str) -> str:
    """The text a page shows for ``msgid`` in the site's language (Simplified Chinese: the
    tests' conftest activates it), so selectors follow the catalogue, not a copy of it."""
    return str(gettext(msgid))


def jpeg(seed: int, name: str = "photo.jpg") -> dict:
    """A real JPEG (Pillow) for ``page.set_input_files``: different seeds, different pictures."""
    upload = report_jpeg(seed, name=name)
    return {"name": name, "mimeType": "image/jpeg", "buffer": upload.read()}


@dataclass
class Problems:
    """What went wrong in the pages without failing a step at once: answers of 500 and more,
    uncaught JavaScript errors, and elements marked ``hidden`` that the style sheet shows all the
    same. ``check()`` at the end of a test fails with all of them, so the flow's own steps are
    checked first."""

    shot: Callable | None = None
    seen: list[str] = field(default_factory=list)

    def watch(self, page) -> None:
        page.on(
            "response",
            lambda r: (
                self.seen.append(f"{r.status} {r.request.method} {r.url}")
                if r.status >= 500
                else None
            ),
        )
        page.on("pageerror", lambda error: self.seen.append(f"JS error on {page.url}: {error}"))

    def look(self, page, name: str) -> None:
        """A key screen: its screenshot, and what it shows that it should not."""
        shown = page.locator("[hidden]:visible")
        for i in range(shown.count()):
            element = shown.nth(i)
            what = element.evaluate(
                "e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')"
                " + (e.className ? '.' + String(e.className).split(' ').join('.') : '')"
            )
            problem = f"shown although hidden: <{what}> on {urlsplit(page.url).path}"
            if problem not in self.seen:
                self.seen.append(problem)
        if self.shot is not None:
            self.shot(page, name)

    def check(self) -> None:
        assert not self.seen, "\n".join(self.seen)


def watched(*pages, shot: Callable | None = None) -> Problems:
    problems = Problems(shot=shot)
    for page in pages:
        problems.watch(page)
    return problems
