"""``manage.py import_stations`` and ``manage.py export_stations``, with files on disk."""

from __future__ import annotations

import io
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from openpyxl import load_workbook

from tests.stations.exchange_helpers import HEADER, csv_file, registry, row, snapshot, xlsx
from yizhan.stations.management.commands.import_stations import ProgressBar
from yizhan.stations.models import Station


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def write(tmp_path: Path, data: bytes, name: str = "stations.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def run(command: str, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(command: str, *args: str) -> tuple[str, str, CommandError]:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as exc:
        call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), exc.value


def test_import_with_a_progress_bar(world, tmp_path):
    path = write(tmp_path, xlsx([row(name="一"), row(name="二", ref="B-2")]))

    out, err = run("import_stations", str(path), "--as", "staff_a1")

    assert "Imported: 2 created, 0 updated, 0 unchanged." in out
    assert err.startswith("\r[")
    assert err.endswith("] 2/2\n")  # the last row is always drawn
    assert sorted(Station.objects.values_list("name", flat=True)) == ["一", "二"]


def test_rows_with_errors_exit_with_status_1_and_write_nothing(world, tmp_path):
    path = write(
        tmp_path,
        csv_file([row(), row(lat="abc"), row(services="飞行"), row(name="")]),
        "stations.csv",
    )
    before = snapshot()

    out, err, exc = run_failing("import_stations", str(path), "--as", "staff_a1")

    assert exc.returncode == 1
    assert str(exc) == "3 rows have errors (see above). Nothing was written."
    lines = err.split("\n", 1)[1].splitlines()  # after the progress bar
    assert lines[0].startswith("row 3, 纬度: 纬度 must be a decimal number")
    assert lines[1] == "row 4, 服务: 飞行 is not a service of the catalogue."
    assert lines[2] == "row 5, 名称: 名称 is required."
    assert snapshot() == before


def test_keep_good_rows(world, tmp_path):
    path = write(tmp_path, xlsx([row(name="好"), row(name="坏", lat="abc")]))

    out, err, exc = run_failing(
        "import_stations", str(path), "--as", "staff_a1", "--keep-good-rows"
    )

    assert "Imported: 1 created, 0 updated, 0 unchanged." in out
    assert exc.returncode == 1
    assert str(exc) == "1 row has errors (see above)."
    assert list(Station.objects.values_list("name", flat=True)) == ["好"]


def test_dry_run(world, tmp_path):
    path = write(tmp_path, xlsx([row(name="好")]))
    before = snapshot()
    out, _err = run("import_stations", str(path), "--as", "staff_a1", "--dry-run")
    assert "Dry run, nothing was written: 1 would be created" in out
    assert snapshot() == before


def test_out_of_scope_rows_for_this_account(world, tmp_path):
    path = write(tmp_path, xlsx([row()]))
    _out, err, exc = run_failing("import_stations", str(path), "--as", "staff_a2")
    assert "row 2, 社区代码: You do not have permission to do this." in err
    assert Station.objects.count() == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--as", "nobody"], "No account has the username nobody."),
        (["--as", "staff_a1"], "This is not a spreadsheet (it looks like a PDF file)"),
    ],
)
def test_refusals_before_any_row(world, tmp_path, args, message):
    path = write(tmp_path, b"%PDF-1.4 not a sheet", "stations.xlsx")
    _out, _err, exc = run_failing("import_stations", str(path), *args)
    assert message in str(exc)
    assert exc.returncode == 1


def test_missing_file_and_missing_columns(world, tmp_path):
    _out, _err, exc = run_failing(
        "import_stations", str(tmp_path / "none.xlsx"), "--as", "staff_a1"
    )
    assert "does not exist" in str(exc)
    path = write(tmp_path, xlsx([], header=HEADER[:3]))
    _out, _err, exc = run_failing("import_stations", str(path), "--as", "staff_a1")
    assert "lacks the required columns 社区代码、纬度、经度" in str(exc)


def test_a_disabled_account(world, tmp_path):
    world.community_staff.is_active = False
    world.community_staff.save(update_fields=["is_active"])
    path = write(tmp_path, xlsx([row()]))
    _out, _err, exc = run_failing("import_stations", str(path), "--as", "staff_a1")
    assert "disabled" in str(exc)


def test_the_progress_bar_redraws_sparingly():
    drawn: list[str] = []
    bar = ProgressBar(drawn.append, interval=3600)
    for done in range(1, 1001):
        bar(done, 1000)
    bar.finish()
    assert drawn == ["\r[" + "." * 30 + "] 1/1000", "\r[" + "#" * 30 + "] 1000/1000", "\n"]


# --- export --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, fmt", [("all.xlsx", "xlsx"), ("all.csv", "csv")])
def test_export_then_import_is_unchanged(world, tmp_path, name, fmt):
    registry(world)
    path = tmp_path / name

    out, _err = run("export_stations", str(path))

    assert f"Exported 3 stations to {path}." in out
    data = path.read_bytes()
    assert data.startswith(b"PK" if fmt == "xlsx" else b"\xef\xbb\xbf")
    before = snapshot()
    out, _err = run("import_stations", str(path), "--as", "admin_a")
    assert "Imported: 0 created, 0 updated, 3 unchanged." in out
    assert snapshot() == before


def test_export_one_community_in_a_chosen_format(world, tmp_path):
    registry(world)
    path = tmp_path / "a1.data"
    run("export_stations", str(path), "--community", "440000001001", "--format", "xlsx")
    sheet = load_workbook(io.BytesIO(path.read_bytes())).active
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["A1-001", "A1-002"]


def test_export_unknown_area(world, tmp_path):
    _out, _err, exc = run_failing("export_stations", str(tmp_path / "x.xlsx"), "--community", "999")
    assert "No area has the code 999." in str(exc)
