"""Which Chromium the end-to-end tests drive, if any (read by tests/conftest.py for the run's
header and summary, and by tests/e2e/conftest.py to skip or refuse the browser tests)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def find_chromium() -> str | None:
    """Debian's Chromium, or the browser ``YIZHAN_CHROMIUM`` names."""
    named = os.environ.get("YIZHAN_CHROMIUM")
    if named:
        return named if Path(named).exists() else shutil.which(named)
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = find_chromium()
SKIP_REASON = (
    "E2E SKIPPED: no Chromium found (install Debian's chromium, or set YIZHAN_CHROMIUM); "
    "the browser tests did not run"
)

try:  # Playwright is a dev dependency; a checkout without it skips the same way.
    import playwright  # noqa: F401
except ImportError:  # pragma: no cover - the venv always has it
    CHROMIUM = None
    SKIP_REASON = "E2E SKIPPED: Playwright is not installed (make venv)"
