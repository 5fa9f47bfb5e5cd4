"""Season keys. A score counts in the month, quarter and year of the moment it was earned
(Asia/Shanghai), and all time: ``m2026-11``, ``q2026-4``, ``y2026``, ``all``."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from yizhan.points.choices import SeasonKind

ALL_TIME = "all"


def season_key(kind: str, when: datetime) -> str:
    local = timezone.localtime(when)
    if kind == SeasonKind.MONTH:
        return f"m{local.year}-{local.month:02d}"
    if kind == SeasonKind.QUARTER:
        return f"q{local.year}-{(local.month - 1) // 3 + 1}"
    if kind == SeasonKind.YEAR:
        return f"y{local.year}"
    return ALL_TIME


def seasons_at(when: datetime) -> list[str]:
    return [season_key(kind, when) for kind in SeasonKind.values]


def area_levels(area_code: str) -> list[str]:
    """The codes of every level an area code lies in: district, street, community, grid."""
    return [area_code[:n] for n in (6, 9, 12, 15) if len(area_code) >= n]
