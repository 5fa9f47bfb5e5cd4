import pytest
from django.core.cache import cache
from django.db import connection

from tests.world import PASSWORD, build_world


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: cached rows (the station catalogue …) of an
    earlier test's database must not leak into the next one."""
    cache.clear()
    yield


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def password():
    return PASSWORD


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` run only against PostgreSQL (CI's second pass)."""
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(skip)
