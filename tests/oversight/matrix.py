"""The oversight app's rows of the permission matrices (see ``tests.matrix_parts``)."""

API_CASES: dict = {}

PAGE_CASES: dict = {}


def api_uses(case) -> bool:
    return False


def api_ids(world, case) -> dict:
    return {}


def page_uses(case) -> bool:
    return False


def page_ids(world, case) -> dict:
    return {}


def snapshot() -> tuple:
    return ()
