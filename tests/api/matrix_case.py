"""The API permission matrix's row type, shared by ``test_permission_matrix`` and the rows each
app keeps in its own ``tests/<app>/matrix.py`` (``tests.matrix_parts``)."""

from dataclasses import dataclass, field


@dataclass
class Case:
    method: str
    path: str
    body: object
    expect: str  # one status per MATRIX_ROLES column
    headers: dict = field(default_factory=dict)
    multipart: bool = False  # the body as form fields, plus a file as "file"
    upload: str = "jpeg"  # which file: a small JPEG, or a one-row CSV of stations in A1
    file_field: str = "file"  # the form field the file goes in ("photos" for reports)
    download: bool = False  # a 200 is a file download, not JSON


def _row(*statuses: int) -> str:
    return " ".join(str(s) for s in statuses)


KEY = {"Idempotency-Key": "matrix-key-0001"}
