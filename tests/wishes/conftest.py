import pytest

from tests.wishes import builders


@pytest.fixture
def volunteer(world):
    return builders.volunteer(world)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
