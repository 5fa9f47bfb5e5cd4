"""After the run: is every acknowledged write of ``benchmarks/load.py`` there exactly once?

Per kind, two independent ways: the idempotency table (``core.IdempotencyRecord``: the key's
record exists and points at the id the client was given) and the rows themselves (counted by a
field that carries the key, or by the rows the run wrote that no key accounts for).

- **lost**: an acknowledged write whose row is missing, or whose key's record is missing or
  points elsewhere.
- **duplicated**: a key carried by more than one row, a row the run wrote that no sent key's
  record accounts for (a retry that wrote again under a new record), or a workflow transition
  written twice (two ``accepted`` … ``closed`` events on one report; two earnings for one
  report's verification).

Rows are those of the run: the load street's reports, visits, redemptions and awards (the seed
wrote none but the one starting award per rider, under ``load-seed-*`` keys).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

SCOPES = {
    "report_submit": "reports.submit",
    "check_in": "stations.check_in",
    "reserve": "rewards.reserve",
    "award": "points.award",
}
TRANSITIONS = {
    "accept": "accepted",
    "dispatch": "dispatched",
    "handle": "handled",
    "verify": "verified",
    "close": "closed",
}


@dataclass
class Check:
    acked: Counter = field(default_factory=Counter)
    lost: Counter = field(default_factory=Counter)
    duplicated: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    stock_problems: list[str] = field(default_factory=list)
    unacked_written: Counter = field(default_factory=Counter)  # gave up, yet written

    @property
    def total_lost(self) -> int:
        return sum(self.lost.values())

    @property
    def total_duplicated(self) -> int:
        return sum(self.duplicated.values())


def check_writes(stats, street_code: str) -> Check:
    from django.db.models import Count, Sum

    from yizhan.core.models import IdempotencyRecord
    from yizhan.points.models import EarningRecord, ManualAward
    from yizhan.reports.models import Report, ReportEvent
    from yizhan.rewards.choices import RedemptionStatus
    from yizhan.rewards.models import Redemption, Stock, StockChange
    from yizhan.stations.models import Visit

    check = Check()
    acks = defaultdict(list)
    for ack in stats.acks:
        acks[ack.kind].append(ack)
        check.acked[ack.kind] += 1

    def note(kind: str, text: str) -> None:
        if len(check.notes) < 40:
            check.notes.append(f"{kind}: {text}")

    # The idempotency records of every key the clients sent, per kind.
    records: dict[str, dict[str, str]] = {}
    for kind, scope in SCOPES.items():
        sent = stats.sent_keys.get(kind, set())
        records[kind] = dict(
            IdempotencyRecord.objects.filter(scope=scope, key__in=list(sent)).values_list(
                "key", "result_id"
            )
        )
        for ack in acks[kind]:
            if records[kind].get(ack.key) != str(ack.id):
                check.lost[kind] += 1
                note(kind, f"key {ack.key}: record {records[kind].get(ack.key)!r}, acked {ack.id}")
        acked_keys = {a.key for a in acks[kind]}
        check.unacked_written[kind] = len(set(records[kind]) - acked_keys)

    # Reports: the key is in the description; every report of the street is the run's.
    reports = Report.objects.filter(area_code__startswith=street_code)
    by_key = Counter()
    for description in reports.values_list("description", flat=True):
        by_key[description.rsplit(" ", 1)[-1]] += 1
    present = set(reports.values_list("pk", flat=True))
    for ack in acks["report_submit"]:
        if ack.id not in present or by_key[ack.key] == 0:
            check.lost["report_submit"] += 1
            note("report_submit", f"report {ack.id} ({ack.key}) is missing")
    check.duplicated["report_submit"] += sum(n - 1 for n in by_key.values() if n > 1)
    accounted = {int(v) for v in records["report_submit"].values() if v}
    orphans = present - accounted
    check.duplicated["report_submit"] += len(orphans)
    if orphans:
        note("report_submit", f"{len(orphans)} reports no key accounts for: {sorted(orphans)[:5]}")

    # Check-ins: a visit per (station, rider, period) at most (a unique constraint), and every
    # scan visit of the run accounted for by a key.
    visits = Visit.objects.filter(area_code__startswith=street_code, kind="scan")
    present = set(visits.values_list("pk", flat=True))
    for ack in acks["check_in"]:
        if ack.id not in present:
            check.lost["check_in"] += 1
            note("check_in", f"visit {ack.id} ({ack.key}) is missing")
    doubles = (
        visits.values("station", "rider", "period").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    check.duplicated["check_in"] += doubles
    accounted = {int(v) for v in records["check_in"].values() if v}
    orphans = present - accounted
    check.duplicated["check_in"] += len(orphans)
    if orphans:
        note("check_in", f"{len(orphans)} visits no key accounts for")

    # Redemptions carry their key.
    redemptions = Redemption.objects.filter(area_code__startswith=street_code)
    rows = dict(redemptions.values_list("pk", "idempotency_key"))
    per_key = Counter(rows.values())
    for ack in acks["reserve"]:
        if rows.get(ack.id) != ack.key:
            check.lost["reserve"] += 1
            note("reserve", f"redemption {ack.id} ({ack.key}) is missing or has another key")
    check.duplicated["reserve"] += sum(n - 1 for n in per_key.values() if n > 1)
    orphans = set(rows) - {int(v) for v in records["reserve"].values() if v}
    check.duplicated["reserve"] += len(orphans)
    if orphans:
        note("reserve", f"{len(orphans)} redemptions no key accounts for")

    # Manual awards carry their key (and so does the reason); the seed's are not the run's.
    awards = ManualAward.objects.filter(area_code__startswith=street_code).exclude(
        idempotency_key__startswith="load-seed-"
    )
    rows = dict(awards.values_list("pk", "idempotency_key"))
    per_key = Counter(r.rsplit(" ", 1)[-1] for r in awards.values_list("reason", flat=True))
    for ack in acks["award"]:
        if rows.get(ack.id) != ack.key or per_key[ack.key] == 0:
            check.lost["award"] += 1
            note("award", f"award {ack.id} ({ack.key}) is missing")
    check.duplicated["award"] += sum(n - 1 for n in per_key.values() if n > 1)
    orphans = set(rows) - {int(v) for v in records["award"].values() if v}
    check.duplicated["award"] += len(orphans)
    if orphans:
        note("award", f"{len(orphans)} awards no key accounts for")

    # Workflow transitions: each event at most once per report (nothing here reopens or sends
    # back), and every acknowledged one present.
    events = Counter(
        ReportEvent.objects.filter(
            report__area_code__startswith=street_code, action__in=list(TRANSITIONS.values())
        ).values_list("report_id", "action")
    )
    for kind, action in TRANSITIONS.items():
        for ack in acks[kind]:
            if events[(ack.id, action)] == 0:
                check.lost[kind] += 1
                note(kind, f"report {ack.id} has no {action} event")
        check.duplicated[kind] += sum(
            n - 1 for (_r, a), n in events.items() if a == action and n > 1
        )
    # A verified report pays its reporter once.
    paid = Counter(
        EarningRecord.objects.filter(source_type="reports.report").values_list(
            "source_id", "member"
        )
    )
    check.duplicated["verify_points"] += sum(n - 1 for n in paid.values() if n > 1)

    # Stock: every item restocked is available, held or handed out; held = open redemptions.
    stocked = dict(
        StockChange.objects.values("stock").annotate(n=Sum("change")).values_list("stock", "n")
    )
    held = Counter(
        Redemption.objects.filter(status=RedemptionStatus.HELD).values_list("stock", flat=True)
    )
    for row in Stock.objects.all():
        if stocked.get(row.pk, 0) != row.available + row.held + row.handed_out:
            check.stock_problems.append(f"stock {row.pk} not conserved")
        if row.held != held[row.pk]:
            check.stock_problems.append(f"stock {row.pk}: held {row.held}, {held[row.pk]} open")
    return check


def orphan_files(workdir) -> tuple[int, int]:
    """(report photo files under ``workdir`` no row points at, report photo files there): every
    file in a ``reports`` folder of the run's media folders, against every file field of
    ``ReportPhoto`` resolved through its own storage (originals and public copies may live in
    different folders)."""
    from pathlib import Path

    from django.db.models import FileField

    from yizhan.reports.models import ReportPhoto

    root = Path(workdir).resolve()
    on_disk = {p.resolve() for p in root.rglob("*") if p.is_file() and "reports" in p.parts}
    fields = [f for f in ReportPhoto._meta.get_fields() if isinstance(f, FileField)]
    named = set()
    for row in ReportPhoto.objects.values_list(*[f.name for f in fields]):
        for field_, name in zip(fields, row, strict=True):
            if name:
                named.add(Path(field_.storage.path(name)).resolve())
    return len(on_disk - named), len(on_disk)
