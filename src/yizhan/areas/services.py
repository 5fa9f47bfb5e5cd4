"""Every write to the area tree."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from shapely.errors import ShapelyError

from yizhan.areas.choices import (
    BOUNDED_LEVELS,
    CODE_LENGTH,
    LEVEL_FOR_LENGTH,
    PARENT_LEVEL,
    AreaLevel,
)
from yizhan.areas.geometry import BBox, BoundaryError, bbox_of, parse_boundary
from yizhan.areas.models import Area
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Forbidden
from yizhan.core.permissions import Action, require


def _level(level: str) -> str:
    """A level's name for a message: 街道 in Chinese, "street" in English."""
    return str(AreaLevel(level).label).lower()


def _apply_boundary(area: Area, boundary: dict | None, box: BBox | None = None) -> None:
    area.boundary = boundary
    if boundary:
        box = box or bbox_of(boundary)
        area.min_lat, area.max_lat = box.min_lat, box.max_lat
        area.min_lng, area.max_lng = box.min_lng, box.max_lng
        area.center_lat, area.center_lng = box.center_lat, box.center_lng
    else:
        area.min_lat = area.max_lat = area.min_lng = area.max_lng = None
        area.center_lat = area.center_lng = None


def _validate_code(code: str, level: str, parent: Area | None) -> None:
    if not code.isdigit() or len(code) != CODE_LENGTH[level]:
        raise ApplicationError(
            _("A %(level)s code has %(n)s digits; %(code)s does not.")
            % {"level": _level(level), "n": CODE_LENGTH[level], "code": code or "''"},
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
            % {"level": _level(level), "parent": _level(expected_parent)},
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
        if parent is not None:
            require(actor, Action.CONFIGURE, parent)
        elif not getattr(actor, "is_superuser", False):
            # A district is the top of a tree: only the platform operator adds one.
            raise Forbidden(_("Only the platform operator can add a district."))
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


#: Larger files are refused whole: the import checks and writes everything in one transaction,
#: so a file should hold one district (a city's worth of grids is a few thousand features).
MAX_IMPORT_FEATURES = 20_000
_SHOWN_MAX = 32  # an error report shows at most this many characters of a code or level
_NAME_MAX = Area._meta.get_field("name").max_length
_ADDRESS_MAX = Area._meta.get_field("address").max_length
_IMPORT_FIELDS = [
    "name",
    "address",
    "boundary",
    "min_lat",
    "max_lat",
    "min_lng",
    "max_lng",
    "center_lat",
    "center_lng",
    "updated_at",
]


def _shown(value: Any) -> str:
    """A value as an error report shows it: text as given, numbers as JSON, all of it short."""
    if isinstance(value, str):
        text = value.strip()
    elif value is None or isinstance(value, bool | int | float):
        try:
            text = json.dumps(value)
        except ValueError:  # an int too long to print
            text = type(value).__name__
    elif isinstance(value, list):
        text = "[…]"
    elif isinstance(value, dict):
        text = "{…}"
    else:
        text = type(value).__name__
    if len(text) > _SHOWN_MAX:
        text = text[: _SHOWN_MAX - 1] + "…"
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


@dataclass
class _Row:
    number: int
    code: str
    level: str
    name: str
    address: str
    parent_code: str
    geometry: dict | None
    box: BBox | None


def _row_code(props: dict) -> str:
    raw = props.get("code")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ApplicationError(_("The feature has no code."))
    if not isinstance(raw, str):
        # A number would lose leading zeros and a float its digits; codes are text.
        raise ApplicationError(
            _('The code must be a string of digits in quotes, such as "140213".')
        )
    code = raw.strip()
    if not (code.isascii() and code.isdigit()):
        raise ApplicationError(
            _("Code %(code)s must contain the digits 0-9 only.") % {"code": _shown(code)}
        )
    return code


def _row_level(code: str, props: dict) -> str:
    given = props.get("level")
    if given is None or (isinstance(given, str) and not given.strip()):
        level = LEVEL_FOR_LENGTH.get(len(code))
        if level is None:
            raise ApplicationError(
                _("Code %(code)s has %(n)s digits; an area code has 6, 9, 12 or 15.")
                % {"code": _shown(code), "n": len(code)}
            )
        return level
    if not isinstance(given, str) or given.strip() not in CODE_LENGTH:
        raise ApplicationError(
            _("Level %(level)s is not one of district, street, community or grid.")
            % {"level": _shown(given)}
        )
    level = AreaLevel(given.strip())
    if len(code) != CODE_LENGTH[level]:
        raise ApplicationError(
            _("A %(level)s code has %(n)s digits; %(code)s has %(m)s.")
            % {
                "level": _level(level),
                "n": CODE_LENGTH[level],
                "code": _shown(code),
                "m": len(code),
            }
        )
    return level


def _row_text(props: dict, key: str, *, required: bool, limit: int) -> str:
    raw = props.get(key)
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        if key == "name":
            raise ApplicationError(_("The name must be text."))
        raise ApplicationError(_("The address must be text."))
    text = raw.strip()
    if required and not text:
        raise ApplicationError(_("The feature has no name."))
    if _has_control_characters(text):
        if key == "name":
            raise ApplicationError(_("The name contains control characters."))
        raise ApplicationError(_("The address contains control characters."))
    if len(text) > limit:
        if key == "name":
            raise ApplicationError(
                _("The name has %(n)s characters; at most %(max)s are allowed.")
                % {"n": len(text), "max": limit}
            )
        raise ApplicationError(
            _("The address has %(n)s characters; at most %(max)s are allowed.")
            % {"n": len(text), "max": limit}
        )
    return text


def _row_geometry(feature: dict, level: str) -> tuple[dict | None, BBox | None]:
    data = feature.get("geometry")
    if data is None:
        if level in BOUNDED_LEVELS:
            raise BoundaryError(_("A community or a grid needs a boundary polygon."))
        return None, None
    try:
        geometry = parse_boundary(data)
        return geometry, bbox_of(geometry)
    except ApplicationError:
        raise
    except (TypeError, ValueError, ArithmeticError, ShapelyError) as exc:
        # parse_boundary names most mistakes itself; shapes it does not foresee (a position
        # with a third value that is not a number, a coordinate too large for a float, a
        # "type" that is a list) fail inside shapely or float() instead.
        raise BoundaryError(
            _(
                "The boundary cannot be read: each position must be [longitude, latitude], "
                "two numbers in range."
            )
        ) from exc


def _check_row(
    number: int,
    feature: Any,
    *,
    existing: dict[str, Area],
    existing_codes: dict[int, str],
    planned: dict[str, _Row],
    failed: dict[str, int],
    first_row: dict[str, int],
) -> _Row:
    """One feature, checked against the database and the rows before it; raises if wrong."""
    if not isinstance(feature, dict):
        raise ApplicationError(_("The feature is not a GeoJSON Feature object."))
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise ApplicationError(_("The feature has no properties."))
    code = _row_code(props)
    if first_row[code] != number:
        raise ApplicationError(
            _("Code %(code)s appears twice in the file (rows %(first)s and %(row)s).")
            % {"code": code, "first": first_row[code], "row": number}
        )
    level = _row_level(code, props)
    name = _row_text(props, "name", required=True, limit=_NAME_MAX)
    address = _row_text(props, "address", required=False, limit=_ADDRESS_MAX)

    parent_level = PARENT_LEVEL.get(level)
    parent_code = code[: CODE_LENGTH[parent_level]] if parent_level else ""
    if parent_code and parent_code not in planned:
        if parent_code in existing:
            if existing[parent_code].level != parent_level:
                raise ApplicationError(
                    _("Its parent %(parent)s is not a %(level)s.")
                    % {"parent": parent_code, "level": _level(parent_level)}
                )
        elif parent_code in failed:
            raise ApplicationError(
                _("Its parent %(parent)s (row %(row)s) has errors.")
                % {"parent": parent_code, "row": failed[parent_code]}
            )
        elif first_row.get(parent_code, 0) > number:
            raise ApplicationError(
                _("Its parent %(parent)s comes later in the file (row %(row)s); put parents first.")
                % {"parent": parent_code, "row": first_row[parent_code]}
            )
        else:
            raise ApplicationError(
                _("Its parent %(parent)s is neither in the file nor in the database.")
                % {"parent": parent_code}
            )

    current = existing.get(code)
    if current is not None:
        # The import updates name, address and boundary; it never changes what an area is or
        # where it hangs, since scoped rows and permissions hang off both.
        if current.level != level:
            raise ApplicationError(
                _("Area %(code)s exists as a %(current)s, not a %(level)s.")
                % {"code": code, "current": _level(current.level), "level": _level(level)}
            )
        current_parent = existing_codes.get(current.parent_id, "") if current.parent_id else ""
        if current_parent != parent_code:
            raise ApplicationError(
                _(
                    "Area %(code)s sits under %(current)s in the database, but its code puts "
                    "it under %(parent)s; the import does not move areas."
                )
                % {
                    "code": code,
                    "current": current_parent or _("no parent"),
                    "parent": parent_code or _("no parent"),
                }
            )

    geometry, box = _row_geometry(feature, level)
    return _Row(number, code, level, name, address, parent_code, geometry, box)


class _WriteRefused(Exception):
    """The database refused a row while writing (another change got there first)."""

    def __init__(self, row: _Row) -> None:
        super().__init__(row.code)
        self.row = row


def _import(*, features: list, actor: Any, dry_run: bool) -> ImportResult:
    result = ImportResult()
    areas = Area.objects.defer("boundary")
    if not dry_run:
        # Hold the existing areas until commit so the checks below stay true while we write.
        areas = areas.select_for_update()
    existing = {a.code: a for a in areas}
    existing_codes = {a.pk: a.code for a in existing.values()}

    first_row: dict[str, int] = {}
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        raw = props.get("code") if isinstance(props, dict) else None
        if isinstance(raw, str):
            first_row.setdefault(raw.strip(), number)

    planned: dict[str, _Row] = {}
    failed: dict[str, int] = {}
    for number, feature in enumerate(features, start=1):
        try:
            row = _check_row(
                number,
                feature,
                existing=existing,
                existing_codes=existing_codes,
                planned=planned,
                failed=failed,
                first_row=first_row,
            )
        except ApplicationError as exc:
            props = feature.get("properties") if isinstance(feature, dict) else None
            raw = props.get("code") if isinstance(props, dict) else None
            shown = "" if raw is None else _shown(raw)
            result.errors.append((number, shown, str(exc.message)))
            # Its children then say their parent row is wrong, not that it is missing.
            if isinstance(raw, str):
                failed.setdefault(raw.strip(), number)
            elif isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 10**15:
                failed.setdefault(str(raw), number)
            continue
        planned[row.code] = row

    if result.errors or dry_run:
        if not result.errors:
            result.created = sum(1 for code in planned if code not in existing)
            result.updated = len(planned) - result.created
        return result

    # Parents before children: a child's code extends its parent's, so it is longer.
    for row in sorted(planned.values(), key=lambda r: len(r.code)):
        area = existing.get(row.code)
        created = area is None
        if created:
            parent = existing[row.parent_code] if row.parent_code else None
            area = Area(code=row.code, level=row.level, parent=parent)
        area.name, area.address = row.name, row.address
        _apply_boundary(area, row.geometry, row.box)
        try:
            area.save(update_fields=None if created else _IMPORT_FIELDS)
        except IntegrityError as exc:
            # Leaving the transaction with an exception rolls back every row written so far.
            raise _WriteRefused(row) from exc
        existing[row.code] = area
        if created:
            result.created += 1
        else:
            result.updated += 1
        log_action(actor=actor, action="area.imported", target=area, data={"created": created})
    return result


def areas_import(*, collection: Any, actor: Any = None, dry_run: bool = False) -> ImportResult:
    """Import a GeoJSON FeatureCollection of areas, all or nothing, in one transaction.

    Each feature carries ``properties.code`` and ``properties.name`` (``level`` is optional: the
    code's length gives it). Parents may come earlier in the file or exist already. Every row is
    checked first; if any row is wrong nothing is written and ``errors`` lists each one as
    ``(row, code, message)``, rows counting from 1 (row 0: the file as a whole). No input, however
    malformed, raises: every problem comes back as an error. An existing area gets its name,
    address and boundary updated; its level and parent never change.
    """
    failure = ImportResult()
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        failure.errors.append((0, "", _("The file must be a GeoJSON FeatureCollection.")))
        return failure
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        failure.errors.append((0, "", _("The FeatureCollection has no features.")))
        return failure
    if len(features) > MAX_IMPORT_FEATURES:
        failure.errors.append(
            (
                0,
                "",
                _("The file has %(n)s features; import at most %(max)s at a time.")
                % {"n": len(features), "max": MAX_IMPORT_FEATURES},
            )
        )
        return failure
    try:
        with transaction.atomic():
            return _import(features=features, actor=actor, dry_run=dry_run)
    except _WriteRefused as exc:
        row = exc.row
        message = _(
            "Area %(code)s was written by someone else during the import; nothing was "
            "written. Run the import again."
        ) % {"code": row.code}
        failure.errors.append((row.number, row.code, message))
    except IntegrityError:
        # Deferred constraints fail at commit, e.g. a parent deleted meanwhile.
        failure.errors.append(
            (0, "", _("The areas changed during the import; nothing was written. Run it again."))
        )
    return failure
