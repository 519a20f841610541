"""One settings module, driven by environment variables.

Every value has a default that makes `make run` and `make test` work with an empty environment:
SQLite in the data folder, the in-memory channel layer, a filesystem Celery broker and the bundled
Xingchen simulator. Production sets DATABASE_URL, REDIS_URL, XINGCHEN_API_KEY and the secrets.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = env_str("SECRET_KEY") or "dev-only-insecure-key-change-me"
if not DEBUG and SECRET_KEY.startswith("dev-only"):
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

PORT = env_int("PORT", 8000)
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", f"http://localhost:{PORT}").rstrip("/")
# Pages that may open the chat socket, compared by scheme, host and port: the public address,
# the trusted CSRF origins and, in development, this server's own loopback addresses.
WEBSOCKET_ALLOWED_ORIGINS = [PUBLIC_BASE_URL, *CSRF_TRUSTED_ORIGINS]
if DEBUG:
    WEBSOCKET_ALLOWED_ORIGINS += [
        f"http://{host}:{PORT}" for host in ("localhost", "127.0.0.1", "[::1]")
    ]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "django_htmx",
    "template_partials",
    "axes",
    "accounts",
    "characters",
    "conversations",
    "jobs",
    "ratings",
    "memories",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # The product's 404 page in development too; above CommonMiddleware's slash redirects.
    "project.errors.FriendlyNotFoundMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: turns a refused sign-in into the lockout page.
    "accounts.middleware.LockoutMiddleware",
]

ROOT_URLCONF = "project.urls"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "project.context_processors.upstream",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let daphne, the Celery worker and beat share one SQLite file. The
    # test database is a file too, so browser tests can reach it from a daphne process; one per
    # test run, so two runs (or a test run beside `make run`) never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-db-{os.getpid()}.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL"):
    # A psycopg pool for the server process (project/asgi.py turns it on): its sockets and
    # replies make many short ORM calls from worker threads, each of which would otherwise open
    # a new connection. Not for Celery's forked workers, which must not inherit a pool.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": env_int("DATABASE_POOL_MAX_SIZE", 30),
        "timeout": 20,
    }
# Threads for the ORM calls of sockets and replies (project/asyncdb.py); each holds a database
# connection only while a call runs.
ORM_THREADS = env_int("ORM_THREADS", 16)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Sign-in throttling (django-axes) and password reset by email ---
# The throttle backend refuses any sign-in, the right password included, while the account or
# the client address has too many recent failures; the site's and the admin's login alike.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
# Two separate counters: one per username (from any address), one per address (any username).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_ip"
AXES_DISABLE_ACCESS_LOG = True  # lockouts are kept, not a trail of every successful sign-in
# The client address is REMOTE_ADDR unless a reverse proxy that overwrites this header (e.g.
# X-Forwarded-For or X-Real-IP) stands in front: its right-most address is then taken. Never set
# it without such a proxy, or clients choose their own address.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER")
# Password reset requests per client address and per email address (django-ratelimit windows).
PASSWORD_RESET_IP_RATE = env_str("PASSWORD_RESET_IP_RATE", "10/h")
PASSWORD_RESET_EMAIL_RATE = env_str("PASSWORD_RESET_EMAIL_RATE", "3/h")

# Password reset is offered only when mail can be sent: EMAIL_HOST (SMTP) or EMAIL_BACKEND set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)  # implicit TLS, usually port 465
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=not EMAIL_USE_SSL)  # STARTTLS, usually 587
EMAIL_PORT = env_int("EMAIL_PORT", 465 if EMAIL_USE_SSL else 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_ENABLED = bool(EMAIL_HOST or env_str("EMAIL_BACKEND"))
# Without a configured server, stray mail goes to the log instead of failing on localhost:25.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Persona Studio <noreply@localhost>")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing root
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
# Files browsers ask for at the site's root (favicon.ico, which every page and the admin fetch).
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
# Job results (pictures in chats, converted documents): served only through an owner check.
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(DATA_DIR / "private")))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a reverse proxy that terminates TLS and sets X-Forwarded-Proto (deploy/nginx.conf):
# requests it marks https are secure. Only set this when the proxy overwrites that header.
if env_bool("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers and probes ask each server process directly over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
# Preloading is a commitment only the owner of the whole domain can make, so it stays opt-in and
# `check --deploy` does not nag about it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# axes.W002 looks for AxesMiddleware by name; accounts.middleware.LockoutMiddleware extends it.
SILENCED_SYSTEM_CHECKS += ["axes.W002"]

# --- Content-Security-Policy (django-csp) and Permissions-Policy, in development too, so a
# violation shows in the browser console while developing ---
# Browsers that predate CSP 3 do not let 'self' cover ws:/wss:, so the socket's origins are named
# (but for IPv6 literals, which a CSP source cannot express).
_SOCKET_ORIGINS = [
    origin.replace("http", "ws", 1) for origin in WEBSOCKET_ALLOWED_ORIGINS if "[" not in origin
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF, *dict.fromkeys(_SOCKET_ORIGINS)],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# The chat uses none of these; nothing embedded in a page may either.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# --- Channels and Celery: Redis when REDIS_URL is set, embedded otherwise ---
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # Pub/sub: a group message is one PUBLISH to the processes listening, with no per-process
    # list whose capacity silently drops frames (channels_redis.core) and no blocking read
    # racing redis-py's socket timeout. Sockets of the writing process never go through it
    # (conversations.relay); the generous timeout only bounds a dead connection.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "socket_keepalive": True}],
                "prefix": env_str("CHANNELS_PREFIX", "asgi"),
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # Shared by every process, so rate limits and lockout counters hold across several servers.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CHANNELS_PREFIX", "asgi"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # One server process in the embedded setup; the worker does not need what is cached here.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Processes with separate data folders (a test run and its worker) can share one broker.
    BROKER_DIR = Path(env_str("CELERY_BROKER_DIR", str(DATA_DIR / "broker")))
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "project.broker:Transport"  # messages appear whole
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a worker restarted mid-job leaves the job queued, not lost
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 180)
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "studio")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
# Characters: changes made on Xingchen come back every 10 minutes; overdue outbox pushes (a lost
# task, a worker restart) are re-queued every minute.
CELERY_BEAT_SCHEDULE["characters-pull"] = {
    "task": "characters.tasks.character_pull_all",
    "schedule": float(env_int("CHARACTERS_PULL_INTERVAL", 600)),
    "kwargs": {"scopes": env_list("CHARACTERS_PULL_SCOPES", "my")},
}
CELERY_BEAT_SCHEDULE["characters-push-sweep"] = {
    "task": "characters.tasks.character_push_sweep",
    "schedule": 60.0,
}
# Replies whose server process died are ended once their lease runs out.
CELERY_BEAT_SCHEDULE["conversations-reply-sweep"] = {
    "task": "conversations.tasks.reply_sweep",
    "schedule": 15.0,
}
# Jobs: queued steps lost with a worker are found again, overdue jobs end as failed.
CELERY_BEAT_SCHEDULE["jobs-sweep"] = {"task": "jobs.tasks.job_sweep", "schedule": 15.0}
# Ratings: overdue pushes of the staff consensus to Xingchen are re-queued every minute.
CELERY_BEAT_SCHEDULE["ratings-push-sweep"] = {
    "task": "ratings.tasks.rating_push_sweep",
    "schedule": 60.0,
}
CELERY_TIMEZONE = TIME_ZONE

# --- Xingchen: the real API when a key is set, the bundled simulator otherwise ---
XINGCHEN_SIMULATOR_PORT = env_int("XINGCHEN_SIMULATOR_PORT", 8765)
_real_key = env_str("XINGCHEN_API_KEY")
XINGCHEN_USES_SIMULATOR = not _real_key
XINGCHEN_API_KEY = _real_key or env_str("XINGCHEN_SIM_API_KEY", "local-simulator-key")
XINGCHEN_BASE_URL = env_str(
    "XINGCHEN_BASE_URL",
    f"http://127.0.0.1:{XINGCHEN_SIMULATOR_PORT}"
    if XINGCHEN_USES_SIMULATOR
    else "https://nlp.aliyuncs.com",
).rstrip("/")
# Users are known to Xingchen as <prefix><user pk>: give each install sharing a key its own.
XINGCHEN_USER_ID_PREFIX = env_str("XINGCHEN_USER_ID_PREFIX", "user-")
XINGCHEN_CONNECT_TIMEOUT = float(env_str("XINGCHEN_CONNECT_TIMEOUT", "5"))
XINGCHEN_READ_TIMEOUT = float(env_str("XINGCHEN_READ_TIMEOUT", "60"))
XINGCHEN_STREAM_IDLE_TIMEOUT = float(env_str("XINGCHEN_STREAM_IDLE_TIMEOUT", "30"))
# Connections to Xingchen per server process: each reply being streamed holds one; a request
# finding none free waits up to the pool timeout.
XINGCHEN_MAX_CONNECTIONS = env_int("XINGCHEN_MAX_CONNECTIONS", 500)
XINGCHEN_POOL_TIMEOUT = float(env_str("XINGCHEN_POOL_TIMEOUT", "30"))

# --- DMS ChatWithDesensitizeSSE: the real service when an access key is set, else a simulator ---
DMS_SIMULATOR_PORT = env_int("DMS_SIMULATOR_PORT", 8766)
_dms_key_id = env_str("DMS_ACCESS_KEY_ID")
DMS_USES_SIMULATOR = not _dms_key_id
DMS_ACCESS_KEY_ID = _dms_key_id or "local-simulator-id"
DMS_ACCESS_KEY_SECRET = env_str("DMS_ACCESS_KEY_SECRET") or (
    "local-simulator-secret" if DMS_USES_SIMULATOR else ""
)
DMS_REGION = env_str("DMS_REGION", "cn-hangzhou")
DMS_ENDPOINT = env_str(
    "DMS_ENDPOINT",
    f"http://127.0.0.1:{DMS_SIMULATOR_PORT}"
    if DMS_USES_SIMULATOR
    else f"https://dms-enterprise.{DMS_REGION}.aliyuncs.com",
).rstrip("/")
# The DMS instance whose masking rules apply to the chats (ListInstances shows its id).
DMS_INSTANCE_ID = env_int("DMS_INSTANCE_ID", 1001 if DMS_USES_SIMULATOR else 0)
DMS_DEFAULT_MODEL = env_str("DMS_DEFAULT_MODEL", "qwen-plus")
# Without credentials the simulator stands in only in development: a production server without
# them offers no DMS characters rather than pointing at a simulator nobody runs.
DMS_ENABLED = env_bool("DMS_ENABLED", bool(_dms_key_id) or DEBUG)

# --- Yunxiao Lingma ExecuteChat: the real service when a token is set, else a simulator ---
LINGMA_SIMULATOR_PORT = env_int("LINGMA_SIMULATOR_PORT", 8767)
_lingma_token = env_str("LINGMA_TOKEN")
LINGMA_USES_SIMULATOR = not _lingma_token
LINGMA_TOKEN = _lingma_token or "local-simulator-token"
LINGMA_ORGANIZATION_ID = env_str(
    "LINGMA_ORGANIZATION_ID", "local-org" if LINGMA_USES_SIMULATOR else ""
)
LINGMA_BASE_URL = env_str(
    "LINGMA_BASE_URL",
    f"http://127.0.0.1:{LINGMA_SIMULATOR_PORT}"
    if LINGMA_USES_SIMULATOR
    else "https://openapi-rdc.aliyuncs.com",
).rstrip("/")
LINGMA_ENABLED = env_bool("LINGMA_ENABLED", bool(_lingma_token) or DEBUG)

# DMS and Lingma keep no conversation: each request carries the persona and the latest turns
# that fit this many tokens (estimated; a CJK character counts as one, other text 4 chars).
CHAT_TRANSCRIPT_TOKEN_BUDGET = env_int("CHAT_TRANSCRIPT_TOKEN_BUDGET", 3000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # axes logs every sign-in at INFO; lockouts (WARNING) are what an operator needs to see.
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- Chat ---
CHAT_MAX_MESSAGE_CHARS = env_int("CHAT_MAX_MESSAGE_CHARS", 4000)
CHAT_HISTORY_PAGE_SIZE = env_int("CHAT_HISTORY_PAGE_SIZE", 30)
# Streamed text reaches the sockets as soon as it arrives, then what arrives within the flush
# interval of a frame is coalesced into the next one (a 30 tokens/s model gets one frame per
# token, a fast one about 40 frames a second). The database gets the text once per write
# interval (and at the end): never once per token.
CHAT_STREAM_FLUSH_INTERVAL = float(env_str("CHAT_STREAM_FLUSH_INTERVAL", "0.025"))
CHAT_DB_WRITE_INTERVAL = float(env_str("CHAT_DB_WRITE_INTERVAL", "1.0"))
# A reply being written renews its lease every quarter of this; one older is abandoned.
CHAT_REPLY_LEASE = float(env_str("CHAT_REPLY_LEASE", "20"))
# Upstream history is imported when a socket opens, at most this often per session and process.
CHAT_HISTORY_IMPORT_INTERVAL = float(env_str("CHAT_HISTORY_IMPORT_INTERVAL", "60"))
# Per-user limits (django-ratelimit fixed windows, e.g. "20/m"; empty turns one off): chat page
# loads, and sends plus regenerations over the socket, each of which costs an upstream call.
CHAT_PAGE_RATE = env_str("CHAT_PAGE_RATE", "60/m")
CHAT_SEND_RATE = env_str("CHAT_SEND_RATE", "20/m")
# Who sees each reply's token counts under it: "staff" (default), "everyone" or "nobody".
CHAT_TOKEN_COUNTS = env_str("CHAT_TOKEN_COUNTS", "staff")
if CHAT_TOKEN_COUNTS not in {"staff", "everyone", "nobody"}:
    raise RuntimeError('CHAT_TOKEN_COUNTS must be "staff", "everyone" or "nobody".')

# --- Memory (memories/) ---
# A memory job reads the latest turns after every this many user messages with a character
# (0 turns memory off).
MEMORY_EVERY_TURNS = env_int("MEMORY_EVERY_TURNS", 5)

# --- Jobs (jobs/) ---
# How long each kind of job may take in all (seconds) before it ends as failed.
JOB_DEADLINES = {
    "picture": env_int("JOB_PICTURE_DEADLINE", 300),
    "convert": env_int("JOB_CONVERT_DEADLINE", 600),
    "describe": env_int("JOB_DESCRIBE_DEADLINE", 180),
    "memory": env_int("JOB_MEMORY_DEADLINE", 180),
}
JOB_DEFAULT_DEADLINE = 300
JOB_MAX_PICTURE_BYTES = env_int("JOB_MAX_PICTURE_BYTES", 20 * 1024 * 1024)
# A step longer than this is presumed dead and may be run again by another worker.
JOB_STEP_LEASE = env_int("JOB_STEP_LEASE", 120)
# Excel to Word: the workbooks accepted (bytes, sheets, rows per sheet), the largest document
# taken back from Xingchen, and uploads per user (django-ratelimit rate; empty turns it off).
JOB_CONVERT_MAX_BYTES = env_int("JOB_CONVERT_MAX_BYTES", 5 * 1024 * 1024)
JOB_CONVERT_MAX_SHEETS = env_int("JOB_CONVERT_MAX_SHEETS", 20)
JOB_CONVERT_MAX_ROWS = env_int("JOB_CONVERT_MAX_ROWS", 2000)
JOB_CONVERT_MAX_DOCUMENT_BYTES = env_int("JOB_CONVERT_MAX_DOCUMENT_BYTES", 50 * 1024 * 1024)
JOB_CONVERT_RATE = env_str("JOB_CONVERT_RATE", "30/h")

# --- Health check and upstream robustness (project/health.py, characters/services.py) ---
# /healthz probes the broker and Xingchen at most once per interval (seconds) per process and
# serves the cached answer in between, so anonymous polling cannot spend the API key's quota.
HEALTHZ_UPSTREAM_INTERVAL = float(env_str("HEALTHZ_UPSTREAM_INTERVAL", "30"))
HEALTHZ_BROKER_INTERVAL = float(env_str("HEALTHZ_BROKER_INTERVAL", "30"))
# How far Xingchen's clock may lag ours (seconds) when a retried create looks for the character
# an earlier, unanswered create may have made.
XINGCHEN_CLOCK_SKEW = float(env_str("XINGCHEN_CLOCK_SKEW", "5"))
