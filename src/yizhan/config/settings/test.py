"""Test settings: fast hashing, no tiles fetched, in-memory cache, SQLite unless DATABASE_URL.

Rate limits and the log-in lockout are on with their ordinary limits (their counters live in the
cache, which tests/conftest.py clears before every test); the tests of core.ratelimit and
people.security lower them with the ``settings`` fixture."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAP_TILE_URL = ""
YIZHAN_REQUIRE_2FA_ROLES: list[str] = []
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
