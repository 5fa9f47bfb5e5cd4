"""Every write to the area tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yizhan.areas.choices import BOUNDED_LEVELS, CODE_LENGTH, LEVEL_FOR_LENGTH, PARENT_LEVEL
from yizhan.areas.geometry import BoundaryError, bbox_of, parse_boundary
from yizhan.areas.models import Area
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError
from yizhan.core.permissions import Action, require


def _apply_boundary(area: Area, boundary: dict | None) -> None:
    area.boundary = boundary
    if boundary:
        box = bbox_of(boundary)
        area.min_lat, area.max_lat = box.min_lat, box.max_lat
        area.min_lng, area.max_lng = box.min_lng, box.max_lng
        area.center_lat, area.center_lng = box.center_lat, box.center_lng
    else:
        area.min_lat = area.max_lat = area.min_lng = area.max_lng = None


def _validate_code(code: str, level: str, parent: Area | None) -> None:
    if not code.isdigit() or len(code) != CODE_LENGTH[level]:
        raise ApplicationError(
            _("A %(level)s code has %(n)s digits; %(code)s does not.")
            % {"level": level, "n": CODE_LENGTH[level], "code": code or "''"},
            field="code",
        )
    expected_parent = PARENT_LEVEL.get(level)
    if expected_parent is None:
        if parent is not None:
            raise ApplicationError(_("A district has no parent area."), field="parent")
        return
    if parent is None or parent.level != expected_parent:
        raise ApplicationError(
            _("A %(level)s must sit under a %(parent)s.")
            % {"level": level, "parent": expected_parent},
            field="parent",
        )
    if not code.startswith(parent.code):
        raise ApplicationError(
            _("Code %(code)s does not start with its parent's code %(parent)s.")
            % {"code": code, "parent": parent.code},
            field="code",
        )


@transaction.atomic
def area_create(
    *,
    level: str,
    code: str,
    name: str,
    parent: Area | None = None,
    boundary: Any = None,
    address: str = "",
    actor: Any = None,
) -> Area:
    if actor is not None:
        require(actor, Action.CONFIGURE, parent) if parent else None
    _validate_code(code, level, parent)
    if Area.objects.filter(code=code).exists():
        raise ApplicationError(
            _("Area code %(code)s is already taken.") % {"code": code}, field="code"
        )
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("An area needs a name."), field="name")
    geometry = parse_boundary(boundary) if boundary else None
    if geometry is None and level in BOUNDED_LEVELS:
        raise BoundaryError(_("A community or a grid needs a boundary polygon."))
    area = Area(level=level, code=code, name=name, parent=parent, address=address)
    _apply_boundary(area, geometry)
    area.full_clean()
    area.save()
    log_action(actor=actor, action="area.created", target=area, data={"name": name})
    return area


@transaction.atomic
def area_set_boundary(*, area: Area, boundary: Any, actor: Any = None) -> Area:
    if actor is not None:
        require(actor, Action.CONFIGURE, area)
    geometry = parse_boundary(boundary)
    _apply_boundary(area, geometry)
    area.save()
    log_action(actor=actor, action="area.boundary_changed", target=area)
    return area


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row, code, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def _row_level(code: str, props: dict) -> str | None:
    level = props.get("level") or LEVEL_FOR_LENGTH.get(len(code))
    return level if level in CODE_LENGTH else None


def areas_import(*, collection: Any, actor: Any = None, dry_run: bool = False) -> ImportResult:
    """Import a GeoJSON FeatureCollection of areas, all or nothing.

    Each feature carries ``properties.code`` and ``properties.name`` (``level`` is optional: the
    code's length gives it). Parents may come earlier in the file or exist already. Every row is
    checked first; if any row is wrong nothing is written and ``errors`` lists each one.
    """
    result = ImportResult()
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        result.errors.append((0, "", _("The file must be a GeoJSON FeatureCollection.")))
        return result
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        result.errors.append((0, "", _("The FeatureCollection has no features.")))
        return result

    existing = {a.code: a for a in Area.objects.all()}
    planned: dict[str, dict] = {}
    rows = []
    for row, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            result.errors.append((row, "", _("The feature has no properties.")))
            continue
        code = str(props.get("code") or "").strip()
        name = str(props.get("name") or "").strip()
        level = _row_level(code, props)
        try:
            if not code:
                raise ApplicationError(_("The feature has no code."))
            if level is None:
                raise ApplicationError(
                    _("Cannot tell the level of code %(code)s: use 6, 9, 12 or 15 digits.")
                    % {"code": code}
                )
            if not name:
                raise ApplicationError(_("The feature has no name."))
            if code in planned:
                raise ApplicationError(
                    _("Code %(code)s appears twice in the file.") % {"code": code}
                )
            parent_code = code[: CODE_LENGTH[level] - 3] if level in PARENT_LEVEL else ""
            parent_level = PARENT_LEVEL.get(level)
            if parent_code:
                parent_known = parent_code in existing or parent_code in planned
                if not parent_known:
                    raise ApplicationError(
                        _("Its parent %(parent)s is neither in the file nor in the database.")
                        % {"parent": parent_code}
                    )
                known_level = (
                    planned[parent_code]["level"]
                    if parent_code in planned
                    else existing[parent_code].level
                )
                if known_level != parent_level:
                    raise ApplicationError(
                        _("Its parent %(parent)s is not a %(level)s.")
                        % {"parent": parent_code, "level": parent_level}
                    )
            if CODE_LENGTH[level] != len(code) or not code.isdigit():
                raise ApplicationError(
                    _("A %(level)s code has %(n)s digits.")
                    % {"level": level, "n": CODE_LENGTH[level]}
                )
            geometry_data = feature.get("geometry")
            geometry = parse_boundary(geometry_data) if geometry_data else None
            if geometry is None and level in BOUNDED_LEVELS:
                raise BoundaryError(_("A community or a grid needs a boundary polygon."))
        except ApplicationError as exc:
            result.errors.append((row, code, str(exc.message)))
            continue
        planned[code] = {"level": level, "name": name, "parent_code": parent_code}
        rows.append((code, level, name, parent_code, geometry, str(props.get("address") or "")))

    if result.errors or dry_run:
        if not result.errors:
            result.created = sum(1 for r in rows if r[0] not in existing)
            result.updated = len(rows) - result.created
        return result

    with transaction.atomic():
        # Parents before children: codes sort that way because a child extends its parent's code.
        for code, level, name, parent_code, geometry, address in sorted(
            rows, key=lambda r: len(r[0])
        ):
            parent = existing.get(parent_code) if parent_code else None
            area = existing.get(code)
            created = area is None
            if created:
                area = Area(code=code, level=level)
            area.name, area.parent, area.address = name, parent, address
            _apply_boundary(area, geometry)
            area.save()
            existing[code] = area
            if created:
                result.created += 1
            else:
                result.updated += 1
            log_action(actor=actor, action="area.imported", target=area, data={"created": created})
    return result
