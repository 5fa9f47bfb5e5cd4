"""Development and demo: DEBUG on unless told otherwise, SQLite under var/."""

from yizhan.config.env import env_bool

from .base import *  # noqa: F403
from .base import VAR_DIR

DEBUG = env_bool("DEBUG", True)
VAR_DIR.mkdir(parents=True, exist_ok=True)
