"""Perennial's settings: one flat module, every value from the environment.

Nothing needs configuring to try the app: the defaults give a SQLite file and an
in-process job runner. A deploy sets DATABASE_URL, DRAMATIQ_BROKER_URL, SECRET_KEY,
APP_URL and the SHOPIFY_* values (README, "Environment").
"""

import base64
import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="perennial-insecure-development-key-change-me")

APP_URL = env.str("APP_URL", default="http://127.0.0.1:8000").rstrip("/")
_app_host = urlsplit(APP_URL).hostname or "localhost"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[_app_host])
CSRF_TRUSTED_ORIGINS = [APP_URL]

# Served as plain HTTP behind a TLS-terminating proxy: trust its X-Forwarded-Proto and
# never redirect to https ourselves (the proxy owns that).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = False
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)

# Shopify
SHOPIFY_API_KEY = env.str("SHOPIFY_API_KEY", default="perennial-demo-api-key")
# The demo default is 32+ bytes, as HS256 wants and as Shopify's secrets are.
SHOPIFY_API_SECRET = env.str(
    "SHOPIFY_API_SECRET", default="perennial-demo-api-secret-0123456789abcdef"
)
# During a client-secret rotation Shopify may still sign with the old secret.
SHOPIFY_API_SECRET_PREVIOUS = env.str("SHOPIFY_API_SECRET_PREVIOUS", default="")
SHOPIFY_API_VERSION = env.str("SHOPIFY_API_VERSION", default="2026-10")
SHOPIFY_SCOPES = env.list(
    "SHOPIFY_SCOPES",
    default=[
        "read_orders",
        "read_customers",
        "write_customers",
        "write_discounts",
        "write_app_proxy",
        "write_store_credit_account_transactions",
        # Reads the live theme's settings_data.json: is the widget's app embed on?
        "read_themes",
        # A free_product reward's discount is one unit's price, read when it is redeemed.
        "read_products",
    ],
)
# The origin of every Admin API and OAuth call; {shop} is the myshopify domain. A local
# stand-in answers when this points at it (README, "The Shopify stand-in").
SHOPIFY_ADMIN_ORIGIN = env.str("SHOPIFY_ADMIN_ORIGIN", default="https://{shop}")
SHOPIFY_HTTP_TIMEOUT = env.float("SHOPIFY_HTTP_TIMEOUT", default=10.0)
# A shopper waits this long for their discount code before being told it is on its way
# (202); the background job keeps trying with SHOPIFY_HTTP_TIMEOUT.
REDEMPTION_SHOPIFY_TIMEOUT = env.float("REDEMPTION_SHOPIFY_TIMEOUT", default=3.0)
# Loads the stand-in App Bridge script instead of Shopify's CDN (local demo and tests).
SHOPIFY_APP_BRIDGE_URL = env.str(
    "SHOPIFY_APP_BRIDGE_URL", default="https://cdn.shopify.com/shopifycloud/app-bridge.js"
)
SHOPIFY_POLARIS_URL = env.str(
    "SHOPIFY_POLARIS_URL", default="https://cdn.shopify.com/shopifycloud/polaris-1.js"
)
APP_PROXY_MAX_AGE_SECONDS = env.int("APP_PROXY_MAX_AGE_SECONDS", default=90)


def _derived_fernet_key(secret: str) -> str:
    return base64.urlsafe_b64encode(
        hashlib.sha256(b"perennial-tokens:" + secret.encode()).digest()
    ).decode()


# Access and refresh tokens are encrypted at rest with this Fernet key.
TOKEN_ENCRYPTION_KEY = env.str("TOKEN_ENCRYPTION_KEY", default="") or _derived_fernet_key(
    SECRET_KEY
)

# Jobs: redis://… or amqp://…; empty runs jobs in a thread of the web process.
DRAMATIQ_BROKER_URL = env.str("DRAMATIQ_BROKER_URL", default="")
# How long a stored delivery may sit unprocessed before the sweeper sends it again.
WEBHOOK_SWEEP_AFTER_SECONDS = env.int("WEBHOOK_SWEEP_AFTER_SECONDS", default=60)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=12)
# Worker processes lower their CPU priority by this much (0: not at all), so that on a
# shared machine webhook intake keeps answering fast while a backlog drains.
WORKER_NICE = env.int("WORKER_NICE", default=10)
# Shopper emails (docs/notifications.md): an SMTP server as EMAIL_URL
# (smtp+tls://user:password@host:587), or any backend's dotted path as EMAIL_BACKEND; by
# default they are printed to the console. Tests use Django's in-memory outbox.
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="loyalty@localhost")

DRAMATIQ_CRONTAB = {
    "REDIS_URL": DRAMATIQ_BROKER_URL if DRAMATIQ_BROKER_URL.startswith("redis") else None,
    # A second scheduler (another machine's Procfile) waits for the lock instead of exiting.
    "LOCK_BLOCKING_TIMEOUT": None,
}
# Django's cache holds the rate limits' counters (loyalty/ratelimit.py, docs/abuse.md).
# Redis when the jobs use Redis, so every web process counts together; process memory on
# the embedded default. CACHE_URL picks another (redis://host:6379/4, locmemcache://).
_cache_url = env.str(
    "CACHE_URL",
    default=DRAMATIQ_BROKER_URL
    if DRAMATIQ_BROKER_URL.startswith(("redis://", "rediss://"))
    else "locmemcache://",
)
CACHES = {"default": env.cache_url_config(_cache_url)}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # Django's own client, whichever Redis package django-environ would pick.
    CACHES["default"]["BACKEND"] = "django.core.cache.backends.redis.RedisCache"
    # A Redis that hangs costs a request a quarter of a second, not the worker; the limits
    # then let the request through (fail open).
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}
    )
# Shared with dramatiq's database: every key is perennial:1:…, never dramatiq's.
CACHES["default"]["KEY_PREFIX"] = "perennial"


def _rate(name: str, default: str) -> tuple[int, int]:
    """A limit "<requests>/<seconds>" (0 requests: off); a malformed one stops the start."""
    text = env.str(name, default=default)
    requests, _, seconds = text.partition("/")
    if not (requests.strip().isdigit() and seconds.strip().isdigit() and int(seconds) > 0):
        raise ImproperlyConfigured(f"{name} must be <requests>/<seconds>, like 60/60: {text!r}")
    return int(requests), int(seconds)


# The rate limits (docs/abuse.md explains each default). App proxy, per shop and signed-in
# customer (per address for a guest): the widget makes two or three requests a page.
RATE_LIMIT_PROXY = _rate("RATE_LIMIT_PROXY", "60/60")
# Redeeming and saving a birthday, per shop and customer: a shopper clicks a few times a
# minute, a script hundreds.
RATE_LIMIT_PROXY_WRITES = _rate("RATE_LIMIT_PROXY_WRITES", "10/60")
# Per shopper address over every shop: generous, many shoppers share one (mobile NAT).
RATE_LIMIT_PROXY_IP = _rate("RATE_LIMIT_PROXY_IP", "300/60")
# Review intake: per shop once its signature is checked, and per sending address before.
RATE_LIMIT_REVIEWS = _rate("RATE_LIMIT_REVIEWS", "120/60")
RATE_LIMIT_REVIEWS_IP = _rate("RATE_LIMIT_REVIEWS_IP", "1200/60")
# The admin's JSON API, per shop: its pages make a handful of requests each.
RATE_LIMIT_ADMIN_API = _rate("RATE_LIMIT_ADMIN_API", "600/60")
# OAuth entry points (/auth/install, /auth/callback), per address.
RATE_LIMIT_AUTH = _rate("RATE_LIMIT_AUTH", "30/60")
# How many proxies of ours (README: one TLS terminator) append to X-Forwarded-For: the
# client's address is the one the outermost added; anything before it could be forged.
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=1)

# Shopify's order webhooks can be large (B2B orders with many lines); a signed delivery
# must never be refused for its size before it is stored.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=32 * 1024 * 1024)

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "dramatiq_crontab",
    "loyalty",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'perennial.sqlite3'}")
}
# An optional read replica for the admin's heavy reads (member search, exports, dashboard
# figures, referrals: loyalty/replica.py); README, "Scaling past one machine". Tests read
# the primary through it (a mirror), so the same code runs with or without one.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
for _database in DATABASES.values():
    _database.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    # Off by default: a health check is a query before every request's first one. A
    # connection that broke (a database restart) fails one request, which Shopify retries,
    # and is dropped.
    _database["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
    # Behind PgBouncer in transaction mode a server-side cursor can outlive its server
    # connection; Django then needs them off (it already sends no prepared statements).
    _database["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DISABLE_SERVER_SIDE_CURSORS", default=False
    )
    if _database["ENGINE"] == "django.db.backends.postgresql":
        # A database that hangs must fail a request (Shopify retries it), not stall a worker.
        _database.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The embedded default: let the web thread and the in-process worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
}

# No X-Frame-Options middleware: the app is framed by Shopify admin, and each embedded
# response sets Content-Security-Policy frame-ancestors for its own shop instead.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line a minute per periodic job is noise; failures still show.
        "apscheduler": {"level": "WARNING"},
    },
}
