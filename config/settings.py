"""Atelier settings: read from the environment, with defaults that run with nothing set.

Every variable read here is listed, with its default, in README.md ("Settings").
"""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ATELIER_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

ATELIER_ENV = env_str("ATELIER_ENV", "development")
if ATELIER_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(f"ATELIER_ENV must be development, production or test, got {ATELIER_ENV!r}")
PRODUCTION = ATELIER_ENV == "production"

DEBUG = env_bool("ATELIER_DEBUG", False)

_DEV_SECRET_KEY = "django-insecure-atelier-development-key-never-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET_KEY)
# Fernet keys for secrets at rest (core/crypto.py), comma-separated, newest first; production must set them.
FIELD_ENCRYPTION_KEYS = [key.strip() for key in env_str("FIELD_ENCRYPTION_KEYS", "").split(",") if key.strip()]
FIELD_ENCRYPTION_KEYS_DERIVED = not FIELD_ENCRYPTION_KEYS
if FIELD_ENCRYPTION_KEYS_DERIVED and SECRET_KEY:  # the same derivation as core.crypto.derived_key
    FIELD_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(
        hashlib.sha256(b"atelier-field-encryption:" + SECRET_KEY.encode()).digest()).decode()]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("ATELIER_DEBUG must be off when ATELIER_ENV=production.")
    if not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "ATELIER_ENV=production needs a real SECRET_KEY (at least 50 random characters)."
        )
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
DATABASE_URL = env_str("DATABASE_URL", "") or f"sqlite:///{SQLITE_PATH}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))}
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
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "atelier"}}

# --- auth -----------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Every password check (admin form, sessions) goes through the API login's lockout (marketplace/accounts/lockout.py).
AUTHENTICATION_BACKENDS = ["marketplace.accounts.backends.LockoutModelBackend"]
# Staff sign in to the admin with a TOTP code as well as the password (django-otp; `manage.py staff_totp`).
ADMIN_REQUIRE_OTP = env_bool("ADMIN_REQUIRE_OTP", PRODUCTION)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Atelier")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)  # per (email, client address)
LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 100)  # per email, from anywhere
LOGIN_LOCKOUT = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AUTH_TOKEN_TTL = timedelta(days=env_int("AUTH_TOKEN_TTL_DAYS", 30))
# Pages sign in with a session (and CSRF); the API keeps bearer tokens and API keys.
LOGIN_URL = "storefront:login"
LOGIN_REDIRECT_URL = "storefront:home"
LOGOUT_REDIRECT_URL = "storefront:home"
CSRF_FAILURE_VIEW = "marketplace.storefront.errors.csrf_failure"
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", 3 * 24 * 3600)

# --- email ----------------------------------------------------------------------------------------------
# EMAIL_BACKEND: "console" (default outside production: printed by the web process), "file" (one file per message under
# EMAIL_FILE_PATH), "smtp" (EMAIL_HOST…, the default in production), or a dotted backend path. Django 6.1's MAILERS.
_EMAIL_BACKENDS = {"console": "django.core.mail.backends.console.EmailBackend",
                   "file": "django.core.mail.backends.filebased.EmailBackend",
                   "smtp": "django.core.mail.backends.smtp.EmailBackend"}
_email_backend = env_str("EMAIL_BACKEND", "smtp" if PRODUCTION else "console")
_email_options: dict = {}
if _email_backend == "file":
    _email_options = {"file_path": env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))}
elif _email_backend == "smtp":
    _email_options = {"host": env_str("EMAIL_HOST", "localhost"), "port": env_int("EMAIL_PORT", 587),
                      "username": env_str("EMAIL_HOST_USER", ""), "password": env_str("EMAIL_HOST_PASSWORD", ""),
                      "use_tls": env_bool("EMAIL_USE_TLS", True), "timeout": env_int("EMAIL_TIMEOUT_SECONDS", 10)}
MAILERS = {"default": {"BACKEND": _EMAIL_BACKENDS.get(_email_backend, _email_backend), "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Atelier <no-reply@atelier.localhost>")

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
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Media: the local filesystem (MEDIA_ROOT) by default; an S3-compatible bucket when STORAGE_BACKEND=s3. Workers
# then fetch what they read into MEDIA_CACHE_DIR (content-hash keyed, verified, LRU-evicted past
# MEDIA_CACHE_MAX_BYTES) and write results back (core/media.py).
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "filesystem")
if STORAGE_BACKEND not in {"filesystem", "s3"}:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be filesystem or s3, got {STORAGE_BACKEND!r}")
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "")
if STORAGE_BACKEND == "s3" and not AWS_STORAGE_BUCKET_NAME:
    raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME.")
_S3_OPTIONS = {
    "bucket_name": AWS_STORAGE_BUCKET_NAME,
    "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,  # None: AWS itself
    "access_key": env_str("AWS_ACCESS_KEY_ID", "") or None,  # None: boto3's own chain (instance role, ...)
    "secret_key": env_str("AWS_SECRET_ACCESS_KEY", "") or None,
    "region_name": env_str("AWS_S3_REGION_NAME", "us-east-1"),
    "addressing_style": env_str("AWS_S3_ADDRESSING_STYLE", "") or None,
    "signature_version": "s3v4",
    "default_acl": None,  # objects stay private: originals leave only through presigned URLs
    "querystring_auth": True,
    "file_overwrite": False,  # as FileSystemStorage: a taken name gets a suffix
}
MEDIA_CACHE_DIR = Path(env_str("MEDIA_CACHE_DIR", str(VAR_DIR / "cache" / "media")))
MEDIA_CACHE_MAX_BYTES = env_int("MEDIA_CACHE_MAX_BYTES", 2 * 1024**3)
# A presigned URL lives at most this long, and never longer than the download link it was made for.
STORAGE_PRESIGNED_TTL_SECONDS = env_int("STORAGE_PRESIGNED_TTL_SECONDS", 60)
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
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 500
# Body caps per route, checked from Content-Length before the body is read (core/body_limits.py): uploads get
# their app's own cap plus multipart overhead, every other route REQUEST_BODY_MAX_BYTES.
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", 1024 * 1024)
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
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
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
        "anon": env_str("THROTTLE_ANON", "120/min"),
        "user": env_str("THROTTLE_USER", "1200/min"),
        "login": env_str("THROTTLE_LOGIN", "20/min"),
        "register": env_str("THROTTLE_REGISTER", "20/hour"),
        "verify": env_str("THROTTLE_VERIFY", "60/min"),
        "webhook_send": env_str("THROTTLE_WEBHOOK_SEND", "10/min"),  # test and redeliver, per user
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
    "ENUM_NAME_OVERRIDES": {"JobStateEnum": "core.jobs.JobState",
                            "CurationVerdictEnum": "generation.services.curation.VERDICT_CHOICES",
                            "ProvenanceRecordKindEnum": "provenance.lineage.RECORD_KIND_CHOICES"},
}

IDEMPOTENCY_KEY_TTL = timedelta(hours=env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24))

# --- jobs -----------------------------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "core.task_backend.DatabaseBackend",  # django-tasks-db's, carrying request ids into tasks
        # Pools: `training` (long, GPU), `generation` (short, GPU or CPU), and the rest (`default`, `chain`); each
        # pool is its own worker processes, so a generation job never waits behind a training run.
        "QUEUES": ["default", "training", "generation", "chain"],
    }
}
JOB_STALE_AFTER = timedelta(seconds=env_int("JOB_STALE_AFTER_SECONDS", 120))
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3)
# A job's queue priority: paid plans first (the hook), +1 for every interval it has waited (no starvation).
JOB_PRIORITY_HOOK = env_str("JOB_PRIORITY_HOOK", "marketplace.subscriptions.priorities.job_priority")
JOB_PRIORITY_AGING = timedelta(seconds=env_int("JOB_PRIORITY_AGING_SECONDS", 60))
# Worker processes `make run` starts per pool (training, generation, default+chain).
WORKER_POOL_SIZES = {"training": env_int("WORKERS_TRAINING", 1), "generation": env_int("WORKERS_GENERATION", 1),
                     "default": env_int("WORKERS_DEFAULT", 1)}
JOB_BACKOFF_BASE = timedelta(seconds=env_int("JOB_BACKOFF_BASE_SECONDS", 10))
WORKER_HEARTBEAT_INTERVAL = env_float("WORKER_HEARTBEAT_INTERVAL_SECONDS", 5.0)
WORKER_HEALTHY_WITHIN = timedelta(seconds=env_int("WORKER_HEALTHY_WITHIN_SECONDS", 60))

# --- chain ----------------------------------------------------------------------------------------------
CHAIN_RPC_URL = env_str("CHAIN_RPC_URL", "http://127.0.0.1:8545")
CHAIN_ID = env_int("CHAIN_ID", 31337)
CHAIN_PRIVATE_KEY = env_str("CHAIN_PRIVATE_KEY", "")
CHAIN_CONFIRMATIONS = env_int("CHAIN_CONFIRMATIONS", 2)
CHAIN_HEALTH_TIMEOUT = env_float("CHAIN_HEALTH_TIMEOUT_SECONDS", 2.0)
CHAIN_HEALTH_CACHE_SECONDS = env_float("CHAIN_HEALTH_CACHE_SECONDS", 5.0)
CHAIN_MAX_FEE_PER_GAS_WEI = env_int("CHAIN_MAX_FEE_PER_GAS_WEI", 500 * 10**9)  # ceiling for fee bumps
CHAIN_RECEIPT_TIMEOUT_SECONDS = env_float("CHAIN_RECEIPT_TIMEOUT_SECONDS", 60.0)
# What the signer may spend per UTC day (gas limit x max fee of what it signs); over it the sender stops (0: no cap)
CHAIN_DAILY_GAS_BUDGET_WEI = env_int("CHAIN_DAILY_GAS_BUDGET_WEI", 10**17)

# --- provenance -----------------------------------------------------------------------------------------
PROVENANCE_BATCH_INTERVAL_SECONDS = env_int("PROVENANCE_BATCH_INTERVAL_SECONDS", 10)
PROVENANCE_BATCH_MAX = env_int("PROVENANCE_BATCH_MAX", 256)
# ownership transfers signed together in one record_transfers call (1: one record_transfer call each)
PROVENANCE_TRANSFER_BATCH_MAX = env_int("PROVENANCE_TRANSFER_BATCH_MAX", 32)
PROVENANCE_SEND_INTERVAL_SECONDS = env_int("PROVENANCE_SEND_INTERVAL_SECONDS", 5)
PROVENANCE_CONFIRM_INTERVAL_SECONDS = env_int("PROVENANCE_CONFIRM_INTERVAL_SECONDS", 5)
PROVENANCE_RECONCILE_INTERVAL_SECONDS = env_int("PROVENANCE_RECONCILE_INTERVAL_SECONDS", 60)
PROVENANCE_REPLACE_AFTER_SECONDS = env_int("PROVENANCE_REPLACE_AFTER_SECONDS", 120)
PROVENANCE_REBROADCAST_GRACE_SECONDS = env_int("PROVENANCE_REBROADCAST_GRACE_SECONDS", 30)
PROVENANCE_VERIFY_MAX_BYTES = env_int("PROVENANCE_VERIFY_MAX_BYTES", 25 * 1024 * 1024)
PROVENANCE_PDQ_MIN_QUALITY = env_int("PROVENANCE_PDQ_MIN_QUALITY", 50)
# Content Credentials (C2PA) on previews and delivered originals (provenance/credentials). Chain and key are PEM
# file paths (chain: signing certificate first, then its CA); unset outside production, a development CA and
# signer are made once under var/c2pa. Trust anchors (PEM): verify calls a manifest "trusted" only when its signer
# chains to one of them; unset: the root at the end of the configured chain (or the development root).
PROVENANCE_C2PA_SIGNING = env_bool("PROVENANCE_C2PA_SIGNING", True)
PROVENANCE_C2PA_CERT_CHAIN = env_str("PROVENANCE_C2PA_CERT_CHAIN", "")
PROVENANCE_C2PA_PRIVATE_KEY = env_str("PROVENANCE_C2PA_PRIVATE_KEY", "")
PROVENANCE_C2PA_TRUST_ANCHORS = env_str("PROVENANCE_C2PA_TRUST_ANCHORS", "")
PROVENANCE_C2PA_DEV_DIR = str(VAR_DIR / "c2pa")
# Where the public pages live, for the absolute artist URL in manifests (unset: the path alone, /artists/<id>)
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "").rstrip("/")

# --- generation -----------------------------------------------------------------------------------------
GENERATION_PROVIDERS = env_list(
    "GENERATION_PROVIDERS", ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
)
GENERATION_REQUIRE_GPU = env_bool("GENERATION_REQUIRE_GPU", False)
GENERATION_INCEPTION_WEIGHTS = env_str("GENERATION_INCEPTION_WEIGHTS", "")
# Who answers "may this user spend N generations / a training run?" (generation/metering.py).
GENERATION_METER = env_str("GENERATION_METER", "marketplace.subscriptions.metering.SubscriptionMeter")
# who records datasets and model versions as provenance (generation/lineage.py); "" = nobody
GENERATION_LINEAGE_RECORDER = env_str("GENERATION_LINEAGE_RECORDER", "provenance.lineage.ProvenanceLineage")

# --- payments and subscriptions --------------------------------------------------------------------------
PAYMENT_PROVIDER = env_str("PAYMENT_PROVIDER", "test")  # "test" (embedded, documented test tokens) or "stripe"
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "")
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env_int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300)
SUBSCRIPTION_RETRY_DELAYS = [timedelta(days=int(d)) for d in env_list("SUBSCRIPTION_RETRY_DAYS", ["1", "3", "5"])]
SUBSCRIPTION_RENEW_EVERY = timedelta(seconds=env_int("SUBSCRIPTION_RENEW_EVERY_SECONDS", 60))
SUBSCRIPTION_PENDING_PAYMENT_TIMEOUT = timedelta(minutes=env_int("SUBSCRIPTION_PENDING_PAYMENT_TIMEOUT_MINUTES", 30))
if PRODUCTION and PAYMENT_PROVIDER == "stripe" and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured("PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.")

# --- per-app tunables -------------------------------------------------------------------------------------
# Their defaults live in each app's conf.py (read at call time); any of these may be set from the environment.
_INT_TUNABLES = [
    "GENERATION_DATASET_MAX_IMAGES", "GENERATION_DATASET_MAX_BYTES", "GENERATION_IMAGE_MAX_BYTES",
    "GENERATION_IMAGE_MAX_PIXELS", "GENERATION_DATASET_MAX_DECODED_PIXELS", "GENERATION_METRICS_MAX_IMAGES",
    "GENERATION_MAX_COUNT", "GENERATION_BATCH_SIZE",
    "GENERATION_MICROBATCH_MAX_IMAGES", "GENERATION_MICROBATCH_MAX_JOBS", "GENERATION_PREVIEW_SIZE",
    "GALLERY_DOWNLOAD_URL_TTL_SECONDS", "GALLERY_MAX_UPLOAD_BYTES", "GALLERY_BROWSE_CACHE_SECONDS",
    "COMMISSION_MAX_REFERENCES", "COMMISSION_MAX_DELIVERY_IMAGES", "COMMISSION_IMAGE_MAX_BYTES",
    "COMMISSION_MAX_DEADLINE_DAYS",
]
_STR_TUNABLES = ["GENERATION_RUNS_ROOT", "GENERATION_TRAINING_DEVICE"]
for _name in _INT_TUNABLES:
    if env_str(_name):
        globals()[_name] = env_int(_name, 0)
for _name in _STR_TUNABLES:
    if env_str(_name):
        globals()[_name] = env_str(_name)
if env_str("GALLERY_PREVIEW_INVISIBLE_WATERMARK"):
    GALLERY_PREVIEW_INVISIBLE_WATERMARK = env_bool("GALLERY_PREVIEW_INVISIBLE_WATERMARK", True)
if env_str("GALLERY_CURRENCIES"):
    GALLERY_CURRENCIES = tuple(code.upper() for code in env_list("GALLERY_CURRENCIES"))

# --- outbound webhooks ---------------------------------------------------------------------------------
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", False)
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 5)
WEBHOOK_BACKOFF_BASE = timedelta(seconds=env_int("WEBHOOK_BACKOFF_BASE_SECONDS", 60))
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 20)
WEBHOOK_DISABLE_FAILING_FOR = timedelta(hours=env_int("WEBHOOK_DISABLE_FAILING_FOR_HOURS", 72))
WEBHOOK_MAX_ENDPOINTS_PER_USER = env_int("WEBHOOK_MAX_ENDPOINTS_PER_USER", 20)
WEBHOOK_CA_FILE = env_str("WEBHOOK_CA_FILE", "")

# --- security -------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SILENCED_SYSTEM_CHECKS = []

LOG_FORMAT = env_str("LOG_FORMAT", "plain")  # "json": one JSON object per line, for a log pipeline
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")
if PRODUCTION:
    from config.production import refuse_unsafe_defaults

    refuse_unsafe_defaults(globals())

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
                   "json": {"()": "core.logging.JsonFormatter"}},
    "filters": {"quiet_periodic": {"()": "core.logging.QuietPeriodicTasks"},
                "request_id": {"()": "core.logging.RequestIdFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "django.tasks": {"filters": ["quiet_periodic"]},
    },
}

# --- metrics (GET /metrics, Prometheus text format) ------------------------------------------------------
METRICS_TOKEN = env_str("METRICS_TOKEN", "")  # a scraper sends "Authorization: Bearer <token>"
# Clients allowed without the token: loopback outside production, nobody in production unless configured.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", [] if PRODUCTION else ["127.0.0.1/32", "::1/128"])
