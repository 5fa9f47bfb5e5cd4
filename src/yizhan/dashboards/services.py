"""Every write of the dashboards app: keeping the rollups, and coverage targets.

The rollups are kept by a periodic job (:func:`rollups_refresh`, registered in ``apps.py``),
not in the write transactions of the apps below, because

* those apps may not import ``dashboards`` (it sits above them), and signals for domain logic
  are banned, so an in-transaction update would need every service of six apps to call up;
* a street's and a district's rows would be hot rows: every report, posting and visit beneath
  a district would update the same few rows under a lock, serialising the district's writes
  (the same reason the points ledger keeps no cached balance on system accounts).

The job notices changes through three monotonic marks: the id of the last audit entry (every
service writes one, with the area code, in its own transaction), of the last posting and of the
last visit (both append-only; a QR check-in writes no audit entry). Each changed area code
marks its community (or the street or district itself when the fact sits there) dirty; the job
recomputes each dirty subtree from its facts (all months: a reopened report may leave a
month it was closed in) and re-derives the street and district above from their children.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, NotFound
from yizhan.core.permissions import Action, require, restrict
from yizhan.dashboards import rollups
from yizhan.dashboards.models import (
    TOTAL_FIELDS,
    CoverageTarget,
    CurrentCount,
    DayTotals,
    MonthBreakdown,
    MonthHeat,
    MonthTotals,
    RollupState,
)

logger = logging.getLogger("yizhan.dashboards")

#: How often the job runs (seconds). Dashboards lag the facts by at most about this much.
REFRESH_EVERY = 60
#: At most this many dirty subtrees per run; the rest wait for the next run (marks advance
#: only past what was done).
MAX_SUBTREES_PER_RUN = 200


def _state(*, lock: bool = False) -> RollupState:
    RollupState.objects.get_or_create(name="default")
    qs = RollupState.objects.filter(name="default")
    if lock:
        qs = qs.select_for_update()
    return qs.get()


def _marks() -> tuple[int, int, int]:
    from yizhan.core.models import AuditEntry
    from yizhan.points.models import Posting
    from yizhan.stations.models import Visit

    return (
        AuditEntry.objects.aggregate(m=Max("id"))["m"] or 0,
        Posting.objects.aggregate(m=Max("id"))["m"] or 0,
        Visit.objects.aggregate(m=Max("id"))["m"] or 0,
    )


def rebuild_rollups(*, area_code: str = "") -> int:
    """Recompute the rollups from the facts: everything, or the subtree of ``area_code`` (and
    re-derive its ancestors). Returns the number of rows written. Safe to run at any time."""
    with transaction.atomic():
        state = _state(lock=True)
        marks = _marks()
        if area_code:
            written = rollups.refresh_with_ancestors([area_code])
        else:
            written = 0
            for model in (DayTotals, MonthTotals, MonthBreakdown, CurrentCount, MonthHeat):
                model.objects.all()._raw_delete(model.objects.db)
            for code in rollups.top_codes():
                written += rollups.refresh(code)
            # marks move only on a full rebuild: a partial one says nothing of other areas
            state.audit_id, state.posting_id, state.visit_id = marks
            state.rebuilt_at = timezone.now()
        state.refreshed_at = timezone.now()
        state.save()
    return written


def _dirty_since(state: RollupState, marks: tuple[int, int, int]) -> set[str]:
    from yizhan.core.models import AuditEntry
    from yizhan.points.models import Posting
    from yizhan.stations.models import Visit

    codes: set[str] = set()
    sources = (
        (AuditEntry, state.audit_id, marks[0]),
        (Posting, state.posting_id, marks[1]),
        (Visit, state.visit_id, marks[2]),
    )
    for model, low, high in sources:
        if high > low:
            codes.update(
                model.objects.filter(id__gt=low, id__lte=high)
                .exclude(area_code="")
                .values_list("area_code", flat=True)
                .distinct()
            )
    # A community is the unit: its subtree is a few thousand facts at most.
    return {code[:12] for code in codes if code[:6].isdigit() and len(code) >= 6}


def rollups_refresh() -> dict[str, Any]:
    """The periodic job: bring the rollups up to date with the facts changed since the last run.

    One run at a time (the state row is locked for the run). Returns what it did.
    """
    with transaction.atomic():
        state = _state(lock=True)
        if state.rebuilt_at is None:
            # Never built: build everything once.
            pass
        marks = _marks()
        dirty = _dirty_since(state, marks) if state.rebuilt_at else None
        if dirty is None:
            written = 0
            for model in (DayTotals, MonthTotals, MonthBreakdown, CurrentCount, MonthHeat):
                model.objects.all()._raw_delete(model.objects.db)
            for code in rollups.top_codes():
                written += rollups.refresh(code)
            state.rebuilt_at = timezone.now()
            subtrees = -1
        else:
            subtrees = len(dirty)
            written = rollups.refresh_with_ancestors(sorted(dirty)) if dirty else 0
        state.audit_id, state.posting_id, state.visit_id = marks
        state.refreshed_at = timezone.now()
        state.save()
    return {"subtrees": subtrees, "rows": written} if (subtrees or written) else {}


# --------------------------------------------------------------------------------------------
# Check
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    table: str
    key: tuple
    stored: Any
    fresh: Any

    def __str__(self) -> str:
        return f"{self.table} {self.key}: stored {self.stored}, recount {self.fresh}"


def _stored(root: str) -> rollups.Result:
    where = rollups.code_range("area_code", root)
    out = rollups.Result()
    for code, day, *values in DayTotals.objects.filter(where).values_list(
        "area_code", "day", *TOTAL_FIELDS
    ):
        out.days[(code, day)] = list(values)
    for code, month, dim, key, value in MonthBreakdown.objects.filter(where).values_list(
        "area_code", "month", "dim", "key", "value"
    ):
        out.breakdowns[(code, month, dim, key)] = value
    for code, dim, key, value in CurrentCount.objects.filter(where).values_list(
        "area_code", "dim", "key", "value"
    ):
        out.current[(code, dim, key)] = value
    for code, month, a, b, value in MonthHeat.objects.filter(where).values_list(
        "area_code", "month", "cell_lat", "cell_lng", "value"
    ):
        out.heat[(code, month, a, b)] = value
    return out


def _diff(name: str, stored: dict, fresh: dict, *, keep_zero: bool = False) -> list[Difference]:
    def clean(rows: dict) -> dict:
        if keep_zero:
            return dict(rows)
        return {k: v for k, v in rows.items() if (any(v) if isinstance(v, list) else v)}

    stored, fresh = clean(stored), clean(fresh)
    out = []
    for key in sorted(set(stored) | set(fresh), key=str):
        if stored.get(key) != fresh.get(key):
            out.append(Difference(name, key, stored.get(key), fresh.get(key)))
    return out


def check_rollups(*, area_code: str = "") -> list[Difference]:
    """Recount from the facts and compare with what is stored; the differences (none: agree).

    Compares every table, including the monthly totals against the sum of the daily ones."""
    roots = [area_code] if area_code else rollups.top_codes()
    differences: list[Difference] = []
    for root in roots:
        fresh, stored = rollups.compute(root), _stored(root)
        differences += _diff("day", stored.days, fresh.days)
        stored_months = {
            (code, month): list(values)
            for code, month, *values in MonthTotals.objects.filter(
                rollups.code_range("area_code", root)
            ).values_list("area_code", "month", *TOTAL_FIELDS)
        }
        differences += _diff("month", stored_months, fresh.months())
        differences += _diff("breakdown", stored.breakdowns, fresh.breakdowns)
        current_fresh = {k: v for k, v in fresh.current.items()}
        differences += _diff("current", stored.current, current_fresh)
        differences += _diff("heat", stored.heat, fresh.heat)
    return differences


def freshness() -> dt.datetime | None:
    state = RollupState.objects.filter(name="default").values_list("refreshed_at", flat=True)
    return next(iter(state), None)


# --------------------------------------------------------------------------------------------
# Coverage targets
# --------------------------------------------------------------------------------------------


def coverage_target_set(*, area: Any, percent: Any, actor: Any) -> CoverageTarget:
    """Set the coverage target of ``area`` (a street's or district's admins, or above).

    ``percent`` is a whole number 1–100; ``None`` or ``''`` removes the target (the area then
    inherits its ancestor's)."""
    from yizhan.areas.models import Area
    from yizhan.core.validation import whole_number

    if not isinstance(area, Area):
        area = restrict(Area.objects.all(), actor).filter(code=str(area)).first()
        if area is None:
            raise NotFound(_("Not found, or you may not see it."))
    require(actor, Action.CONFIGURE, area)
    if area.level not in ("district", "street", "community"):
        raise ApplicationError(
            _("Coverage targets are set for districts, streets and communities."), field="area"
        )
    with transaction.atomic():
        if percent is None or percent == "":
            CoverageTarget.objects.filter(area=area).delete()
            log_action(actor=actor, action="dashboard.coverage_target_removed", target=area)
            return CoverageTarget(area=area, area_code=area.code, percent=0)
        if isinstance(percent, str) and percent.strip().isdigit():
            percent = int(percent.strip())  # a form's text field
        value = whole_number(percent, field="percent", low=1, high=100)
        target, _created = CoverageTarget.objects.update_or_create(
            area=area, defaults={"area_code": area.code, "percent": value, "updated_by": actor}
        )
        log_action(
            actor=actor,
            action="dashboard.coverage_target_set",
            target=area,
            data={"percent": value},
        )
    return target
