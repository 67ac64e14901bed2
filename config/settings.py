"""Atelier settings: read from the environment, with defaults that run with nothing set.

Every variable is declared once, with its default and meaning: the project's in config/conf.py, each app's in its
own `conf.py` (core/conf.py says how). README.md's "Settings" table is printed from those declarations.
"""

import base64
import hashlib
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.conf import APPS, DEV_SECRET_KEY, PROJECT
from core.conf import environment_values

BASE_DIR = Path(__file__).resolve().parent.parent


def _path_or(name: str, default: Path) -> Path:
    """A path setting: its variable's value (even empty) when set, else the default under var/."""
    value = PROJECT.read(name)
    return default if value is None else Path(value)


VAR_DIR = _path_or("ATELIER_VAR_DIR", BASE_DIR / "var").resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

ATELIER_ENV = PROJECT.read("ATELIER_ENV")
if ATELIER_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(f"ATELIER_ENV must be development, production or test, got {ATELIER_ENV!r}")
PRODUCTION = ATELIER_ENV == "production"


def _read(name: str):
    return PROJECT.read(name, production=PRODUCTION)


DEBUG = _read("DEBUG")

SECRET_KEY = _read("SECRET_KEY")
# Fernet keys for secrets at rest (core/crypto.py), comma-separated, newest first; production must set them.
FIELD_ENCRYPTION_KEYS = _read("FIELD_ENCRYPTION_KEYS")
FIELD_ENCRYPTION_KEYS_DERIVED = not FIELD_ENCRYPTION_KEYS
if FIELD_ENCRYPTION_KEYS_DERIVED and SECRET_KEY:  # the same derivation as core.crypto.derived_key
    FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(b"atelier-field-encryption:" + SECRET_KEY.encode()).digest()).decode()
    ]
ALLOWED_HOSTS = _read("ALLOWED_HOSTS")

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("ATELIER_DEBUG must be off when ATELIER_ENV=production.")
    if not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("ATELIER_ENV=production needs a real SECRET_KEY (at least 50 random characters).")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ATELIER_ENV=production needs ALLOWED_HOSTS (comma-separated host names).")

INSTALLED_APPS = [
    "marketplace.accounts.admin_apps.AtelierAdminConfig",  # django.contrib.admin with lockout, throttle, TOTP
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # core comes before django_tasks_db so that its db_worker (with a liveness heartbeat) wins.
    "core",
    "django_tasks_db",
    "marketplace.accounts",
    "generation",
    "provenance",
    "marketplace.subscriptions",
    "marketplace.gallery",
    "marketplace.commissions",
    "marketplace.webhooks",
    "marketplace.dashboard",
    "marketplace.demo",
    "marketplace.storefront",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.body_limits.RequestBodyLimitMiddleware",  # before anything that may read a body (CSRF reads forms)
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.request_body.StrictRequestBodyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]
# Outermost: the request id is in context for everything below, and the metrics time the whole request.
MIDDLEWARE = ["core.request_id.RequestIdMiddleware", "core.metrics.RequestMetricsMiddleware", *MIDDLEWARE]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

# --- database -------------------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "db.sqlite3"
DATABASE_URL = _read("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=_read("DATABASE_CONN_MAX_AGE"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server, the worker and the scheduler read while one of them writes;
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead of failing.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ----------------------------------------------------------------------------------------------
REDIS_URL = _read("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "atelier"}}

# --- auth -----------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Every password check (admin form, sessions) goes through the API login's lockout (marketplace/accounts/lockout.py).
AUTHENTICATION_BACKENDS = ["marketplace.accounts.backends.LockoutModelBackend"]
# Staff sign in to the admin with a TOTP code as well as the password (django-otp; `manage.py staff_totp`).
ADMIN_REQUIRE_OTP = _read("ADMIN_REQUIRE_OTP")
OTP_TOTP_ISSUER = _read("OTP_TOTP_ISSUER")
# the admin never shows a device's shared secret or its QR code once the device exists: a staff member who can
# open another staff member's device must not be able to copy their second factor
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_MAX_FAILURES = _read("LOGIN_MAX_FAILURES")  # per (email, client address)
LOGIN_MAX_FAILURES_PER_ACCOUNT = _read("LOGIN_MAX_FAILURES_PER_ACCOUNT")  # per email, from anywhere
LOGIN_LOCKOUT = _read("LOGIN_LOCKOUT")
AUTH_TOKEN_TTL = _read("AUTH_TOKEN_TTL")
# Pages sign in with a session (and CSRF); the API keeps bearer tokens and API keys.
LOGIN_URL = "storefront:login"
LOGIN_REDIRECT_URL = "storefront:home"
LOGOUT_REDIRECT_URL = "storefront:home"
CSRF_FAILURE_VIEW = "marketplace.storefront.errors.csrf_failure"
PASSWORD_RESET_TIMEOUT = _read("PASSWORD_RESET_TIMEOUT")

# --- email ----------------------------------------------------------------------------------------------
# EMAIL_BACKEND: "console" (default outside production: printed by the web process), "file" (one file per message under
# EMAIL_FILE_PATH), "smtp" (EMAIL_HOST…, the default in production), or a dotted backend path. Django 6.1's MAILERS.
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}
_email_backend = _read("EMAIL_BACKEND")
_email_options: dict = {}
if _email_backend == "file":
    _email_options = {"file_path": str(_path_or("EMAIL_FILE_PATH", VAR_DIR / "mail"))}
elif _email_backend == "smtp":
    _email_options = {
        "host": _read("EMAIL_HOST"),
        "port": _read("EMAIL_PORT"),
        "username": _read("EMAIL_HOST_USER"),
        "password": _read("EMAIL_HOST_PASSWORD"),
        "use_tls": _read("EMAIL_USE_TLS"),
        "timeout": _read("EMAIL_TIMEOUT_SECONDS"),
    }
MAILERS = {"default": {"BACKEND": _EMAIL_BACKENDS.get(_email_backend, _email_backend), "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = _read("DEFAULT_FROM_EMAIL")

# --- i18n, files ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
MEDIA_URL = "media/"
MEDIA_ROOT = _path_or("MEDIA_ROOT", VAR_DIR / "media")
# Media: the local filesystem (MEDIA_ROOT) by default; an S3-compatible bucket when STORAGE_BACKEND=s3. Workers
# then fetch what they read into MEDIA_CACHE_DIR (content-hash keyed, verified, LRU-evicted past
# MEDIA_CACHE_MAX_BYTES) and write results back (core/media.py).
STORAGE_BACKEND = _read("STORAGE_BACKEND")
if STORAGE_BACKEND not in {"filesystem", "s3"}:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be filesystem or s3, got {STORAGE_BACKEND!r}")
AWS_STORAGE_BUCKET_NAME = _read("AWS_STORAGE_BUCKET_NAME")
if STORAGE_BACKEND == "s3" and not AWS_STORAGE_BUCKET_NAME:
    raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME.")
_S3_OPTIONS = {
    "bucket_name": AWS_STORAGE_BUCKET_NAME,
    "endpoint_url": _read("AWS_S3_ENDPOINT_URL") or None,  # None: AWS itself
    "access_key": _read("AWS_ACCESS_KEY_ID") or None,  # None: boto3's own chain (instance role, ...)
    "secret_key": _read("AWS_SECRET_ACCESS_KEY") or None,
    "region_name": _read("AWS_S3_REGION_NAME"),
    "addressing_style": _read("AWS_S3_ADDRESSING_STYLE") or None,
    "signature_version": "s3v4",
    "default_acl": None,  # objects stay private: originals leave only through presigned URLs
    "querystring_auth": True,
    "file_overwrite": False,  # as FileSystemStorage: a taken name gets a suffix
}
MEDIA_CACHE_DIR = _path_or("MEDIA_CACHE_DIR", VAR_DIR / "cache" / "media")
MEDIA_CACHE_MAX_BYTES = _read("MEDIA_CACHE_MAX_BYTES")
# A presigned URL lives at most this long, and never longer than the download link it was made for.
STORAGE_PRESIGNED_TTL_SECONDS = _read("STORAGE_PRESIGNED_TTL_SECONDS")
STORAGES = {
    "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _S3_OPTIONS}
    if STORAGE_BACKEND == "s3"
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production whitenoise serves straight from the app directories, so no collectstatic is needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
DATA_UPLOAD_MAX_MEMORY_SIZE = _read("DATA_UPLOAD_MAX_MEMORY_SIZE")
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 500
# Body caps per route, checked from Content-Length before the body is read (core/body_limits.py): uploads get
# their app's own cap plus multipart overhead, every other route REQUEST_BODY_MAX_BYTES.
REQUEST_BODY_MAX_BYTES = _read("REQUEST_BODY_MAX_BYTES")
UPLOAD_ROUTE_LIMITS = {
    "me-avatar": "config.upload_limits.avatar",
    "artwork-list": "config.upload_limits.artwork",
    "provenance-verify": "config.upload_limits.verification",
    "dataset-list": "config.upload_limits.dataset",
    "commission-list": "config.upload_limits.commission_brief",
    "commission-delivery-list": "config.upload_limits.commission_delivery",
}

# --- API ------------------------------------------------------------------------------------------------
# How many reverse proxies we run in front of gunicorn; 0 = none, the client is REMOTE_ADDR (core/client_ip.py).
TRUSTED_PROXY_COUNT = _read("TRUSTED_PROXY_COUNT")
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
REST_FRAMEWORK = {
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "marketplace.accounts.authentication.BearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, unless a view takes uploads and says so: form encodings would let `tags=a` stand for a list
    # and a blank field for an absent one, which no client of a JSON API means.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PagePagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "core.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.schema.AtelierAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonRateThrottle",
        "core.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": _read("THROTTLE_ANON"),
        "user": _read("THROTTLE_USER"),
        "login": _read("THROTTLE_LOGIN"),
        "register": _read("THROTTLE_REGISTER"),
        "verify": _read("THROTTLE_VERIFY"),
        "webhook_send": _read("THROTTLE_WEBHOOK_SEND"),  # test and redeliver, per user
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_MAX_PAGE_SIZE = 100

SPECTACULAR_SETTINGS = {
    "TITLE": "Atelier API",
    "DESCRIPTION": "Accounts, subscriptions, gallery, commissions, GAN training and generation, provenance.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.schema.document_problems"],
    "ENUM_NAME_OVERRIDES": {
        "JobStateEnum": "core.jobs.JobState",
        "CurationVerdictEnum": "generation.services.curation.VERDICT_CHOICES",
        "ProvenanceRecordKindEnum": "provenance.lineage.RECORD_KIND_CHOICES",
    },
}

IDEMPOTENCY_KEY_TTL = _read("IDEMPOTENCY_KEY_TTL")

# --- jobs -----------------------------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "core.task_backend.DatabaseBackend",  # django-tasks-db's, carrying request ids into tasks
        # Pools: `training` (long, GPU), `generation` (short, GPU or CPU), and the rest (`default`, `chain`); each
        # pool is its own worker processes, so a generation job never waits behind a training run.
        "QUEUES": ["default", "training", "generation", "chain"],
    }
}
JOB_STALE_AFTER = _read("JOB_STALE_AFTER")
JOB_MAX_ATTEMPTS = _read("JOB_MAX_ATTEMPTS")
# A job's queue priority: paid plans first (the hook), +1 for every interval it has waited (no starvation).
JOB_PRIORITY_HOOK = _read("JOB_PRIORITY_HOOK")
JOB_PRIORITY_AGING = _read("JOB_PRIORITY_AGING")
# Worker processes `make run` starts per pool (training, generation, default+chain).
WORKER_POOL_SIZES = {
    "training": _read("WORKERS_TRAINING"),
    "generation": _read("WORKERS_GENERATION"),
    "default": _read("WORKERS_DEFAULT"),
}
JOB_BACKOFF_BASE = _read("JOB_BACKOFF_BASE")
WORKER_HEARTBEAT_INTERVAL = _read("WORKER_HEARTBEAT_INTERVAL")
WORKER_HEALTHY_WITHIN = _read("WORKER_HEALTHY_WITHIN")

# --- chain ----------------------------------------------------------------------------------------------
CHAIN_RPC_URL = _read("CHAIN_RPC_URL")
CHAIN_ID = _read("CHAIN_ID")
CHAIN_PRIVATE_KEY = _read("CHAIN_PRIVATE_KEY")
CHAIN_CONFIRMATIONS = _read("CHAIN_CONFIRMATIONS")
CHAIN_HEALTH_TIMEOUT = _read("CHAIN_HEALTH_TIMEOUT")
CHAIN_HEALTH_CACHE_SECONDS = _read("CHAIN_HEALTH_CACHE_SECONDS")

# --- the apps' settings -------------------------------------------------------------------------------------
# Declared in each app's conf.py (generation, provenance, subscriptions, gallery, commissions, webhooks), which
# reads them at call time; set here from the environment, or their defaults.
_apps = environment_values(APPS, production=PRODUCTION)
globals().update(_apps)
if (
    PRODUCTION
    and _apps["PAYMENT_PROVIDER"] == "stripe"
    and not (_apps["STRIPE_SECRET_KEY"] and _apps["STRIPE_WEBHOOK_SECRET"])
):
    raise ImproperlyConfigured("PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.")

# --- security -------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = _read("CSRF_TRUSTED_ORIGINS")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _read("SECURE_SSL_REDIRECT")
    SECURE_HSTS_SECONDS = _read("SECURE_HSTS_SECONDS")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SILENCED_SYSTEM_CHECKS = []

LOG_FORMAT = _read("LOG_FORMAT")  # "json": one JSON object per line, for a log pipeline
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")
if PRODUCTION:
    from config.production import refuse_unsafe_defaults

    refuse_unsafe_defaults(globals())

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "filters": {
        "quiet_periodic": {"()": "core.logging.QuietPeriodicTasks"},
        "request_id": {"()": "core.logging.RequestIdFilter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": _read("LOG_LEVEL")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "django.tasks": {"filters": ["quiet_periodic"]},
    },
}

# --- metrics (GET /metrics, Prometheus text format) ------------------------------------------------------
METRICS_TOKEN = _read("METRICS_TOKEN")  # a scraper sends "Authorization: Bearer <token>"
# Clients allowed without the token: loopback outside production, nobody in production unless configured.
METRICS_ALLOWED_IPS = _read("METRICS_ALLOWED_IPS")
