"""Atelier settings: read from the environment, with defaults that run with nothing set.

Every variable read here is listed, with its default, in README.md ("Settings").
"""

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
    "django.contrib.admin",
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
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.request_body.StrictRequestBodyMiddleware",
]

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
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AUTH_TOKEN_TTL = timedelta(days=env_int("AUTH_TOKEN_TTL_DAYS", 30))

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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
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

# --- API ------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "marketplace.accounts.authentication.BearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PagePagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "core.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("THROTTLE_ANON", "120/min"),
        "user": env_str("THROTTLE_USER", "1200/min"),
        "login": env_str("THROTTLE_LOGIN", "20/min"),
        "register": env_str("THROTTLE_REGISTER", "20/hour"),
        "verify": env_str("THROTTLE_VERIFY", "60/min"),
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
    "ENUM_NAME_OVERRIDES": {"JobStateEnum": "core.jobs.JobState",
                            "CurationVerdictEnum": "generation.services.curation.VERDICT_CHOICES"},
}

IDEMPOTENCY_KEY_TTL = timedelta(hours=env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24))

# --- jobs -----------------------------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "gpu", "chain"],
    }
}
JOB_STALE_AFTER = timedelta(seconds=env_int("JOB_STALE_AFTER_SECONDS", 120))
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3)
JOB_BACKOFF_BASE = timedelta(seconds=env_int("JOB_BACKOFF_BASE_SECONDS", 10))
WORKER_HEARTBEAT_INTERVAL = env_float("WORKER_HEARTBEAT_INTERVAL_SECONDS", 5.0)
WORKER_HEALTHY_WITHIN = timedelta(seconds=env_int("WORKER_HEALTHY_WITHIN_SECONDS", 60))

# --- chain ----------------------------------------------------------------------------------------------
CHAIN_RPC_URL = env_str("CHAIN_RPC_URL", "http://127.0.0.1:8545")
CHAIN_ID = env_int("CHAIN_ID", 31337)
CHAIN_PRIVATE_KEY = env_str("CHAIN_PRIVATE_KEY", "")
CHAIN_CONFIRMATIONS = env_int("CHAIN_CONFIRMATIONS", 2)
CHAIN_HEALTH_TIMEOUT = env_float("CHAIN_HEALTH_TIMEOUT_SECONDS", 2.0)
CHAIN_MAX_FEE_PER_GAS_WEI = env_int("CHAIN_MAX_FEE_PER_GAS_WEI", 500 * 10**9)  # ceiling for fee bumps
CHAIN_RECEIPT_TIMEOUT_SECONDS = env_float("CHAIN_RECEIPT_TIMEOUT_SECONDS", 60.0)

# --- provenance -----------------------------------------------------------------------------------------
PROVENANCE_BATCH_INTERVAL_SECONDS = env_int("PROVENANCE_BATCH_INTERVAL_SECONDS", 10)
PROVENANCE_BATCH_MAX = env_int("PROVENANCE_BATCH_MAX", 256)
PROVENANCE_SEND_INTERVAL_SECONDS = env_int("PROVENANCE_SEND_INTERVAL_SECONDS", 5)
PROVENANCE_CONFIRM_INTERVAL_SECONDS = env_int("PROVENANCE_CONFIRM_INTERVAL_SECONDS", 5)
PROVENANCE_RECONCILE_INTERVAL_SECONDS = env_int("PROVENANCE_RECONCILE_INTERVAL_SECONDS", 60)
PROVENANCE_REPLACE_AFTER_SECONDS = env_int("PROVENANCE_REPLACE_AFTER_SECONDS", 120)
PROVENANCE_REBROADCAST_GRACE_SECONDS = env_int("PROVENANCE_REBROADCAST_GRACE_SECONDS", 30)
PROVENANCE_VERIFY_MAX_BYTES = env_int("PROVENANCE_VERIFY_MAX_BYTES", 25 * 1024 * 1024)
PROVENANCE_PDQ_MIN_QUALITY = env_int("PROVENANCE_PDQ_MIN_QUALITY", 50)

# --- generation -----------------------------------------------------------------------------------------
GENERATION_PROVIDERS = env_list(
    "GENERATION_PROVIDERS", ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
)
GENERATION_REQUIRE_GPU = env_bool("GENERATION_REQUIRE_GPU", False)
GENERATION_INCEPTION_WEIGHTS = env_str("GENERATION_INCEPTION_WEIGHTS", "")
# Who answers "may this user spend N generations / a training run?" (generation/metering.py).
GENERATION_METER = env_str("GENERATION_METER", "marketplace.subscriptions.metering.SubscriptionMeter")

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
    "GENERATION_IMAGE_MAX_PIXELS", "GENERATION_METRICS_MAX_IMAGES", "GENERATION_MAX_COUNT", "GENERATION_BATCH_SIZE",
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"quiet_periodic": {"()": "core.logging.QuietPeriodicTasks"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "django.tasks": {"filters": ["quiet_periodic"]},
    },
}
