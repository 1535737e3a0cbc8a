"""Waybill settings, read from the environment through one typed reader.

With nothing set, everything runs on one machine with no servers: SQLite in
WAL mode and a file-system Celery broker, both under ``var/``.
``DATABASE_URL`` and ``CELERY_BROKER_URL`` switch to PostgreSQL and Redis.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

VAR_DIR = Path(env.str("WAYBILL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str(
    "SECRET_KEY", default="waybill-local-only-insecure-key-change-me-in-production-0000"
)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "oauth2_provider",
    "portal",
    "masterdata",
    "orders",
    "shipments",
    "integrations",
    "operations",
    "api",
    "simple_history",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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

# Database: SQLite (WAL) under var/ unless DATABASE_URL names another server.
_SQLITE_URL = f"sqlite:///{VAR_DIR / 'waybill.sqlite3'}"
DATABASES = {"default": env.db_url("DATABASE_URL", default=_SQLITE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent
    # writers wait for each other instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str(
        "TEST_DATABASE_NAME", default="test_waybill"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {
        "NAME": f"{_VALIDATORS}.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)

# Documents live in private storage: never under a URL the web server serves.
# They are read only through the authorised download view.
PRIVATE_STORAGE_ROOT = VAR_DIR / "private"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_STORAGE_ROOT), "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:order_list"
LOGOUT_REDIRECT_URL = "portal:login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 1800
SESSION_SAVE_EVERY_REQUEST = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Celery: the database holds every state and retry time; the broker only wakes
# workers, and beat sweepers re-queue whatever is due (see RELIABILITY notes in
# the README).
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (_BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
        # The file transport polls; a short interval keeps the demo brisk.
        "polling_interval": 0.1,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
# Redis re-delivers an unacknowledged task after the visibility timeout. Celery
# reads it in three places, which must agree, and it must outlast the hard
# time limit or a slow task runs twice (RELIABILITY R15; celery #9339).
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=600)
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = CELERY_VISIBILITY_TIMEOUT
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Expected failures are recorded in the database and retried from there.
CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_MAX_TASKS_PER_CHILD = 1000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Retry a lost broker every second, not on kombu's backoff of up to 30 s.
CELERY_WORKER_CONSUMER = "portal.consumer:PromptReconnectConsumer"
# Keep reconnecting to a lost broker for as long as it takes.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A worker that loses the broker cancels what it runs: those tasks are
# re-delivered anyway, and the database row decides whether work remains.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 30.0
CELERY_WORKER_ENABLE_SOFT_SHUTDOWN_ON_IDLE = True
CELERY_TASK_PUBLISH_RETRY = True
# Bounded: a publish that still fails is left to the database sweepers.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 5,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 3,
}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# A message queued this long ago and still not done is queued again: its task
# was lost with the broker or its worker. Kept above the task time limit so
# a slow but healthy task is rarely duplicated (duplicates are harmless).
WAYBILL_REQUEUE_AFTER_SECONDS = env.float(
    "WAYBILL_REQUEUE_AFTER_SECONDS", default=150.0
)
# How often beat runs the sweepers and the file-drop poller, in seconds.
WAYBILL_SWEEP_SECONDS = env.float("WAYBILL_SWEEP_SECONDS", default=10.0)
WAYBILL_FILE_POLL_SECONDS = env.float("WAYBILL_FILE_POLL_SECONDS", default=5.0)
# A dropped file is taken only once it has not changed for this long.
WAYBILL_FILE_SETTLE_SECONDS = env.float("WAYBILL_FILE_SETTLE_SECONDS", default=2.0)
# Monitors: hours of silence before a case is opened.
WAYBILL_STALE_TRACKING_HOURS = env.float("WAYBILL_STALE_TRACKING_HOURS", default=48.0)
WAYBILL_MISSING_TRACKING_HOURS = env.float(
    "WAYBILL_MISSING_TRACKING_HOURS", default=4.0
)
WAYBILL_MONITOR_SECONDS = env.float("WAYBILL_MONITOR_SECONDS", default=900.0)
# A packed shipment whose planning request the TMS has not taken (breaker
# open, or undelivered this long) ships on its lane's fallback carrier.
WAYBILL_TMS_RATING_TIMEOUT_SECONDS = env.float(
    "WAYBILL_TMS_RATING_TIMEOUT_SECONDS", default=900.0
)
WAYBILL_FALLBACK_SECONDS = env.float("WAYBILL_FALLBACK_SECONDS", default=60.0)
# How far a carrier's freight invoice may differ from the TMS estimate before
# a freight-variance case opens: a share ("2%") or an amount ("5.00").
WAYBILL_FREIGHT_TOLERANCE = env.str("WAYBILL_FREIGHT_TOLERANCE", default="2%")
# An actual milestone dated further ahead than this is refused: carriers
# report what happened, and a far-future scan would pin a shipment delivered.
WAYBILL_MAX_FUTURE_SKEW_HOURS = env.float("WAYBILL_MAX_FUTURE_SKEW_HOURS", default=24.0)
# Root of the per-connection file-drop folders (``<root>/<connection>/``).
WAYBILL_FILE_DROP_ROOT = Path(
    env.str("WAYBILL_FILE_DROP_ROOT", default=str(VAR_DIR / "drop"))
)
# Folder of X12 files the demo drops; empty means the project's own samples.
WAYBILL_DEMO_X12_DIR = env.str("WAYBILL_DEMO_X12_DIR", default="")

# Inbound webhooks: the accepted signature age, and the largest body.
WAYBILL_WEBHOOK_TOLERANCE_SECONDS = 300
WAYBILL_INBOUND_MAX_BYTES = env.int(
    "WAYBILL_INBOUND_MAX_BYTES", default=10 * 1024 * 1024
)
# The most events one bulk inbound request may carry.
WAYBILL_INBOUND_BATCH_MAX_ITEMS = env.int(
    "WAYBILL_INBOUND_BATCH_MAX_ITEMS", default=1000
)
# Inbound messages per worker task when many are queued at once (a bulk
# batch, a sweep); runs of order releases among them apply set-based.
WAYBILL_INBOUND_BATCH_SIZE = env.int("WAYBILL_INBOUND_BATCH_SIZE", default=100)
# Outbox messages per dispatch task when a set-based writer queues many.
WAYBILL_OUTBOX_DISPATCH_BATCH = env.int("WAYBILL_OUTBOX_DISPATCH_BATCH", default=20)
for _name in ("WAYBILL_INBOUND_BATCH_SIZE", "WAYBILL_OUTBOX_DISPATCH_BATCH"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1")
# Above this many unprocessed messages the inbound endpoint answers 429.
WAYBILL_INBOUND_BACKLOG_LIMIT = env.int("WAYBILL_INBOUND_BACKLOG_LIMIT", default=50_000)
# Outbound: attempts before a message is dead, and the backoff base/cap.
WAYBILL_OUTBOX_MAX_ATTEMPTS = env.int("WAYBILL_OUTBOX_MAX_ATTEMPTS", default=8)
WAYBILL_OUTBOX_BACKOFF_BASE = env.float("WAYBILL_OUTBOX_BACKOFF_BASE", default=2.0)
WAYBILL_OUTBOX_BACKOFF_CAP = env.float("WAYBILL_OUTBOX_BACKOFF_CAP", default=300.0)
# Each connection has its own retry policy; setting either variable above
# replaces every connection's, so end-to-end runs retry within seconds.
WAYBILL_OUTBOX_BACKOFF_OVERRIDE = (
    "WAYBILL_OUTBOX_BACKOFF_BASE" in env or "WAYBILL_OUTBOX_BACKOFF_CAP" in env
)
WAYBILL_HTTP_TIMEOUT = env.float("WAYBILL_HTTP_TIMEOUT", default=5.0)
# Bulkheads: every outbound queue gets a Celery worker of its own (carriers'
# queues share one) with this many pool processes, so a slow destination can
# hold only its own worker. WAYBILL_OUTBOUND_GROUPS puts queues on a shared
# worker instead: "name=queue,queue;name=queue" (``manage.py worker_queues
# --layout`` prints the result, one worker a line).
WAYBILL_OUTBOUND_CONCURRENCY = env.int("WAYBILL_OUTBOUND_CONCURRENCY", default=1)
WAYBILL_OUTBOUND_GROUPS = env.str("WAYBILL_OUTBOUND_GROUPS", default="")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
}

OAUTH2_PROVIDER = {
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 900,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "SCOPES": {
        "orders:read": "Read orders",
        "shipments:read": "Read shipments",
        "documents:read": "Read documents",
        "returns:write": "Create return requests",
        "integrations:replay": "Replay hub messages (operators)",
    },
    "DEFAULT_SCOPES": ["orders:read"],
    # Operator scopes (integrations:replay) only for staff-owned applications.
    "SCOPES_BACKEND_CLASS": "api.scopes.ApplicationScopes",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# The demo and tests run the stand-in ERP, WMS and TMS on BASE+1..BASE+3.
WAYBILL_SIM_BASE_PORT = env.int("WAYBILL_SIM_BASE_PORT", default=8100)
