"""Settings shared by every profile. Everything machine-specific comes from the environment."""

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from yizhan.config.env import BASE_DIR, env_bool, env_int, env_list, env_str

SRC_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(env_str("YIZHAN_VAR_DIR", str(BASE_DIR / "var")))

# The well-known development key. Production refuses to start with it (see production.py).
DEFAULT_SECRET_KEY = "yizhan-insecure-development-key-change-me"
SECRET_KEY = env_str("SECRET_KEY", DEFAULT_SECRET_KEY)
# Key for phone and ID numbers at rest (Fernet/HMAC); derived from SECRET_KEY when unset.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "")
# Keys being rotated out (comma-separated): still read, never written; drop them once
# `manage.py rotate_field_keys --check` reports nothing left on them.
FIELD_ENCRYPTION_OLD_KEYS = env_list("FIELD_ENCRYPTION_OLD_KEYS", [])
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
DEMO_MODE = env_bool("YIZHAN_DEMO", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "huey.contrib.djhuey",
    "yizhan.core",
    "yizhan.areas",
    "yizhan.people",
    "yizhan.notifications",
    "yizhan.stations",
    "yizhan.points",
    "yizhan.rewards",
    "yizhan.reports",
    "yizhan.events",
    "yizhan.duties",
    "yizhan.wishes",
    "yizhan.appeals",
    "yizhan.honours",
    "yizhan.organisation",
    "yizhan.dashboards",
    "yizhan.privacy",
    "yizhan.oversight",
    "yizhan.demo",
]

MIDDLEWARE = [
    "yizhan.core.ops.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yizhan.core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "yizhan.people.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "yizhan.core.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "yizhan.config.urls"
WSGI_APPLICATION = "yizhan.config.wsgi.application"
ASGI_APPLICATION = "yizhan.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yizhan.core.context_processors.site",
            ],
        },
    },
]

# Form fields render with Django's templates, except that a checkbox sits inside its label.
FORM_RENDERER = "yizhan.core.forms.FormRenderer"


def database_from_url(url: str) -> dict:
    """Parse DATABASE_URL; SQLite gets WAL, a busy timeout and IMMEDIATE write transactions."""
    config = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # IMMEDIATE takes the write lock when a transaction starts, so two writers queue on
            # the busy timeout instead of failing with "database is locked" half-way through.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
        config["CONN_MAX_AGE"] = 0
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'yizhan.sqlite3'}")
DATABASES = {"default": database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "yizhan",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "yizhan",
        }
    }

# Background tasks (core.tasks, Huey). With a queue URL (TASK_QUEUE_URL, else REDIS_URL) tasks
# go to Redis and `manage.py run_huey` workers run them; without one they run in process, at
# commit (the embedded default and the tests). Give the queue its own Redis database (or
# instance) with maxmemory-policy noeviction: a cache that evicts must not evict tasks.
TASK_QUEUE_URL = env_str("TASK_QUEUE_URL", REDIS_URL)
HUEY = {
    "name": "yizhan",
    "huey_class": "huey.RedisHuey",
    "immediate": env_bool("TASKS_IMMEDIATE", not TASK_QUEUE_URL),
    "results": False,
    "utc": True,
    "connection": {"url": TASK_QUEUE_URL} if TASK_QUEUE_URL else {},
    "consumer": {
        # Threads per worker process (the tasks wait on the database and channels, not the
        # CPU); run several worker processes for more. Periodic jobs come from
        # `manage.py run_scheduler`, not from Huey's own scheduler.
        "workers": env_int("TASK_WORKER_THREADS", 2),
        "worker_type": "thread",
        "periodic": False,
        "check_worker_health": True,
    },
}

# Face blurring of report photos: on the task workers ("queue"), in the request ("inline"), or
# "auto": on the workers when there is a task queue (reports.services.blur_in_background).
REPORT_BLUR = env_str("REPORT_BLUR", "auto")

AUTH_USER_MODEL = "people.User"
# Argon2id first: new passwords and every log-in with an older hash (PBKDF2 …) are stored with
# it; the others stay so those older hashes still verify and get upgraded on log-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTHENTICATION_BACKENDS = ["yizhan.people.auth.PhoneOrUsernameBackend"]
LOGIN_URL = "people:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Original report photos (faces not blurred) live here, outside MEDIA_ROOT, never served by the
# web server; empty: "<MEDIA_ROOT>-private" (reports.storage.private_root).
PRIVATE_MEDIA_ROOT = env_str("PRIVATE_MEDIA_ROOT", "")
# Open311 answers carry media_url (the first photo, faces blurred) only when this is on; off by
# default because number plates are not blurred yet (docs/open311.md).
OPEN311_PUBLISH_PHOTOS = env_bool("OPEN311_PUBLISH_PHOTOS", False)
# Where `manage.py backup` writes its archives (docs/backup.md); never under MEDIA_ROOT.
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(VAR_DIR / "backups")))

# Uploaded files in S3-compatible object storage (AWS S3, MinIO …; yizhan.config.storage):
# off while S3_BUCKET is empty (files on the local disk, the embedded default). On, the public
# files go to the bucket's root and the report originals under S3_PRIVATE_PREFIX (private ACL,
# no URL). Links are presigned unless S3_QUERYSTRING_AUTH is off; S3_CUSTOM_DOMAIN (a CDN or
# public host, optionally with its scheme) replaces the endpoint in links. Static files are
# not affected: STORAGES["staticfiles"] stays whatever is set for it.
S3_BUCKET = env_str("S3_BUCKET", "")
S3_ENDPOINT_URL = env_str("S3_ENDPOINT_URL", "")
S3_REGION = env_str("S3_REGION", "")
S3_ACCESS_KEY_ID = env_str("S3_ACCESS_KEY_ID", "")
S3_SECRET_ACCESS_KEY = env_str("S3_SECRET_ACCESS_KEY", "")
S3_CUSTOM_DOMAIN = env_str("S3_CUSTOM_DOMAIN", "")
S3_QUERYSTRING_AUTH = env_bool("S3_QUERYSTRING_AUTH", True)
S3_PRIVATE_PREFIX = env_str("S3_PRIVATE_PREFIX", "private")
# The canned ACL the originals are uploaded with; empty sends none (a bucket with ACLs
# disabled refuses any but bucket-owner-full-control: its policy alone keeps them private).
S3_PRIVATE_ACL = env_str("S3_PRIVATE_ACL", "private")
# Profiles change entries of it (production.py: "staticfiles"), never the whole dict.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if S3_BUCKET:
    from yizhan.config.storage import s3_storages

    STORAGES.update(
        s3_storages(
            bucket=S3_BUCKET,
            endpoint_url=S3_ENDPOINT_URL,
            region=S3_REGION,
            access_key=S3_ACCESS_KEY_ID,
            secret_key=S3_SECRET_ACCESS_KEY,
            custom_domain=S3_CUSTOM_DOMAIN,
            querystring_auth=S3_QUERYSTRING_AUTH,
            private_prefix=S3_PRIVATE_PREFIX,
            private_acl=S3_PRIVATE_ACL,
        )
    )

# Cookies and headers (docs/security.md). production.py adds Secure cookies, HSTS and HTTPS.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)
# No script reads the CSRF cookie: pages send the token from the form field or, for htmx, from
# the hx-headers attribute of <body>.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Riders use the location (reports, nearby) and the camera (report photos) of this site only.
PERMISSIONS_POLICY = (
    "geolocation=(self), camera=(self), microphone=(), payment=(), usb=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), display-capture=()"
)
# Content-Security-Policy (core.middleware.SecurityHeadersMiddleware). img-src also gets the
# host of MAP_TILE_URL; CSP_EXTRA_IMG_SRC adds more (e.g. a second tile server).
CSP_ENABLED = env_bool("CSP_ENABLED", True)
CSP_REPORT_ONLY = env_bool("CSP_REPORT_ONLY", False)
CSP_EXTRA_IMG_SRC = env_list("CSP_EXTRA_IMG_SRC", [])
CSP_REPORT_URI = env_str("CSP_REPORT_URI", "")

# Log-in throttling and lockout (people.security): after LOGIN_FAILURE_LIMIT failed log-ins for
# one account (or one typed name) within LOGIN_FAILURE_WINDOW seconds it is locked for
# LOGIN_LOCKOUT_SECONDS; one client address gets LOGIN_IP_FAILURE_LIMIT failures per window.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 15 * 60)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 50)
# Proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR only).
YIZHAN_TRUSTED_PROXY_HOPS = env_int("YIZHAN_TRUSTED_PROXY_HOPS", 0)

# Rate limits (core.ratelimit): "<count>/<period>" (30s, 15m, 1h, 1d); "0" turns one off.
RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
RATE_LIMITS = {
    # per client address: a station's Wi-Fi may register a whole team at once
    "register": env_str("RATE_LIMIT_REGISTER", "30/1h"),
    # per account
    "report_submit": env_str("RATE_LIMIT_REPORT_SUBMIT", "20/1h"),
    "check_in": env_str("RATE_LIMIT_CHECK_IN", "30/1h"),
    "redemption": env_str("RATE_LIMIT_REDEMPTION", "10/1h"),
    # per account: two-factor codes tried (on top of the lockout of passwords)
    "two_factor": env_str("RATE_LIMIT_TWO_FACTOR", "10/15m"),
    # per account: downloads of "all my data" (each builds a whole export)
    "privacy_export": env_str("RATE_LIMIT_PRIVACY_EXPORT", "10/1h"),
    # per staff account: full phone numbers shown (each one logged with its reason)
    "unmask": env_str("RATE_LIMIT_UNMASK", "30/1h"),
}

# Retention (privacy.retention, docs/privacy.md): days after which the periodic jobs remove
# what is no longer needed; 0 turns one job off. Rejected registrations are anonymised, the
# original report photos removed once a face-blurred copy exists (counted from the close).
YIZHAN_RETENTION_REJECTED_DAYS = env_int("YIZHAN_RETENTION_REJECTED_DAYS", 180)
YIZHAN_RETENTION_PHOTO_DAYS = env_int("YIZHAN_RETENTION_PHOTO_DAYS", 90)
YIZHAN_RETENTION_IDEMPOTENCY_DAYS = env_int("YIZHAN_RETENTION_IDEMPOTENCY_DAYS", 30)
YIZHAN_RETENTION_NOTIFICATION_DAYS = env_int("YIZHAN_RETENTION_NOTIFICATION_DAYS", 365)
YIZHAN_RETENTION_TOKEN_DAYS = env_int("YIZHAN_RETENTION_TOKEN_DAYS", 90)
YIZHAN_RETENTION_BATCH = env_int("YIZHAN_RETENTION_BATCH", 500)

# Two-factor log-in (TOTP, people.security): the roles that must use it ("superuser" stands
# for the platform operator). Empty here; production.py requires it of admins.
YIZHAN_REQUIRE_2FA_ROLES = env_list("YIZHAN_REQUIRE_2FA_ROLES", [])
TWO_FACTOR_ISSUER = env_str("TWO_FACTOR_ISSUER", "Yizhan 驿站")

# Map tiles: OpenStreetMap in development; 天地图 (with a key) or Amap in a public deployment.
# An empty MAP_TILE_URL means no tile layer: maps still draw boundaries and markers.
MAP_TILE_URL = env_str("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "© OpenStreetMap contributors")
MAP_TILE_SUBDOMAINS = env_str("MAP_TILE_SUBDOMAINS", "")
# The coordinate system the tiles are drawn in: wgs84 (OSM, 天地图) or gcj02 (Amap, Tencent).
MAP_TILE_CRS = env_str("MAP_TILE_CRS", "wgs84")

API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 30)
# The longest life a client may ask for its token (days).
API_TOKEN_MAX_TTL_DAYS = env_int("API_TOKEN_MAX_TTL_DAYS", 365)

# Photos: the largest upload accepted, and the most pixels decoded (a decompression-bomb guard).
IMAGE_MAX_BYTES = env_int("IMAGE_MAX_BYTES", 20 * 1024 * 1024)
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 60_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Stations: a rider's check-in counts once per station per this many hours (24: once a day,
# in local time); the nearby search's largest radius.
STATION_VISIT_PERIOD_HOURS = env_int("STATION_VISIT_PERIOD_HOURS", 24)
# A check-in scanned offline and sent later still counts, for the period it was scanned in,
# when it arrives within this many hours of the scan (the phone's outbox).
STATION_OFFLINE_CHECK_IN_HOURS = env_int("STATION_OFFLINE_CHECK_IN_HOURS", 24)
# A report kept offline keeps the time the phone made it when that is at most this old.
REPORT_CAPTURED_MAX_AGE_HOURS = env_int("REPORT_CAPTURED_MAX_AGE_HOURS", 7 * 24)
NEARBY_MAX_RADIUS_M = env_int("NEARBY_MAX_RADIUS_M", 20_000)

# The working calendar for deadlines (core.workcalendar): the working periods of a working day.
WORKDAY_PERIODS = env_str("WORKDAY_PERIODS", "09:00-12:00,13:30-17:30")

# Periodic jobs (core.jobs) in a thread of the web server process: the embedded default
# (make demo sets it); production runs `manage.py run_jobs --loop` or a scheduler instead.
JOBS_INPROCESS = env_bool("YIZHAN_JOBS_INPROCESS", False)

# Events: how long one rotating check-in QR code is valid (the previous one is still accepted).
EVENT_QR_SECONDS = env_int("EVENT_QR_SECONDS", 180)

# Micro-wishes: days a rider has to confirm a fulfilment before it goes to staff; how many
# open wishes a rider may have at once.
WISH_CONFIRM_DAYS = env_int("WISH_CONFIRM_DAYS", 7)
WISH_MAX_OPEN = env_int("WISH_MAX_OPEN", 3)

# Dashboards: the street codes whose public page (/dashboard/<code>/: headline numbers and the
# honour roll, no personal data) is switched on; off for every street by default.
DASHBOARD_PUBLIC_STREETS = env_list("DASHBOARD_PUBLIC_STREETS", [])

# Where notifications go besides the inbox (notifications.channels); the console channel logs.
NOTIFICATION_CHANNELS = env_list(
    "NOTIFICATION_CHANNELS", ["yizhan.notifications.channels.ConsoleChannel"]
)
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

# /metrics (core/ops.py): with a token, scrapes must send it as a bearer token; without one,
# only the loopback may read it.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Log lines as text (development) or one JSON object per line (LOG_FORMAT=json; production's
# default), each with the request's id.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "yizhan.core.ops.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "yizhan.core.ops.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Huey's worker adds a handler of its own to a logger that has none: this one has ours.
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Error reporting to Sentry or a Sentry-compatible service (GlitchTip, …): off unless a DSN is
# given. No personal data is sent: no cookies, headers, user or request bodies (core/sentry.py).
SENTRY_DSN = env_str("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "production")
SENTRY_TRACES_SAMPLE_RATE = float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0") or 0)
if SENTRY_DSN:
    from yizhan.core.sentry import init_sentry

    init_sentry(SENTRY_DSN, SENTRY_ENVIRONMENT, SENTRY_TRACES_SAMPLE_RATE)
