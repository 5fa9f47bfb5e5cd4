"""The upload torture corpus against every page form that takes a file (see
``test_upload_torture.py`` for the API): a 4xx page, nothing changed, no file left behind."""

import pytest
from django.urls import reverse

import tests.api.test_permission_matrix as api_matrix
import tests.pages.test_page_matrix as page_matrix
from tests.api.helpers import client_for
from tests.core.test_upload_torture import _caller, _files
from tests.core.torture import CORPUS, upload
from tests.matrix_parts import PARTS

ids = page_matrix.ids  # the page matrix's objects, as a fixture of this module too

#: Page forms that take a file: case name in the page matrix → the file field. The optional
#: photos (duties, wishes, rewards) are added to a body that has none.
PAGE_UPLOADS = {
    "photo_add": "photo",
    "station import POST": "file",
    "catalogue POST": "photo",
}


PAGE_CASES = page_matrix.CASES  # the parts' rows included
#: Page rows of other apps that take an optional photo (found by their URL name), and the report
#: forms with photos that a matrix role may send (the handler's form is tortured through the
#: API: its handler is not one of the matrix's roles).
for _name, _case in PAGE_CASES.items():
    if _case.method == "POST" and _case.name in ("duties:log", "wishes:new", "wishes:fulfil"):
        PAGE_UPLOADS[_name] = "photo"
    elif (
        _case.method == "POST"
        and set(_case.expect.split()) & {"ok", "go"}
        and any(isinstance(v, str) and v == "{report_photo}" for v in (_case.body or {}).values())
    ):
        PAGE_UPLOADS[_name] = "photos"


def test_every_page_upload_is_tortured():
    assert set(PAGE_UPLOADS) <= set(PAGE_CASES)
    names = {PAGE_CASES[n].name for n in PAGE_UPLOADS}
    assert {"reports:new", "stations:photo_add", "duties:log", "wishes:new"} <= names, names


@pytest.mark.parametrize("torture", CORPUS)
@pytest.mark.parametrize("name", sorted(PAGE_UPLOADS))
def test_page_upload_refuses(world, ids, name, torture, settings, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    case = PAGE_CASES[name]
    if case.name.startswith(("points:", "rewards:")):
        ids = {**ids, **page_matrix.shop_ids(world)}
    if case.name.startswith("stations:"):
        ids = {**ids, **page_matrix.station_ids(world)}
    if case.name.startswith(("reports:", "notifications:")):
        ids = {**ids, **page_matrix.report_ids(world)}
    for part in PARTS:
        if part.page_uses(case):
            ids = {**ids, **part.page_ids(world, case)}
    field = PAGE_UPLOADS[name]
    body = {k: v for k, v in (case.body or {}).items() if k != field}
    data = {**page_matrix.fill(body, ids), field: upload(torture)}
    client = client_for(
        _caller(world, ids, str(case.args), case.expect, lambda s: s in ("ok", "go"))
    )
    url = reverse(case.name, args=[ids[a] for a in case.args])
    files_before = _files(media)
    before = api_matrix.snapshot()
    response = client.post(url, data)
    assert 400 <= response.status_code < 500, (name, torture, response.status_code)
    assert b"<h1>" in response.content
    assert api_matrix.snapshot() == before, f"{name} with {torture} changed something"
    assert _files(media) == files_before, f"{name} with {torture} left files behind"
