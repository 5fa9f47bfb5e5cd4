import pytest

from tests.appeals.builders import appeal_objects, bodies


@pytest.fixture
def made(world):
    return appeal_objects(world)


@pytest.fixture
def body(world):
    return bodies(world)
