"""``manage.py import_areas``: the documented example, all-or-nothing, and every malformed shape.

Each failing run asserts the exact report and that nothing was written (no area, no audit entry).
"""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError
from django.utils import translation

from tests.world import square
from yizhan.areas import services
from yizhan.areas.models import Area
from yizhan.areas.selectors import grid_for_point
from yizhan.areas.services import area_create
from yizhan.core.models import AuditEntry


@pytest.fixture(autouse=True)
def english():
    """The command speaks the user's language (Chinese by default); these tests read English."""
    with translation.override("en"):
        yield


DOCS = Path(__file__).resolve().parents[2] / "docs" / "areas.md"
EXAMPLE_CODES = ["140213", "140213001", "140213001001", "140213001001001", "140213001001002"]
# Everything about an area except its timestamps.
FIELDS = [
    "pk",
    "level",
    "code",
    "name",
    "parent_id",
    "address",
    "boundary",
    "min_lat",
    "max_lat",
    "min_lng",
    "max_lng",
    "center_lat",
    "center_lng",
]


def docs_example() -> dict:
    """The FeatureCollection shown in docs/areas.md, so the documented example stays true."""
    block = re.search(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    return json.loads(block.group(1))


def write(tmp_path: Path, data, *, raw: bool = False) -> Path:
    """Write ``data`` as JSON, or with ``raw`` as it is (bytes or text)."""
    path = tmp_path / "areas.geojson"
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data if raw else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_areas", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(path: Path, *args: str) -> tuple[str, str, str]:
    """Run, expecting CommandError; returns (stdout, stderr, the error's message)."""
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_areas", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), str(exc.value)


def snapshot() -> list[tuple]:
    return list(Area.objects.order_by("code").values_list(*FIELDS))


def assert_nothing_written(before: list[tuple] | None = None, audits: int = 0) -> None:
    assert snapshot() == (before or [])
    assert AuditEntry.objects.count() == audits


def feature(code, name, geometry=None, **extra) -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, **extra},
        "geometry": geometry,
    }


COMMUNITY_SQUARE = square(113.30, 40.09, 113.32, 40.10)


def small_tree() -> dict:
    """District, street, community: valid as it stands; each case below breaks one thing."""
    return {
        "type": "FeatureCollection",
        "features": [
            feature("140213", "平城区"),
            feature("140213001", "示例街道"),
            feature("140213001001", "示例社区", COMMUNITY_SQUARE),
        ],
    }


# --- the documented example ------------------------------------------------------------------


@pytest.mark.django_db
def test_docs_example_creates_the_five_areas(tmp_path):
    out, err = run(write(tmp_path, docs_example()))

    assert out == "Imported: 5 created, 0 updated.\n"
    assert err == ""
    areas = {a.code: a for a in Area.objects.all()}
    assert sorted(areas) == EXAMPLE_CODES
    assert [(c, areas[c].level, areas[c].name) for c in EXAMPLE_CODES] == [
        ("140213", "district", "平城区"),
        ("140213001", "street", "示例街道"),
        ("140213001001", "community", "示例社区"),
        ("140213001001001", "grid", "第一网格"),
        ("140213001001002", "grid", "第二网格"),
    ]
    assert areas["140213"].parent is None
    assert [areas[c].parent.code for c in EXAMPLE_CODES[1:]] == [
        "140213",
        "140213001",
        "140213001001",
        "140213001001",
    ]
    assert areas["140213001001"].address == "示例路 1 号"
    assert areas["140213"].boundary is None and areas["140213"].min_lat is None
    grid = areas["140213001001001"]
    assert (grid.min_lng, grid.max_lng, grid.min_lat, grid.max_lat) == pytest.approx(
        (113.300, 113.310, 40.090, 40.100)
    )
    assert (grid.center_lng, grid.center_lat) == pytest.approx((113.305, 40.095))
    # The point on the shared edge belongs to the smaller code, as the docs say.
    assert grid_for_point(40.095, 113.310).code == "140213001001001"
    entries = AuditEntry.objects.filter(action="area.imported")
    assert entries.count() == 5 == AuditEntry.objects.count()
    assert all(e.data == {"created": True} for e in entries)
    assert sorted(e.area_code for e in entries) == EXAMPLE_CODES


@pytest.mark.django_db
def test_utf8_file_with_a_byte_order_mark_is_read(tmp_path):
    text = json.dumps(docs_example(), ensure_ascii=False)
    path = write(tmp_path, b"\xef\xbb\xbf" + text.encode("utf-8"))

    out, err = run(path)

    assert (out, err) == ("Imported: 5 created, 0 updated.\n", "")
    assert Area.objects.get(code="140213").name == "平城区"


def test_second_run_updates_the_same_rows_and_touches_nothing_else(world, tmp_path):
    path = write(tmp_path, docs_example())
    run(path)
    first = snapshot()
    world_before = list(
        Area.objects.filter(code__startswith="440000").values_list(*FIELDS, "updated_at")
    )
    audits = AuditEntry.objects.count()

    out, err = run(path)

    assert (out, err) == ("Imported: 0 created, 5 updated.\n", "")
    assert snapshot() == first
    assert (
        list(Area.objects.filter(code__startswith="440000").values_list(*FIELDS, "updated_at"))
        == world_before
    )
    new = AuditEntry.objects.order_by("id")[audits:]
    assert [(e.action, e.data) for e in new] == [("area.imported", {"created": False})] * 5
    assert sorted(e.area_code for e in new) == EXAMPLE_CODES


@pytest.mark.django_db
def test_a_second_run_applies_changed_names_addresses_and_boundaries(tmp_path):
    collection = docs_example()
    run(write(tmp_path, collection))
    ids = dict(Area.objects.values_list("code", "pk"))
    collection["features"][0]["properties"]["name"] = "新平城区"
    collection["features"][0]["geometry"] = square(113.2, 40.0, 113.4, 40.2)
    collection["features"][2]["properties"].pop("address")

    out, _err = run(write(tmp_path, collection))

    assert out == "Imported: 0 created, 5 updated.\n"
    assert dict(Area.objects.values_list("code", "pk")) == ids
    district = Area.objects.get(code="140213")
    assert district.name == "新平城区"
    assert (district.min_lng, district.max_lat) == pytest.approx((113.2, 40.2))
    assert Area.objects.get(code="140213001001").address == ""

    # Back to no boundary: the box and the centre go with it.
    collection["features"][0]["geometry"] = None
    run(write(tmp_path, collection))
    district.refresh_from_db()
    assert district.boundary is None
    assert [district.min_lat, district.max_lng, district.center_lat, district.center_lng] == [
        None
    ] * 4


@pytest.mark.django_db
def test_dry_run_counts_and_writes_nothing(tmp_path):
    path = write(tmp_path, docs_example())

    out, err = run(path, "--dry-run")

    assert out == "Dry run, nothing was written: 5 would be created, 0 updated.\n"
    assert err == ""
    assert_nothing_written()


@pytest.mark.django_db
def test_dry_run_after_an_import_counts_updates_and_changes_nothing(tmp_path):
    path = write(tmp_path, docs_example())
    run(path)
    before = list(Area.objects.values_list(*FIELDS, "updated_at"))
    audits = AuditEntry.objects.count()

    out, _err = run(path, "--dry-run")

    assert out == "Dry run, nothing was written: 0 would be created, 5 updated.\n"
    assert list(Area.objects.values_list(*FIELDS, "updated_at")) == before
    assert AuditEntry.objects.count() == audits == 5


@pytest.mark.django_db
@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_docs_two_bad_rows_are_both_reported_and_nothing_is_written(tmp_path, dry_run):
    collection = docs_example()
    collection["features"][3]["geometry"]["coordinates"][0][2] = [40.100, 113.310]
    collection["features"][4]["properties"]["code"] = "14021300100200"

    out, err, message = run_failing(write(tmp_path, collection), *dry_run)

    assert out == ""
    assert err == (
        "row 4 (140213001001001): polygon 1, ring 1: [40.1, 113.31] is not a WGS-84 "
        "[longitude, latitude] pair.\n"
        "row 5 (14021300100200): A grid code has 15 digits; 14021300100200 has 14.\n"
    )
    assert message == "2 rows have errors; nothing was written."
    assert_nothing_written()


# --- malformed rows --------------------------------------------------------------------------


def set_prop(row: int, key: str, value):
    def change(collection):
        collection["features"][row - 1]["properties"][key] = value

    return change


def drop_prop(row: int, key: str):
    def change(collection):
        del collection["features"][row - 1]["properties"][key]

    return change


def set_feature(row: int, value):
    def change(collection):
        collection["features"][row - 1] = value

    return change


def set_geometry(row: int, value):
    def change(collection):
        collection["features"][row - 1]["geometry"] = value

    return change


def append(*features):
    def change(collection):
        collection["features"].extend(features)

    return change


def swap_first_two(collection):
    features = collection["features"]
    features[0], features[1] = features[1], features[0]


NOT_A_POLYGON = "A boundary must be a GeoJSON Polygon or MultiPolygon."
NOT_NUMBERS = "polygon 1, ring 1: coordinates must be numbers."
BAD_CODE = 'The code must be a string of digits in quotes, such as "140213".'
BAD_LEVEL = "is not one of district, street, community or grid."
LONG_CODE = "1" * 10_000
POLYGON_3D_TEXT = {
    "type": "Polygon",
    "coordinates": [
        [[113.30, 40.09, "x"], [113.32, 40.09], [113.32, 40.10], [113.30, 40.10],
         [113.30, 40.09, "x"]]
    ],
}  # fmt: skip
POLYGON_HUGE_NUMBER = {
    "type": "Polygon",
    "coordinates": [
        [[10**400, 40.09], [113.32, 40.09], [113.32, 40.10], [113.30, 40.10], [10**400, 40.09]]
    ],
}

C = "140213001001"  # the community, row 3: a leaf, so its errors stand alone
CASCADE = f"row 3 ({C}): Its parent 140213001 (row 2) has errors."
NOT_A_FEATURE = "The feature is not a GeoJSON Feature object."
DIGITS_ONLY = "must contain the digits 0-9 only."
SIX_TO_FIFTEEN = "an area code has 6, 9, 12 or 15."
NOWHERE = "is neither in the file nor in the database."
FULL_WIDTH = "１４０２１３００１００１"
WITH_NUL = "140213\\u0000001001"  # how the report shows a NUL character
THIRTY_ONE = "1" * 31


def case(name: str, change, *lines: str):
    return pytest.param(change, list(lines), id=name)


MALFORMED = [
    # the feature itself
    case("feature is a string", set_feature(3, "oops"), f"row 3: {NOT_A_FEATURE}"),
    case("feature is a list", set_feature(3, [1, 2]), f"row 3: {NOT_A_FEATURE}"),
    case("feature is null", set_feature(3, None), f"row 3: {NOT_A_FEATURE}"),
    case(
        "no properties",
        set_feature(3, {"type": "Feature", "geometry": None}),
        "row 3: The feature has no properties.",
    ),
    case(
        "properties a list",
        set_feature(3, {"type": "Feature", "properties": [C]}),
        "row 3: The feature has no properties.",
    ),
    # code
    case("code missing", drop_prop(3, "code"), "row 3: The feature has no code."),
    case("code blank", set_prop(3, "code", "  "), "row 3: The feature has no code."),
    case("code an int", set_prop(3, "code", 140213001001), f"row 3 ({C}): {BAD_CODE}"),
    case("code a float", set_prop(3, "code", 140213001001.0), f"row 3 ({C}.0): {BAD_CODE}"),
    case("code a bool", set_prop(3, "code", True), f"row 3 (true): {BAD_CODE}"),
    case("code a list", set_prop(3, "code", [C]), f"row 3 ([…]): {BAD_CODE}"),
    case("code a dict", set_prop(3, "code", {"v": 1}), f"row 3 ({{…}}): {BAD_CODE}"),
    case(
        "code with a letter",
        set_prop(3, "code", "14021300100A"),
        f"row 3 (14021300100A): Code 14021300100A {DIGITS_ONLY}",
    ),
    case(
        "code in full-width digits",
        set_prop(3, "code", FULL_WIDTH),
        f"row 3 ({FULL_WIDTH}): Code {FULL_WIDTH} {DIGITS_ONLY}",
    ),
    case(
        "code with a NUL",
        set_prop(3, "code", "140213\x00001001"),
        f"row 3 ({WITH_NUL}): Code {WITH_NUL} {DIGITS_ONLY}",
    ),
    case(
        "code of 7 digits",
        set_prop(3, "code", "1402130"),
        f"row 3 (1402130): Code 1402130 has 7 digits; {SIX_TO_FIFTEEN}",
    ),
    case(
        "code of 10,000 digits",
        set_prop(3, "code", LONG_CODE),
        f"row 3 ({THIRTY_ONE}…): Code {THIRTY_ONE}… has 10000 digits; {SIX_TO_FIFTEEN}",
    ),
    # level
    case("level a list", set_prop(3, "level", ["grid"]), f"row 3 ({C}): Level […] {BAD_LEVEL}"),
    case("level a dict", set_prop(3, "level", {"a": 1}), f"row 3 ({C}): Level {{…}} {BAD_LEVEL}"),
    case("level a number", set_prop(3, "level", 3), f"row 3 ({C}): Level 3 {BAD_LEVEL}"),
    case("level a bool", set_prop(3, "level", True), f"row 3 ({C}): Level true {BAD_LEVEL}"),
    case(
        "level unknown",
        set_prop(3, "level", "Community"),
        f"row 3 ({C}): Level Community {BAD_LEVEL}",
    ),
    case(
        "level against the code",
        set_prop(3, "level", "grid"),
        f"row 3 ({C}): A grid code has 15 digits; {C} has 12.",
    ),
    # name and address
    case("name missing", drop_prop(3, "name"), f"row 3 ({C}): The feature has no name."),
    case("name blank", set_prop(3, "name", " \t "), f"row 3 ({C}): The feature has no name."),
    case("name a number", set_prop(3, "name", 7), f"row 3 ({C}): The name must be text."),
    case("name a list", set_prop(3, "name", ["社区"]), f"row 3 ({C}): The name must be text."),
    case(
        "name too long",
        set_prop(3, "name", "长" * 101),
        f"row 3 ({C}): The name has 101 characters; at most 100 are allowed.",
    ),
    case(
        "name with a NUL",
        set_prop(3, "name", "社\x00区"),
        f"row 3 ({C}): The name contains control characters.",
    ),
    case("address a number", set_prop(3, "address", 1), f"row 3 ({C}): The address must be text."),
    case(
        "address a dict",
        set_prop(3, "address", {"road": "x"}),
        f"row 3 ({C}): The address must be text.",
    ),
    case(
        "address too long",
        set_prop(3, "address", "路" * 201),
        f"row 3 ({C}): The address has 201 characters; at most 200 are allowed.",
    ),
    case(
        "address with a newline",
        set_prop(3, "address", "示例路\n1 号"),
        f"row 3 ({C}): The address contains control characters.",
    ),
    # geometry
    case("geometry a string", set_geometry(3, "polygon"), f"row 3 ({C}): {NOT_A_POLYGON}"),
    case("geometry an empty list", set_geometry(3, []), f"row 3 ({C}): {NOT_A_POLYGON}"),
    case("geometry false", set_geometry(3, False), f"row 3 ({C}): {NOT_A_POLYGON}"),
    case("geometry an empty object", set_geometry(3, {}), f"row 3 ({C}): {NOT_A_POLYGON}"),
    case(
        "geometry a point",
        set_geometry(3, {"type": "Point", "coordinates": [113.3, 40.09]}),
        f"row 3 ({C}): {NOT_A_POLYGON}",
    ),
    case(
        "geometry type a list",
        set_geometry(3, {"type": ["Polygon"], "coordinates": []}),
        f"row 3 ({C}): {NOT_A_POLYGON}",
    ),
    case("position with text", set_geometry(3, POLYGON_3D_TEXT), f"row 3 ({C}): {NOT_NUMBERS}"),
    case(
        "coordinate of 400 digits",
        set_geometry(3, POLYGON_HUGE_NUMBER),
        f"row 3 ({C}): {NOT_NUMBERS}",
    ),
    case(
        "community without boundary",
        set_geometry(3, None),
        f"row 3 ({C}): A community or a grid needs a boundary polygon.",
    ),
    case(
        "street with a bad boundary",
        set_geometry(2, "polygon"),
        f"row 2 (140213001): {NOT_A_POLYGON}",
        CASCADE,
    ),
    # the tree
    case(
        "code twice",
        append(feature("140213001", "又一个")),
        "row 4 (140213001): Code 140213001 appears twice in the file (rows 2 and 4).",
    ),
    case(
        "parent comes later",
        swap_first_two,
        "row 1 (140213001): Its parent 140213 comes later in the file (row 2); put parents first.",
        f"row 3 ({C}): Its parent 140213001 (row 1) has errors.",
    ),
    case(
        "parent has errors",
        set_prop(1, "name", ""),
        "row 1 (140213): The feature has no name.",
        "row 2 (140213001): Its parent 140213 (row 1) has errors.",
        CASCADE,
    ),
    case(
        "parent's code a number",
        set_prop(2, "code", 140213001),
        f"row 2 (140213001): {BAD_CODE}",
        CASCADE,
    ),
    case(
        "parent unreadable",
        set_feature(2, "oops"),
        f"row 2: {NOT_A_FEATURE}",
        f"row 3 ({C}): Its parent 140213001 {NOWHERE}",
    ),
    case(
        "orphan",
        append(feature("140213002001", "孤儿", COMMUNITY_SQUARE)),
        f"row 4 (140213002001): Its parent 140213002 {NOWHERE}",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("change, lines", MALFORMED)
def test_malformed_row_is_reported_and_nothing_is_written(tmp_path, change, lines):
    collection = small_tree()
    change(collection)

    out, err, message = run_failing(write(tmp_path, collection))

    assert out == ""
    assert err.splitlines() == lines
    rows = len(lines)
    assert message == (
        "1 row has errors; nothing was written."
        if rows == 1
        else f"{rows} rows have errors; nothing was written."
    )
    assert_nothing_written()


@pytest.mark.django_db
def test_the_untouched_small_tree_imports(tmp_path):
    # The malformed cases above each break this file in one place; as it stands it is fine.
    out, err = run(write(tmp_path, small_tree()))
    assert (out, err) == ("Imported: 3 created, 0 updated.\n", "")


@pytest.mark.django_db
def test_every_bad_row_of_a_file_is_reported(tmp_path):
    collection = small_tree()
    collection["features"] += [
        "not a feature",
        feature(140213002, "整数编码"),
        feature("140213003", ["名字"], level=["street"]),
    ]

    _out, err, message = run_failing(write(tmp_path, collection))

    assert err.splitlines() == [
        "row 4: The feature is not a GeoJSON Feature object.",
        f"row 5 (140213002): {BAD_CODE}",
        f"row 6 (140213003): Level […] {BAD_LEVEL}",
    ]
    assert message == "3 rows have errors; nothing was written."
    assert_nothing_written()


WHOLE_FILE = {
    "a list": [feature("140213", "平城区")],
    "a bare feature": feature("140213", "平城区"),
    "another type": {"type": "GeometryCollection", "features": [feature("140213", "x")]},
    "a string": "FeatureCollection",
}


@pytest.mark.django_db
@pytest.mark.parametrize("data", WHOLE_FILE.values(), ids=WHOLE_FILE.keys())
def test_a_file_that_is_not_a_feature_collection_is_refused(tmp_path, data):
    _out, err, message = run_failing(write(tmp_path, data))

    assert err == "The file must be a GeoJSON FeatureCollection.\n"
    assert message == "Nothing was written."
    assert_nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize("features", [[], None, {"0": {}}, "features"], ids=repr)
def test_a_collection_without_a_list_of_features_is_refused(tmp_path, features):
    data = {"type": "FeatureCollection", "features": features}

    _out, err, message = run_failing(write(tmp_path, data))

    assert err == "The FeatureCollection has no features.\n"
    assert message == "Nothing was written."
    assert_nothing_written()


@pytest.mark.django_db
def test_more_features_than_the_limit_are_refused_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(services, "MAX_IMPORT_FEATURES", 3)
    at_limit = small_tree()
    over = small_tree()
    over["features"].append(feature("140213002", "乙街道"))

    _out, err, message = run_failing(write(tmp_path, over))

    assert err == "The file has 4 features; import at most 3 at a time.\n"
    assert message == "Nothing was written."
    assert_nothing_written()
    assert run(write(tmp_path, at_limit))[0] == "Imported: 3 created, 0 updated.\n"


@pytest.mark.django_db
def test_the_service_never_raises_even_on_shapes_json_cannot_make():
    # Callers other than the command may pass any Python object.
    collection = {
        "type": "FeatureCollection",
        "features": [
            object(),
            {"properties": {"code": 10**5000, "name": "x"}},
            {"properties": {"code": "160000", "name": "x", "level": object()}},
            {"properties": {"code": "170000", "name": b"x"}, "geometry": None},
            {"properties": {"code": "180000", "name": "x"}, "geometry": ("a", "b")},
            {"properties": {"code": "190000", "name": "x"}, "geometry": {"type": {}}},
        ],
    }

    result = services.areas_import(collection=collection)

    assert (result.created, result.updated) == (0, 0)
    assert result.errors == [
        (1, "", NOT_A_FEATURE),
        (2, "int", BAD_CODE),
        (3, "160000", f"Level object {BAD_LEVEL}"),
        (4, "170000", "The name must be text."),
        (5, "180000", NOT_A_POLYGON),
        (6, "190000", NOT_A_POLYGON),
    ]
    assert_nothing_written()


# --- rows against what the database holds --------------------------------------------------


@pytest.fixture
def district_and_street(db):
    district = area_create(level="district", code="140213", name="平城区")
    area_create(level="street", code="140213001", name="示例街道", parent=district)
    return district


def test_rows_may_hang_under_areas_already_in_the_database(district_and_street, tmp_path):
    collection = {
        "type": "FeatureCollection",
        "features": [feature("140213001001", "示例社区", COMMUNITY_SQUARE)],
    }

    out, _err = run(write(tmp_path, collection))

    assert out == "Imported: 1 created, 0 updated.\n"
    assert Area.objects.get(code="140213001001").parent.code == "140213001"


def test_an_existing_area_of_another_level_is_reported(district_and_street, tmp_path):
    # Only a hand-edited database can hold this: area_create refuses it.
    Area.objects.filter(code="140213001").update(level="community")
    before, audits = snapshot(), AuditEntry.objects.count()

    _out, err, message = run_failing(write(tmp_path, small_tree()))

    assert err.splitlines() == [
        "row 2 (140213001): Area 140213001 exists as a community, not a street.",
        "row 3 (140213001001): Its parent 140213001 is not a street.",
    ]
    assert message == "2 rows have errors; nothing was written."
    assert_nothing_written(before, audits)


def test_an_existing_parent_of_another_level_is_reported(district_and_street, tmp_path):
    Area.objects.filter(code="140213001").update(level="community")
    before, audits = snapshot(), AuditEntry.objects.count()
    collection = {
        "type": "FeatureCollection",
        "features": [feature("140213001001", "示例社区", COMMUNITY_SQUARE)],
    }

    _out, err, _message = run_failing(write(tmp_path, collection))

    assert err == "row 1 (140213001001): Its parent 140213001 is not a street.\n"
    assert_nothing_written(before, audits)


def test_the_import_never_moves_an_existing_area(district_and_street, tmp_path):
    other = area_create(level="district", code="150000", name="别的区")
    # A street filed under the wrong district by hand; the import must not silently move it.
    Area.objects.filter(code="140213001").update(parent=other)
    before, audits = snapshot(), AuditEntry.objects.count()

    _out, err, message = run_failing(write(tmp_path, small_tree()))

    assert err == (
        "row 2 (140213001): Area 140213001 sits under 150000 in the database, but its code puts "
        "it under 140213; the import does not move areas.\n"
    )
    assert message == "1 row has errors; nothing was written."
    assert_nothing_written(before, audits)
    assert Area.objects.get(code="140213001").parent_id == other.pk


def test_a_district_with_a_parent_in_the_database_is_reported(district_and_street, tmp_path):
    other = area_create(level="district", code="150000", name="别的区")
    Area.objects.filter(code="140213").update(parent=other)
    before, audits = snapshot(), AuditEntry.objects.count()
    collection = {"type": "FeatureCollection", "features": [feature("140213", "平城区")]}

    _out, err, _message = run_failing(write(tmp_path, collection))

    assert err == (
        "row 1 (140213): Area 140213 sits under 150000 in the database, but its code puts it "
        "under no parent; the import does not move areas.\n"
    )
    assert_nothing_written(before, audits)


# --- the transaction ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_code_written_meanwhile_is_reported_and_earlier_rows_are_rolled_back(
    tmp_path, monkeypatch
):
    real_save = Area.save

    def save_after_a_concurrent_insert(self, *args, **kwargs):
        if self.pk is None and self.code == "140213001001":
            # Another writer inserts the same code between our checks and our insert (here on
            # the same connection, so our rollback takes it away too).
            Area.objects.bulk_create([Area(code=self.code, level="community", name="抢先")])
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Area, "save", save_after_a_concurrent_insert)

    _out, err, message = run_failing(write(tmp_path, small_tree()))

    assert err == (
        "row 3 (140213001001): Area 140213001001 was written by someone else during the import; "
        "nothing was written. Run the import again.\n"
    )
    assert message == "1 row has errors; nothing was written."
    assert_nothing_written()


@pytest.mark.django_db
def test_a_constraint_failing_at_commit_is_reported(tmp_path, monkeypatch):
    def refuse(**kwargs):
        raise IntegrityError("FOREIGN KEY constraint failed")

    monkeypatch.setattr(services, "_import", refuse)

    _out, err, message = run_failing(write(tmp_path, small_tree()))

    assert err == "The areas changed during the import; nothing was written. Run it again.\n"
    assert message == "Nothing was written."
    assert_nothing_written()


# --- the file itself -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_missing_file_is_refused(tmp_path):
    path = tmp_path / "nope.geojson"
    _out, err, message = run_failing(path)
    assert (err, message) == ("", f"File {path} does not exist.")
    assert_nothing_written()


@pytest.mark.django_db
def test_a_directory_is_refused(tmp_path):
    _out, err, message = run_failing(tmp_path)
    assert (err, message) == ("", f"{tmp_path} is a directory, not a file.")
    assert_nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "encoding, name", [("gbk", "城区"), ("latin-1", "Zürich"), ("utf-16", "城区")], ids=str
)
def test_a_file_that_is_not_utf8_is_refused(tmp_path, encoding, name):
    collection = {"type": "FeatureCollection", "features": [feature("140213", name)]}
    text = json.dumps(collection, ensure_ascii=False)
    path = write(tmp_path, text.encode(encoding))
    # Everything before the first non-ASCII character is one byte each; UTF-16 fails at once, on
    # its byte order mark.
    first = next(i for i, ch in enumerate(text) if not ch.isascii())
    position = 0 if encoding == "utf-16" else first

    _out, err, message = run_failing(path)

    assert err == ""
    assert message == (
        f"{path} is not UTF-8 text (byte {position} cannot be read). Save it as UTF-8 "
        "(a file saved as GBK must be converted first)."
    )
    assert_nothing_written()


NAME_EXPECTED = "Expecting property name enclosed in double quotes"
BAD_JSON = {
    "empty": ("", "Expecting value (line 1, column 1)."),
    "cut short": (
        '{"type": "FeatureCollection",\n "features": [',
        "Expecting value (line 2, column 15).",
    ),
    "trailing comma": ('{"features": [],}', f"{NAME_EXPECTED} (line 1, column 17)."),
    "single quotes": ("{'type': 'FeatureCollection'}", f"{NAME_EXPECTED} (line 1, column 2)."),
}


@pytest.mark.django_db
@pytest.mark.parametrize("text, reason", BAD_JSON.values(), ids=BAD_JSON.keys())
def test_invalid_json_is_refused(tmp_path, text, reason):
    path = write(tmp_path, text, raw=True)

    _out, err, message = run_failing(path)

    assert (err, message) == ("", f"{path} is not valid JSON: {reason}")
    assert_nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text, reason",
    [
        ("[" * 100_000, "maximum recursion depth exceeded while decoding a JSON array"),
        ('{"n": ' + "1" * 5_000 + "}", "Exceeds the limit (4300 digits) for integer string"),
    ],
    ids=["nested 100,000 deep", "a number of 5,000 digits"],
)
def test_json_too_big_for_the_parser_is_refused(tmp_path, text, reason):
    path = write(tmp_path, text, raw=True)

    _out, err, message = run_failing(path)

    assert err == ""
    assert message.startswith(f"{path} is not valid JSON: {reason}")
    assert_nothing_written()
