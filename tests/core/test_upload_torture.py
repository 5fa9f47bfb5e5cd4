"""The upload torture corpus (``tests/core/torture``) against every upload endpoint.

Every API operation that takes a file (the permission matrix's multipart rows: report photos,
station photos and the station import, duty and wish photos …) and every page form that takes
one (``test_upload_torture_pages.py``), called by a role the matrix allows, with each file of
the corpus in place of the good one: a 4xx with a readable message, no row changed (the matrix's
snapshot) and no file left in MEDIA_ROOT (a temporary directory).
"""

from pathlib import Path

import pytest

import tests.api.test_permission_matrix as api_matrix
from tests.api.helpers import client_for
from tests.core.torture import CORPUS, upload
from tests.matrix_parts import PARTS
from tests.world import MATRIX_ROLES

ids = api_matrix.ids  # the matrix's objects, as a fixture of this module too

API_UPLOADS = {name: case for name, case in api_matrix.CASES.items() if case.multipart}


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _caller(world, ids, path: str, expect: str, ok):
    """The first matrix role allowed to call; for a claimed wish (only its claimer may act on
    it, a volunteer outside the matrix's roles) the claimer."""
    for index, outcome in enumerate(expect.split()):
        if ok(outcome):
            return world.account(MATRIX_ROLES[index])
    if "{claimed}" in path or "claimed" in path:
        from yizhan.wishes.models import Wish

        return Wish.objects.get(pk=ids["claimed"]).current_claim.claimer
    raise AssertionError(f"no role may call this: {expect}")


def test_every_multipart_operation_is_tortured():
    assert {"POST /reports", "POST /stations/{id}/photos", "POST /stations/import"} <= set(
        API_UPLOADS
    )


@pytest.mark.parametrize("torture", CORPUS)
@pytest.mark.parametrize("name", sorted(API_UPLOADS))
def test_api_upload_refuses(world, ids, name, torture, settings, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    case = API_UPLOADS[name]
    if api_matrix._needs_shop(case):
        ids = {**ids, **api_matrix.shop_ids(world)}
    if api_matrix._needs_stations(case):
        ids = {**ids, **api_matrix.station_ids(world)}
    if api_matrix._needs_reports(case):
        ids = {**ids, **api_matrix.report_ids(world, case)}
    for part in PARTS:
        if part.api_uses(case):
            ids = {**ids, **part.api_ids(world, case)}
    client = client_for(_caller(world, ids, case.path, case.expect, lambda s: s[0] == "2"))
    files_before = _files(media)
    before = api_matrix.snapshot()
    response = client.post(
        api_matrix._fill(case.path, ids),
        data={**api_matrix._fill(case.body or {}, ids), case.file_field: upload(torture)},
        headers=case.headers,
    )
    assert 400 <= response.status_code < 500, (name, torture, response.content[:300])
    body = response.json()
    assert set(body) == {"code", "message", "detail"} and body["message"], body
    assert api_matrix.snapshot() == before, f"{name} with {torture} changed something"
    assert _files(media) == files_before, f"{name} with {torture} left files behind"
