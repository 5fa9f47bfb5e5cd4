import pytest

from tests.privacy.builders import rich_rider


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def rich(world, media):
    return rich_rider(world)
