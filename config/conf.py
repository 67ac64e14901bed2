"""The project's own settings, declared once (core/conf.py), and the list of every app's declarations.

config/settings.py reads these from the environment once; the README's settings table is printed from
`ALL_SETTINGS` (`python -m config.settings_table`). The apps' own settings live in their `conf.py`.
"""

from datetime import timedelta

from core.conf import (
    DAYS,
    FLAG,
    HOURS,
    INTEGER,
    LIST,
    MINUTES,
    NUMBER,
    SECONDS,
    TEXT,
    Setting,
    Settings,
)
from generation import conf as generation_conf
from marketplace.commissions import conf as commissions_conf
from marketplace.demo import conf as demo_conf
from marketplace.gallery import conf as gallery_conf
from marketplace.subscriptions import conf as subscriptions_conf
from marketplace.webhooks import conf as webhooks_conf
from provenance import conf as provenance_conf

DEV_SECRET_KEY = "django-insecure-atelier-development-key-never-use-in-production"
_LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "testserver"]

PROJECT = Settings(
    Setting(
        "ATELIER_ENV",
        TEXT,
        "development",
        "`production` refuses to start without a real `SECRET_KEY` and `ALLOWED_HOSTS`, turns on HTTPS-only "
        "cookies, HSTS, SSL redirect, manifest static files",
    ),
    Setting("DEBUG", FLAG, False, "Django `DEBUG` (never in production)", env="ATELIER_DEBUG"),
    Setting(
        "SECRET_KEY",
        TEXT,
        DEV_SECRET_KEY,
        "required (≥ 50 random characters) in production",
        production_default="",
        shown="a development key",
    ),
    Setting(
        "FIELD_ENCRYPTION_KEYS",
        LIST,
        [],
        "comma-separated Fernet keys, newest first, for secrets at rest (webhook signing secrets); required in "
        "production. To rotate: put a new key first, run `manage.py rotate_field_keys`, then drop the old one",
        shown="a key derived from `SECRET_KEY`",
    ),
    Setting(
        "ALLOWED_HOSTS",
        LIST,
        _LOOPBACK_HOSTS,
        "comma-separated; required in production",
        production_default=[],
        shown="`127.0.0.1,localhost,testserver` (none in production)",
    ),
    Setting("CSRF_TRUSTED_ORIGINS", LIST, [], "comma-separated origins (for the admin behind a proxy)", shown="empty"),
    Setting("ATELIER_VAR_DIR", TEXT, None, "SQLite database, media, checkpoints, chain state, logs", shown="`./var`"),
    Setting(
        "MEDIA_ROOT",
        TEXT,
        None,
        "uploaded and generated files (with `STORAGE_BACKEND=filesystem`)",
        shown="`$ATELIER_VAR_DIR/media`",
    ),
    Setting(
        "STORAGE_BACKEND",
        TEXT,
        "filesystem",
        "`s3`: media (uploads, datasets, previews, originals, checkpoints, sample grids, ONNX models) in an "
        'S3-compatible bucket through django-storages; see "Running at scale"',
    ),
    Setting(
        "AWS_STORAGE_BUCKET_NAME",
        TEXT,
        "",
        "the bucket (required with `s3`); keep it private: originals leave only through presigned URLs",
    ),
    Setting(
        "AWS_S3_ENDPOINT_URL",
        TEXT,
        "",
        "another S3-compatible server, e.g. `http://127.0.0.1:9000`",
        shown="empty (AWS)",
    ),
    Setting(
        "AWS_ACCESS_KEY_ID",
        TEXT,
        "",
        "the bucket's access key",
        shown="empty (boto3's own chain: instance role, `~/.aws`)",
    ),
    Setting(
        "AWS_SECRET_ACCESS_KEY",
        TEXT,
        "",
        "the bucket's secret key",
        shown="empty (boto3's own chain: instance role, `~/.aws`)",
    ),
    Setting("AWS_S3_REGION_NAME", TEXT, "us-east-1", "the bucket's region"),
    Setting("AWS_S3_ADDRESSING_STYLE", TEXT, "", "`path` or `virtual`", shown="empty (boto3 decides)"),
    Setting(
        "MEDIA_CACHE_DIR",
        TEXT,
        None,
        "with `s3`: local copies of what workers read (models, dataset images, checkpoints), keyed by sha256 "
        "and checked on every read",
        shown="`$ATELIER_VAR_DIR/cache/media`",
    ),
    Setting(
        "MEDIA_CACHE_MAX_BYTES", INTEGER, 2 * 1024**3, "the cache's size bound; least recently used files go first"
    ),
    Setting(
        "STORAGE_PRESIGNED_TTL_SECONDS",
        INTEGER,
        60,
        "with `s3`: the longest a presigned download URL lives (never past the download link's own expiry)",
    ),
    Setting(
        "DATABASE_URL",
        TEXT,
        "",
        "e.g. `postgres://user:pass@host:5432/atelier`",
        shown="SQLite at `$ATELIER_VAR_DIR/db.sqlite3`",
    ),
    Setting("DATABASE_CONN_MAX_AGE", INTEGER, 60, "persistent connection lifetime, in seconds (PostgreSQL)"),
    Setting(
        "REDIS_URL",
        TEXT,
        "",
        "e.g. `redis://127.0.0.1:6379/0`: cache and throttles",
        shown="empty (local-memory cache)",
    ),
    Setting("THROTTLE_ANON", TEXT, "120/min", "API rate limit of anonymous clients"),
    Setting("THROTTLE_USER", TEXT, "1200/min", "API rate limit of signed-in users"),
    Setting("THROTTLE_LOGIN", TEXT, "20/min", "scoped rate limit: logins"),
    Setting("THROTTLE_REGISTER", TEXT, "20/hour", "scoped rate limit: registrations"),
    Setting("THROTTLE_VERIFY", TEXT, "60/min", "scoped rate limit: verification"),
    Setting(
        "THROTTLE_WEBHOOK_SEND",
        TEXT,
        "10/min",
        "webhook `…/test` and `…/redeliver` per user (each makes the server call a URL the caller chose)",
    ),
    Setting(
        "DATA_UPLOAD_MAX_MEMORY_SIZE",
        INTEGER,
        5 * 1024 * 1024,
        "Django's cap on a request body read into memory (not counting file uploads)",
        shown="5 MiB",
    ),
    Setting(
        "REQUEST_BODY_MAX_BYTES",
        INTEGER,
        1024 * 1024,
        "body cap of every non-upload route, checked from `Content-Length` before the body is read (413)",
    ),
    Setting(
        "TRUSTED_PROXY_COUNT",
        INTEGER,
        0,
        "reverse proxies in front of gunicorn; throttles and lockouts key on the address the outermost one saw "
        "(0: `REMOTE_ADDR`, `X-Forwarded-For` ignored)",
    ),
    Setting(
        "ADMIN_REQUIRE_OTP",
        FLAG,
        False,
        "staff sign in to the admin with a TOTP code as well as the password (`manage.py staff_totp`)",
        production_default=True,
        shown="off (on in production)",
    ),
    Setting("OTP_TOTP_ISSUER", TEXT, "Atelier", "the issuer name authenticator apps show for the TOTP device"),
    Setting(
        "LOGIN_MAX_FAILURES",
        INTEGER,
        5,
        "failed logins per (email, client address) before that pair is locked for `LOGIN_LOCKOUT_MINUTES` "
        "(the owner elsewhere is not)",
    ),
    Setting(
        "LOGIN_MAX_FAILURES_PER_ACCOUNT",
        INTEGER,
        100,
        "failed logins per email from all addresses within the window before the email is locked (unknown "
        "emails alike: a 429 reveals nothing)",
    ),
    Setting("LOGIN_LOCKOUT", MINUTES, timedelta(minutes=15), "how long the lock lasts", env="LOGIN_LOCKOUT_MINUTES"),
    Setting("AUTH_TOKEN_TTL", DAYS, timedelta(days=30), "login token lifetime", env="AUTH_TOKEN_TTL_DAYS"),
    Setting(
        "PASSWORD_RESET_TIMEOUT",
        INTEGER,
        3 * 24 * 3600,
        "how long a password-reset link works",
        env="PASSWORD_RESET_TIMEOUT_SECONDS",
        shown="`259200` (3 days)",
    ),
    Setting(
        "EMAIL_BACKEND",
        TEXT,
        "console",
        "`console`, `file` (under `EMAIL_FILE_PATH`), `smtp`, or a backend path: password-reset mail",
        production_default="smtp",
        shown="`console` (`smtp` in production)",
    ),
    Setting(
        "EMAIL_FILE_PATH",
        TEXT,
        None,
        "where `EMAIL_BACKEND=file` writes one file per message",
        shown="`$ATELIER_VAR_DIR/mail`",
    ),
    Setting("EMAIL_HOST", TEXT, "localhost", "SMTP server, when `EMAIL_BACKEND=smtp`"),
    Setting("EMAIL_PORT", INTEGER, 587, "SMTP port"),
    Setting("EMAIL_HOST_USER", TEXT, "", "SMTP user"),
    Setting("EMAIL_HOST_PASSWORD", TEXT, "", "SMTP password"),
    Setting("EMAIL_USE_TLS", FLAG, True, "SMTP with STARTTLS"),
    Setting("EMAIL_TIMEOUT_SECONDS", INTEGER, 10, "SMTP connection timeout"),
    Setting("DEFAULT_FROM_EMAIL", TEXT, "Atelier <no-reply@atelier.localhost>", "sender of site mail"),
    Setting(
        "IDEMPOTENCY_KEY_TTL",
        HOURS,
        timedelta(hours=24),
        "how long an `Idempotency-Key` is remembered",
        env="IDEMPOTENCY_KEY_TTL_HOURS",
    ),
    Setting(
        "JOB_STALE_AFTER",
        SECONDS,
        timedelta(seconds=120),
        "a running job without a heartbeat for this long is requeued by the sweeper",
        env="JOB_STALE_AFTER_SECONDS",
    ),
    Setting("JOB_MAX_ATTEMPTS", INTEGER, 3, "attempts before a job fails for good"),
    Setting(
        "JOB_PRIORITY_HOOK",
        TEXT,
        "marketplace.subscriptions.priorities.job_priority",
        "dotted path of `f(job) -> int`, a job's starting priority (paid plans first)",
    ),
    Setting(
        "JOB_PRIORITY_AGING",
        SECONDS,
        timedelta(seconds=60),
        "every waiting task gains 1 priority per interval (paid plans start 10 ahead)",
        env="JOB_PRIORITY_AGING_SECONDS",
    ),
    Setting("WORKERS_TRAINING", INTEGER, 1, "`training` worker processes `make run` starts"),
    Setting("WORKERS_GENERATION", INTEGER, 1, "`generation` worker processes `make run` starts"),
    Setting("WORKERS_DEFAULT", INTEGER, 1, "`default` and `chain` worker processes `make run` starts"),
    Setting(
        "JOB_BACKOFF_BASE",
        SECONDS,
        timedelta(seconds=10),
        "retry backoff: base × 2^(attempt−1), capped at 1 h",
        env="JOB_BACKOFF_BASE_SECONDS",
    ),
    Setting(
        "WORKER_HEARTBEAT_INTERVAL",
        NUMBER,
        5.0,
        "how often a worker reports it is alive, in seconds",
        env="WORKER_HEARTBEAT_INTERVAL_SECONDS",
    ),
    Setting(
        "WORKER_HEALTHY_WITHIN",
        SECONDS,
        timedelta(seconds=60),
        "`/healthz` wants a worker heartbeat this recent",
        env="WORKER_HEALTHY_WITHIN_SECONDS",
    ),
    Setting("CHAIN_RPC_URL", TEXT, "http://127.0.0.1:8545", "the Ethereum JSON-RPC endpoint"),
    Setting("CHAIN_ID", INTEGER, 31337, "the chain id the node must report (anvil's)"),
    Setting(
        "CHAIN_PRIVATE_KEY",
        TEXT,
        "",
        "the signer; the public anvil development key is used only when `CHAIN_ID` is 31337",
    ),
    Setting("CHAIN_CONFIRMATIONS", INTEGER, 2, "blocks before an anchor counts as confirmed"),
    Setting(
        "CHAIN_HEALTH_TIMEOUT",
        NUMBER,
        2.0,
        "`/healthz` chain probe timeout, in seconds",
        env="CHAIN_HEALTH_TIMEOUT_SECONDS",
    ),
    Setting(
        "CHAIN_HEALTH_CACHE_SECONDS",
        NUMBER,
        5.0,
        "how long `/healthz` reuses a chain probe (it is public; the RPC URL is never shown)",
    ),
    Setting("SECURE_SSL_REDIRECT", FLAG, True, "in production: redirect plain HTTP to HTTPS"),
    Setting("SECURE_HSTS_SECONDS", INTEGER, 31536000, "in production: the HSTS max-age", shown="`31536000` (a year)"),
    Setting("LOG_LEVEL", TEXT, "INFO", "root log level"),
    Setting("LOG_FORMAT", TEXT, "plain", "`json`: one JSON object per line (time, level, logger, message, request_id)"),
    Setting("METRICS_TOKEN", TEXT, "", "`GET /metrics` answers a scraper sending `Authorization: Bearer <token>`"),
    Setting(
        "METRICS_ALLOWED_IPS",
        LIST,
        ["127.0.0.1/32", "::1/128"],
        "addresses/networks that may scrape `/metrics` without the token",
        production_default=[],
        shown="loopback (none in production)",
    ),
    # Read by `make run` (core's runstack and the demo's bootstrap), not by Django settings.
    Setting("ATELIER_DEMO_CONTENT", TEXT, "1", "`0`: `make run` creates only the staff user, no demo content"),
    Setting("ATELIER_PORT", INTEGER, 8000, "`make run`'s web port"),
    Setting("WEB_CONCURRENCY", INTEGER, 2, "`make run`'s gunicorn workers"),
)

APPS = [
    generation_conf.SETTINGS,
    provenance_conf.SETTINGS,
    subscriptions_conf.SETTINGS,
    gallery_conf.SETTINGS,
    commissions_conf.SETTINGS,
    webhooks_conf.SETTINGS,
    demo_conf.SETTINGS,
]
ALL_SETTINGS = [PROJECT, *APPS]
