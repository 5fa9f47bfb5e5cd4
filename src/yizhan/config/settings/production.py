"""Production: refuses to start with DEBUG on, the default secret key or no ALLOWED_HOSTS.

The production profile (docs/deploy.md): gunicorn workers serving the app and, through
WhiteNoise, the static files (hashed names, compressed, cached for a year); PostgreSQL with
persistent connections; Redis for the cache, the rate limits and the task queue; Huey workers
and the scheduler for the background work; photos in S3-compatible object storage.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from yizhan.config.env import env_bool, env_int, env_list, env_str

from .base import *  # noqa: F403
from .base import (
    DATABASES,
    DEBUG,
    DEFAULT_SECRET_KEY,
    LOGGING,
    MIDDLEWARE,
    SECRET_KEY,
    STORAGES,
)

# No development default here: the operator names the hosts this site answers to.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])


def check_production_settings(*, debug: bool, secret_key: str, allowed_hosts: list[str]) -> None:
    problems = []
    if debug:
        problems.append("DEBUG must be off in production")
    if not secret_key or secret_key == DEFAULT_SECRET_KEY or len(secret_key) < 50:
        problems.append("SECRET_KEY must be set to a random value of at least 50 characters")
    if not allowed_hosts:
        problems.append("ALLOWED_HOSTS must list the host names this site serves")
    if problems:
        raise ImproperlyConfigured("Refusing to start: " + "; ".join(problems))


check_production_settings(debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS)

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Admins (and the platform operator) log in with a second factor (TOTP); see docs/security.md.
YIZHAN_REQUIRE_2FA_ROLES = env_list("YIZHAN_REQUIRE_2FA_ROLES", ["admin", "superuser"])
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading is a per-domain, hard-to-undo commitment (hstspreload.org) that covers every
# subdomain, often a government parent domain: the operator opts in with SECURE_HSTS_PRELOAD=1.
# Left off on purpose, its deploy-check warning (security.W021) tells nothing new.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
# Production runs behind one reverse proxy (nginx, docs/deploy.md) that appends the client's
# address to X-Forwarded-For: without this every client would share the proxy's address and
# one rider's mistakes would lock everybody out of the rate limits. 0 when serving directly.
YIZHAN_TRUSTED_PROXY_HOPS = env_int("YIZHAN_TRUSTED_PROXY_HOPS", 1)
# One JSON object per log line (with the request id) unless LOG_FORMAT=text.
LOG_FORMAT = env_str("LOG_FORMAT", "json")
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_FORMAT == "json" else "text"

# Static files from the app servers themselves, efficiently: WhiteNoise serves what
# `collectstatic` gathered, under content-hashed names with a year's caching and pre-compressed
# (gzip, Brotli) copies; nginx may serve STATIC_ROOT directly instead (deploy/nginx/yizhan.conf).
MIDDLEWARE = list(MIDDLEWARE)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# PostgreSQL: each worker keeps its connection for a minute (checked before reuse) instead of
# connecting for every request; DB_CONN_MAX_AGE overrides (0: a connection per request, as
# behind PgBouncer in transaction mode).
if DATABASES["default"]["ENGINE"].endswith("postgresql") and "DB_CONN_MAX_AGE" not in os.environ:
    DATABASES["default"]["CONN_MAX_AGE"] = 60
