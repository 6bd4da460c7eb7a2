"""Django settings, read from the environment (see the configuration table in README.md)."""

from __future__ import annotations

from pathlib import Path

from mirrormanager.config import (
    DEV_SECRET_KEY,
    check_production,
    env_bool,
    env_cidrs,
    env_float,
    env_int,
    env_list,
    env_rsync_url,
    env_url,
    environ,
    parse_broker_url,
    parse_database_url,
    parse_email_url,
)

ENV = environ()
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(ENV.get("VAR_DIR", BASE_DIR / "var"))

PRODUCTION = env_bool(ENV, "PRODUCTION", False)
DEBUG = env_bool(ENV, "DEBUG", not PRODUCTION)
# With DEBUG on, show Django's debug 404/500 pages (tracebacks, settings, paths) instead of the site's own.
DEBUG_TECHNICAL_ERRORS = env_bool(ENV, "DEBUG_TECHNICAL_ERRORS", False)
DEFAULT_EXCEPTION_REPORTER = "core.debug.SiteExceptionReporter"
SECRET_KEY = ENV.get("SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list(ENV, "ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
check_production(production=PRODUCTION, secret_key=SECRET_KEY, debug=DEBUG, allowed_hosts=ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = env_list(ENV, "CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "mirrormanager.apps.AdminConfig",  # django.contrib.admin with the project's admin site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "django_countries",
    "auditlog",
    "axes",
    "core.apps.CoreConfig",
    "mirrormanager.apps.ProjectConfig",
    "sync.apps.SyncConfig",
    "metadata.apps.MetadataConfig",
    "mirrors.apps.MirrorsConfig",
]

MIDDLEWARE = [
    "core.middleware.HeadWithoutBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The site's own 404/500 pages with DEBUG on too (Django's debug pages show paths of the machine).
    "core.middleware.SiteErrorPagesMiddleware",
    # Last, as django-axes asks: it turns a lock-out into its answer (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mirrormanager.urls"
WSGI_APPLICATION = "mirrormanager.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "my-sites"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses log-ins from a locked-out user name and address before checking passwords.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGOUT_REDIRECT_URL = "home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": parse_database_url(ENV.get("DATABASE_URL"), default_sqlite_path=VAR_DIR / "db.sqlite3")}
if not ENV.get("DATABASE_URL"):
    # SQLite creates its file but not the folder it lives in.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(ENV.get("STATIC_ROOT", VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# The origin store and the published trees.
MIRROR_ROOT = Path(ENV.get("MIRROR_ROOT", VAR_DIR / "mirror"))
# Serve MIRROR_ROOT/pub from Django (make run, tests); in production nginx serves it.
SERVE_PUBLISHED = env_bool(ENV, "SERVE_PUBLISHED", not PRODUCTION)
PROBE_ALLOW_PRIVATE = env_bool(ENV, "PROBE_ALLOW_PRIVATE", False)
# Probes.
PROBE_INTERVAL = env_int(ENV, "PROBE_INTERVAL", 3600, minimum=60)  # seconds between two probes of one URL
PROBE_CONNECT_TIMEOUT = env_int(ENV, "PROBE_CONNECT_TIMEOUT", 10, minimum=1)
PROBE_READ_TIMEOUT = env_int(ENV, "PROBE_READ_TIMEOUT", 30, minimum=1)
PROBE_MAX_BYTES = env_int(ENV, "PROBE_MAX_BYTES", 1024 * 1024, minimum=1024)  # repomd.json
PROBE_SAMPLE_FILES = env_int(ENV, "PROBE_SAMPLE_FILES", 3, minimum=0)  # files hashed per probe
PROBE_SAMPLE_MAX_BYTES = env_int(ENV, "PROBE_SAMPLE_MAX_BYTES", 64 * 1024 * 1024, minimum=1024)
PROBE_PER_HOST = env_int(ENV, "PROBE_PER_HOST", 2, minimum=1)  # probes of one host at a time
PROBE_WORKERS = env_int(ENV, "PROBE_WORKERS", 128, minimum=1)  # probes at a time in all
PROBE_DISABLE_AFTER = env_int(ENV, "PROBE_DISABLE_AFTER", 3, minimum=1)  # consecutive failures
PROBE_HISTORY_DAYS = env_int(ENV, "PROBE_HISTORY_DAYS", 30, minimum=1)
# A run in which more than this share of probes fail (of at least PROBE_VOID_MIN_URLS) is void.
PROBE_VOID_FRACTION = env_float(ENV, "PROBE_VOID_FRACTION", 0.5, minimum=0.0, maximum=1.0)
PROBE_VOID_MIN_URLS = env_int(ENV, "PROBE_VOID_MIN_URLS", 4, minimum=1)
# /metrics (Prometheus text format): off unless enabled; then only from these networks when any are given.
METRICS_ENABLED = env_bool(ENV, "METRICS_ENABLED", False)
METRICS_ALLOWED_CIDRS = env_list(ENV, "METRICS_ALLOWED_CIDRS", [])
GEOIP_DB = ENV.get("GEOIP_DB") or None
GEOIP_ASN_DB = ENV.get("GEOIP_ASN_DB") or None
# Mirrorlist.
# Networks whose X-Forwarded-For is believed (the right-most address not in them is the client).
TRUSTED_PROXIES = env_cidrs(ENV, "TRUSTED_PROXIES")
# The world tier is added while fewer than this many mirrors are listed.
MIRRORLIST_MIN_MIRRORS = env_int(ENV, "MIRRORLIST_MIN_MIRRORS", 5, minimum=1, maximum=1000)
# An answer lists at most this many mirror hosts (then the origin), best first.
MIRRORLIST_MAX_MIRRORS = env_int(ENV, "MIRRORLIST_MAX_MIRRORS", 10, minimum=1, maximum=1000)
# How often each web process looks for a new table (local file stat in requests, source poll in a thread).
MIRRORLIST_REFRESH_SECONDS = env_float(ENV, "MIRRORLIST_REFRESH_SECONDS", 1.0, minimum=0.05, maximum=60.0)
MIRRORLIST_POLL = env_bool(ENV, "MIRRORLIST_POLL", True)
# The origin's public base URL (the origin entry is <base>pub/<collection>/); unset: from each request.
ORIGIN_BASE_URL = env_url(ENV, "ORIGIN_BASE_URL")
# The rsync module mirrors copy from (docs/publishing.md), shown on each collection's page with the copy
# commands; unset: rsync://<the host the page was asked from>/pub/.
ORIGIN_RSYNC_BASE = env_rsync_url(ENV, "ORIGIN_RSYNC_BASE")
# Snapshots travel through Redis too when set (default: Q_BROKER_URL when it is Redis); the database always.
MIRRORLIST_REDIS_URL = ENV.get("MIRRORLIST_REDIS_URL") or None
# max-age of public answers (they depend on the client address: private caches only).
MIRRORLIST_CACHE_SECONDS = env_int(ENV, "MIRRORLIST_CACHE_SECONDS", 60, minimum=0)
# Anonymous JSON answers from the compiled lookup when `make setup` built it (the same tiers and draws);
# off: the Python lookup answers everything.
MIRRORLIST_COMPILED = env_bool(ENV, "MIRRORLIST_COMPILED", True)

# Sync tuning (defaults measured on a 2-core machine; see bench/RESULTS.md).
SYNC_DOWNLOAD_WORKERS = env_int(ENV, "SYNC_DOWNLOAD_WORKERS", 16, minimum=1)
SYNC_INDEX_WORKERS = env_int(ENV, "SYNC_INDEX_WORKERS", 16, minimum=1)
SYNC_CONNECT_TIMEOUT = env_int(ENV, "SYNC_CONNECT_TIMEOUT", 10, minimum=1)
SYNC_READ_TIMEOUT = env_int(ENV, "SYNC_READ_TIMEOUT", 60, minimum=1)
SYNC_RETRIES = env_int(ENV, "SYNC_RETRIES", 3, minimum=0)
SYNC_MAX_INDEX_BYTES = env_int(ENV, "SYNC_MAX_INDEX_BYTES", 64 * 1024 * 1024, minimum=1024)
SYNC_MAX_FILE_BYTES = env_int(ENV, "SYNC_MAX_FILE_BYTES", 8 * 1024**3, minimum=1024)
SYNC_RETRY_BACKOFF = env_int(ENV, "SYNC_RETRY_BACKOFF_MS", 500, minimum=0) / 1000
# Size unsized files with parallel HEAD requests so the biggest downloads start first.
SYNC_PROBE_SIZES = env_bool(ENV, "SYNC_PROBE_SIZES", True)
# A blob no catalogue row and no published tree references is collected only when older than this.
SYNC_COLLECT_MIN_AGE = env_int(ENV, "SYNC_COLLECT_MIN_AGE", 3600, minimum=0)
SYNC_COLLECT_LOCK_WAIT = env_int(ENV, "SYNC_COLLECT_LOCK_WAIT", 60, minimum=0)
# A download must average this many bytes/s after SYNC_READ_TIMEOUT seconds (0 = no minimum).
SYNC_MIN_RATE_BYTES = env_int(ENV, "SYNC_MIN_RATE_BYTES", 10 * 1024, minimum=0)
# A sync removes at most this fraction of an upstream's projects (from 20 on) unless --allow-mass-removal.
SYNC_MAX_REMOVE_FRACTION = env_float(ENV, "SYNC_MAX_REMOVE_FRACTION", 0.5, minimum=0.0, maximum=1.0)
# fsync each blob and its directory before it counts as stored.
SYNC_FSYNC = env_bool(ENV, "SYNC_FSYNC", True)
# Bounds on what an upstream controls (docs/admins.md, "A hostile upstream"). 0 = no run deadline.
SYNC_RUN_DEADLINE = env_int(ENV, "SYNC_RUN_DEADLINE", 24 * 3600, minimum=0)
SYNC_REQUEST_DEADLINE = env_int(ENV, "SYNC_REQUEST_DEADLINE", 900, minimum=1)
SYNC_MAX_LINKS_PER_PAGE = env_int(ENV, "SYNC_MAX_LINKS_PER_PAGE", 50_000, minimum=1)
SYNC_MAX_ARCHIVE_MEMBERS = env_int(ENV, "SYNC_MAX_ARCHIVE_MEMBERS", 100_000, minimum=1)
SYNC_MIN_FREE_BYTES = env_int(ENV, "SYNC_MIN_FREE_BYTES", 1024**3, minimum=0)
# Let the sync reach private/loopback/link-local addresses other than its upstream's own host:port.
SYNC_ALLOW_PRIVATE = env_bool(ENV, "SYNC_ALLOW_PRIVATE", False)
PUBLISH_GRACE_SECONDS = env_int(ENV, "PUBLISH_GRACE_SECONDS", 6 * 3600, minimum=0)

# A queue heartbeat older than this makes /healthz fail.
QUEUE_HEARTBEAT_MAX_AGE = env_int(ENV, "QUEUE_HEARTBEAT_MAX_AGE", 180, minimum=60)

Q_BROKER_URL = parse_broker_url(ENV.get("Q_BROKER_URL"))
if MIRRORLIST_REDIS_URL is None and Q_BROKER_URL and Q_BROKER_URL.startswith(("redis://", "rediss://")):
    MIRRORLIST_REDIS_URL = Q_BROKER_URL
Q_TIMEOUT = env_int(ENV, "Q_TIMEOUT", 6 * 3600, minimum=60)
Q_CLUSTER = {
    "name": ENV.get("Q_CLUSTER_NAME", "mirrormanager"),
    "workers": env_int(ENV, "Q_WORKERS", 2, minimum=1),
    # A full sync of a large upstream runs for a long time: never kill it as stuck.
    "timeout": Q_TIMEOUT,
    "retry": Q_TIMEOUT + 600,
    "max_attempts": 1,
    "save_limit": 500,
    "queue_limit": 50,
    "catch_up": False,
    "label": "Queue",
    "poll": 1,
}
if Q_BROKER_URL:
    Q_CLUSTER["redis"] = Q_BROKER_URL
else:
    Q_CLUSTER["orm"] = "default"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    # Every error is JSON with a "detail" message (and the field errors beside it).
    "EXCEPTION_HANDLER": "mirrors.registry.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "mirrormanager API",
    "DESCRIPTION": "Collections, mirrors, the mirrorlist and the operator API of a Python package mirror network.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failures for one user name from one address,
# that pair is locked out for LOGIN_COOLOFF_MINUTES, on the web log-in and on POST /api/v1/auth/token/.
AXES_FAILURE_LIMIT = env_int(ENV, "LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int(ENV, "LOGIN_COOLOFF_MINUTES", 30, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "mirrors.registry.throttling.lockout_response"
AXES_VERBOSE = False

# The audit trail (django-auditlog) of the registry; tokens are masked in it.
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {"model": "mirrors.site", "m2m_fields": ["admins"]},
    {"model": "mirrors.siteinvitation", "mask_fields": ["token"]},
    {"model": "mirrors.host", "mask_fields": ["verification_token"], "exclude_fields": ["updated_at"]},
    # The probes' own bookkeeping is history (ProbeResult), not an audited change.
    {
        "model": "mirrors.hosturl",
        "exclude_fields": [
            "updated_at",
            "probe_state",
            "probe_reason",
            "probe_revision",
            "probe_revisions_behind",
            "probe_lag_seconds",
            "probed_at",
            "next_probe_at",
            "consecutive_failures",
            "reachable_ipv4",
            "reachable_ipv6",
        ],
    },
    "mirrors.netblock",
    "mirrors.hostcountry",
    "mirrors.hostpeerasn",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        # manage.py sets CONSOLE_LOG_LEVEL=WARNING for one-off commands (their summaries are on stdout).
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "level": ENV.get("CONSOLE_LOG_LEVEL", "NOTSET"),
        },
        **(
            {"file": {"class": "logging.FileHandler", "formatter": "plain", "filename": ENV["LOG_FILE"]}}
            if ENV.get("LOG_FILE")
            else {}
        ),
    },
    "root": {
        "handlers": ["console", *(["file"] if ENV.get("LOG_FILE") else [])],
        "level": ENV.get("LOG_LEVEL", "INFO"),
    },
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own console handler would print each of its records a second time beside the root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # A 4xx is in the web server's access log already (gunicorn, nginx): log each once, errors here.
        "django.request": {"level": "ERROR"},
        # The queue's own lines (cluster start, each task); the devserver lowers them to WARNING.
        "django-q": {"level": ENV.get("Q_LOG_LEVEL", "INFO")},
    },
}

# EMAIL_URL (smtp://, smtp+tls://, smtp+ssl://, console://, locmem://, file:///…); EMAIL_BACKEND still overrides.
globals().update(parse_email_url(ENV.get("EMAIL_URL")))
EMAIL_BACKEND = ENV.get("EMAIL_BACKEND", EMAIL_BACKEND)  # noqa: F821 -- set by the line above
DEFAULT_FROM_EMAIL = ENV.get("DEFAULT_FROM_EMAIL", "mirrormanager@localhost")

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool(ENV, "SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int(ENV, "SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REFERRER_POLICY = "same-origin"
    # /healthz is probed over plain HTTP by load balancers.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SPECTACULAR_SETTINGS.update(
    {"SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR"}
)
