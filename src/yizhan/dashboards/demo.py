"""The demo loader's dashboards step: build the rollups from the demo's facts.

``demo.loader`` calls :func:`load_dashboards_demo` after every other step (the demo's history is
written with back-dated times, so it is rebuilt in full rather than refreshed)."""

from __future__ import annotations

from yizhan.dashboards.services import rebuild_rollups


def load_dashboards_demo(*args, **kwargs) -> int:
    """Rebuild every rollup from the facts; returns the rows written. Idempotent."""
    return rebuild_rollups()
