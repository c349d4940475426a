"""Settings for every environment, read from the environment (SPEC §8); local defaults need nothing set.

Optional backends switch on when their variables are set: Redis (REDIS_URL), S3 (STORAGE_BUCKET),
OpenSearch (OPENSEARCH_URL), Cognito (COGNITO_*). Production (ENVIRONMENT=production) refuses to start
without its required settings.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = Path(os.environ.get("LOCAL_DIR", BASE_DIR / ".local"))


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


# A value that does not parse stops start-up naming its variable: a typo (`RATE_LIMIT_ENABLED=flase`) must never
# silently mean something else.
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word not in _TRUE + _FALSE:
        raise ImproperlyConfigured(f"{name} must be true or false (or 1/0, yes/no, on/off), not {value!r}")
    return word in _TRUE


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = env(name)
    if value is None:
        return default
    if not re.fullmatch(r"-?[0-9]+", value.strip()) or int(value) < minimum:
        raise ImproperlyConfigured(f"{name} must be a whole number of at least {minimum}, not {value!r}")
    return int(value)


def env_rate(name: str, default: str) -> str:
    """A rate limit, `count/seconds` (SPEC §2.4), both positive whole numbers."""
    value = env(name, default).strip()
    match = re.fullmatch(r"([0-9]+)/([0-9]+)", value)
    if match is None or int(match[1]) < 1 or int(match[2]) < 1:
        raise ImproperlyConfigured(f"{name} must be count/seconds such as {default!r}, not {value!r}")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_origins(name: str, default: list[str]) -> list[str]:
    """Origins compared exactly (CORS and the CSRF Origin check): `scheme://host[:port]`, nothing more."""
    origins = env_list(name, default)
    for origin in origins:
        if not re.fullmatch(r"https?://(\[[0-9a-fA-F:.]+\]|[^/?#\s:\[\]]+)(:[0-9]+)?", origin):
            raise ImproperlyConfigured(f"{name} entries must look like https://host[:port], not {origin!r}")
    return origins


# Secrets are loaded into the environment before anything else reads it (SPEC §8: SECRETS_ID).
if env("SECRETS_ID"):
    from lego_api.core.secrets import load_secrets_into_environ

    load_secrets_into_environ(env("SECRETS_ID"))

ENVIRONMENT = env_choice("ENVIRONMENT", "local", ("local", "dev", "staging", "production"))
IS_PRODUCTION = ENVIRONMENT == "production"
IS_LOCAL = ENVIRONMENT == "local"
APP_VERSION = env("APP_VERSION", "1.0.0")

DEBUG = env_bool("DEBUG", False)
if IS_PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production")

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not IS_LOCAL:
        raise ImproperlyConfigured(f"SECRET_KEY is required when ENVIRONMENT={ENVIRONMENT}")
    SECRET_KEY = "local-only-insecure-secret-key-never-used-outside-the-embedded-stack-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"] if IS_LOCAL else [])
if not IS_LOCAL and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(f"ALLOWED_HOSTS is required when ENVIRONMENT={ENVIRONMENT}")
SITE_URL = env("SITE_URL")
if SITE_URL and not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", SITE_URL):
    raise ImproperlyConfigured(f"SITE_URL must be an absolute http(s) URL, not {SITE_URL!r}")

INSTALLED_APPS = [
    "lego_api.core.lazy_admin.AdminConfig",  # django.contrib.admin, its modules discovered on first use
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Above whitenoise and staticfiles so that its `runserver` (no Server header, database check) is the one run.
    "lego_api.core",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "profiles",
    "mocs",
    "gallery",
    "wishlist",
]

MIDDLEWARE = [
    "lego_api.core.middleware.RequestContextMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "lego_api.core.static.StaticFilesMiddleware",  # whitenoise, STATIC_ROOT read on the first /static/ request
    "lego_api.core.middleware.ApiGateMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "lego_api.urls"
WSGI_APPLICATION = "lego_api.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database: PostgreSQL everywhere (SPEC §9) ---------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if not DATABASE_URL:
    if not IS_LOCAL:
        raise ImproperlyConfigured(f"DATABASE_URL is required when ENVIRONMENT={ENVIRONMENT}")
    from lego_api.local_database import default_database_url  # make run's embedded cluster under LOCAL_DIR

    DATABASE_URL = default_database_url(LOCAL_DIR)
# Persistent connections: RDS Proxy multiplexes them, and a warm Lambda reuses its connection.
_conn_max_age = env_int("DB_CONN_MAX_AGE", 60)
try:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=_conn_max_age, conn_health_checks=True)
except ValueError as exc:  # the message names the part that failed, never the URL (it may hold a password)
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if _database["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must be a PostgreSQL URL (postgres://...): PostgreSQL is the only engine")
DATABASES = {"default": _database}
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5, minimum=1)
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: Redis when configured, else local memory (SPEC §6.1) ----------------------------------------------
REDIS_URL = env("REDIS_URL")
CACHE_KEY_PREFIX = f"lego:{ENVIRONMENT}:"
if REDIS_URL:
    _REDIS_OPTIONS = {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        # SPEC §6.1 "Consistency under faults": 250 ms at most per call, and after an error the circuit breaker
        # skips Redis for 5 s (lego_api.core.redis_breaker) instead of paying the timeout on every call.
        "CONNECTION_POOL_CLASS": "lego_api.core.redis_breaker.BreakerConnectionPool",
        "SOCKET_CONNECT_TIMEOUT": 0.25,
        "SOCKET_TIMEOUT": 0.25,
    }
    _REDIS_CACHE = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
        "KEY_FUNCTION": "lego_api.core.cache.make_key",
    }
    CACHES = {
        "default": {**_REDIS_CACHE, "OPTIONS": {**_REDIS_OPTIONS, "IGNORE_EXCEPTIONS": True}},
        # Namespace versions are read and bumped through an alias that raises, so that core sees a failed bump
        # and records it as a debt (lego_api.core.cache).
        "versions": {**_REDIS_CACHE, "OPTIONS": {**_REDIS_OPTIONS, "IGNORE_EXCEPTIONS": False}},
    }
    # The breaker logs one warning per outage; a traceback for every skipped call would flood the logs.
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False
else:
    # Both aliases share one local-memory store (same LOCATION).
    CACHES = {
        alias: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "lego",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "KEY_FUNCTION": "lego_api.core.cache.make_key",
        }
        for alias in ("default", "versions")
    }

# --- Storage: S3 when STORAGE_BUCKET is set, else the file system (SPEC §5.3) ---------------------------------
STORAGE_BUCKET = env("STORAGE_BUCKET")
AWS_REGION = env("AWS_REGION", env("AWS_DEFAULT_REGION", "us-east-1"))
AWS_ENDPOINT_URL_S3 = env("AWS_ENDPOINT_URL_S3")
S3_SERVER_SIDE_ENCRYPTION = env("S3_SERVER_SIDE_ENCRYPTION", "AES256")
MEDIA_ROOT = env("MEDIA_ROOT", str(LOCAL_DIR / "media"))
MEDIA_URL = "/media/"
MEDIA_CDN_DOMAIN = env("MEDIA_CDN_DOMAIN")
PRESIGNED_URL_EXPIRY = env_int("PRESIGNED_URL_EXPIRY", 3600, minimum=1)
DOWNLOAD_URL_EXPIRY = env_int("DOWNLOAD_URL_EXPIRY", 3600, minimum=1)
UPLOAD_URL_EXPIRY = env_int("UPLOAD_URL_EXPIRY", 3600, minimum=1)
STATIC_URL = "/static/"
STATIC_ROOT = env("STATIC_ROOT", None if IS_LOCAL else str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},  # under MEDIA_ROOT
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# A hung S3 (or a partition) answers nothing: botocore's defaults (60 s reads, 4 attempts) held a request for
# 4 minutes. Every call now fails within ATTEMPTS x (CONNECT + READ) = 14 s, so a failed write and the delete that
# undoes it fit in API Gateway's 29 s. Timeouts bound each socket operation, not a whole transfer, so a 50 MB
# PutObject is not cut short by them.
S3_CONNECT_TIMEOUT = 2
S3_READ_TIMEOUT = 5
S3_MAX_ATTEMPTS = 2  # one retry: S3's occasional 500/503 SlowDown
S3_HEALTH_TIMEOUT = 2  # the health check answers within its 2 s budget (SPEC §7.1): short timeouts, no retry


def s3_storage(*, connect_timeout: float, read_timeout: float, max_attempts: int) -> dict:
    """A STORAGES entry: django-storages' S3 backend on STORAGE_BUCKET, whose boto3 client has these timeouts. The
    one S3 configuration: `lego_api.core.storage` does everything through this storage and its client."""
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    return {
        "BACKEND": "lego_api.core.storage.backends.S3Storage",
        "OPTIONS": {
            "bucket_name": STORAGE_BUCKET,
            "region_name": AWS_REGION,
            "endpoint_url": AWS_ENDPOINT_URL_S3,
            "client_config": Config(
                signature_version="s3v4",
                # S3-compatible servers (SeaweedFS) are addressed by path; AWS by virtual host.
                s3={"addressing_style": "path" if AWS_ENDPOINT_URL_S3 else "virtual"},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"mode": "standard", "total_max_attempts": max_attempts},
            ),
            # One PutObject or GetObject per object (up to 5 GB; ours are at most 50 MB) and no transfer threads on
            # Lambda; a body cut off mid-read is read again as often as a request is tried.
            "transfer_config": TransferConfig(
                use_threads=False, multipart_threshold=5 * 1024**3, num_download_attempts=max_attempts
            ),
            "max_memory_size": 8 * 1024 * 1024,  # an object opened for reading spills to disk past 8 MB
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": PRESIGNED_URL_EXPIRY,
            "file_overwrite": True,
            "object_parameters": {"ServerSideEncryption": S3_SERVER_SIDE_ENCRYPTION}
            if S3_SERVER_SIDE_ENCRYPTION
            else {},
        },
    }


if STORAGE_BUCKET:
    STORAGES["default"] = s3_storage(
        connect_timeout=S3_CONNECT_TIMEOUT, read_timeout=S3_READ_TIMEOUT, max_attempts=S3_MAX_ATTEMPTS
    )
    STORAGES["health"] = s3_storage(connect_timeout=S3_HEALTH_TIMEOUT, read_timeout=S3_HEALTH_TIMEOUT, max_attempts=1)

# The build collects static files into the package; only the hashed names are ever linked, so the copies under the
# original names would only double the package's static files.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
if IS_LOCAL and not env("STATIC_ROOT"):
    # Local runs serve the admin's static files straight from the apps (no collectstatic step needed).
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    WHITENOISE_USE_FINDERS = True

# --- Search: OpenSearch when configured, else the PostgreSQL fallback (SPEC §6.2) -----------------------------
OPENSEARCH_URL = env("OPENSEARCH_URL")
OPENSEARCH_INDEX_PREFIX = env("OPENSEARCH_INDEX_PREFIX", f"lego-{ENVIRONMENT}")
OPENSEARCH_REPLICAS = env_int("OPENSEARCH_REPLICAS", 1)

# --- Authentication (SPEC §2.2) --------------------------------------------------------------------------------
COGNITO_REGION = env("COGNITO_REGION", AWS_REGION)
COGNITO_USER_POOL_ID = env("COGNITO_USER_POOL_ID")
COGNITO_APP_CLIENT_ID = env("COGNITO_APP_CLIENT_ID")
COGNITO_ISSUER = env("COGNITO_ISSUER") or (
    f"https://cognito-idp.{COGNITO_REGION}.amazonaws.com/{COGNITO_USER_POOL_ID}" if COGNITO_USER_POOL_ID else None
)
COGNITO_JWKS_URL = env("COGNITO_JWKS_URL") or (f"{COGNITO_ISSUER}/.well-known/jwks.json" if COGNITO_ISSUER else None)
JWT_LEEWAY_SECONDS = env_int("JWT_LEEWAY_SECONDS", 60)
LOCAL_AUTH_ENABLED = env_bool("LOCAL_AUTH_ENABLED", IS_LOCAL)
LOCAL_JWT_PRIVATE_KEY = env("LOCAL_JWT_PRIVATE_KEY")
LOCAL_JWT_KEY_FILE = env("LOCAL_JWT_KEY_FILE", str(LOCAL_DIR / "jwt-private-key.pem"))
LOCAL_JWT_ISSUER = env("LOCAL_JWT_ISSUER", "lego-api-local")
LOCAL_JWT_CLIENT_ID = env("LOCAL_JWT_CLIENT_ID", "lego-api-local-client")
if IS_PRODUCTION and LOCAL_AUTH_ENABLED:
    raise ImproperlyConfigured("LOCAL_AUTH_ENABLED cannot be combined with ENVIRONMENT=production")
if IS_PRODUCTION and not (COGNITO_ISSUER and COGNITO_APP_CLIENT_ID):
    raise ImproperlyConfigured(
        "COGNITO_USER_POOL_ID (or COGNITO_ISSUER) and COGNITO_APP_CLIENT_ID are required in production"
    )

# --- CORS and CSRF (SPEC §2.3, §2.6) ----------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_origins(
    "CORS_ALLOWED_ORIGINS",
    ["http://localhost:5173", "http://localhost:3002", "http://127.0.0.1:5173"] if IS_LOCAL else [],
)
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CORS_ALLOW_HEADERS = ["content-type", "authorization", "x-requested-with", "x-csrf-token", "cache-control"]
CORS_EXPOSE_HEADERS = [
    "X-Request-ID",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
]
CORS_PREFLIGHT_MAX_AGE = 86400
CSRF_TRUSTED_ORIGINS = CORS_ALLOWED_ORIGINS

# --- Rate limits (SPEC §2.4) --------------------------------------------------------------------------------------
RATE_LIMIT_ENABLED = env_bool("RATE_LIMIT_ENABLED", True)
RATE_LIMIT_GENERAL = env_rate("RATE_LIMIT_GENERAL", "100/900")
RATE_LIMIT_AUTH = env_rate("RATE_LIMIT_AUTH", "5/900")
RATE_LIMIT_UPLOAD = env_rate("RATE_LIMIT_UPLOAD", "10/3600")
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)

# --- Tasks, limits, admin -----------------------------------------------------------------------------------------
TASKS_EAGER = env_bool("TASKS_EAGER", False)
TASKS_WORKER_FUNCTION = env("TASKS_WORKER_FUNCTION")
XRAY_ENABLED = env_bool("XRAY_ENABLED", False)
if XRAY_ENABLED:
    MIDDLEWARE.insert(0, "lego_api.core.tracing.XRayMiddleware")
# CloudWatch Embedded Metric Format lines on stdout (lego_api/core/metrics.py); on by default on Lambda.
METRICS_ENABLED = env_bool("METRICS_ENABLED", bool(env("AWS_LAMBDA_FUNCTION_NAME")))
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 50_000_000, minimum=1)
PARTS_LIST_MAX_ROWS = env_int("PARTS_LIST_MAX_ROWS", 10_000, minimum=1)
ADMIN_URL = env("ADMIN_URL", "admin/")
JSON_BODY_MAX_BYTES = 2 * 1024 * 1024
REQUEST_BODY_MAX_BYTES = 55 * 1024 * 1024
# Multipart text fields only (files stream to temporary files); whole-body caps are enforced by our middleware.
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 100

# --- Security (SPEC §2.5; `manage.py check --deploy` is clean in production) -----------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
if IS_PRODUCTION:
    # API Gateway terminates TLS and forwards the scheme in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^health/?$"]
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # HSTS preload (security.W021) is not sent: SPEC §2.5 fixes the header without `preload`, and preloading
    # is a commitment for the whole registered domain that this API cannot make on its own.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

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

# --- Django REST framework and OpenAPI ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["lego_api.core.renderers.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["lego_api.core.parsers.CamelCaseJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["lego_api.core.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "lego_api.core.pagination.PagePagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "lego_api.core.schema.AutoSchema",  # becomes lego_api.core.openapi's when generating
    "EXCEPTION_HANDLER": "lego_api.core.errors.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "lego_api.core.renderers.IgnoreAcceptNegotiation",
    # OPTIONS is only CORS preflight (answered by django-cors-headers); no DRF metadata pages.
    "DEFAULT_METADATA_CLASS": None,
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
    "DATETIME_FORMAT": None,  # datetimes reach the renderer, which writes the SPEC §1.5 format
    "PAGE_SIZE": 20,
}
# The document `make package` generates into the package (lego_api.core.schema); absent locally: generated per request.
OPENAPI_DOCUMENT_DIR = BASE_DIR / "openapi"
SPECTACULAR_SETTINGS = {
    "TITLE": "LEGO Projects API",
    "DESCRIPTION": "MOC and set instructions, files and parts lists, gallery, albums, wishlist and profiles.",
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "CAMELIZE_NAMES": False,
    "PREPROCESSING_HOOKS": [
        "lego_api.core.openapi.document_plain_views",
        "lego_api.core.routing.schema_paths_without_trailing_slash",
        "lego_api.core.openapi.camel_case_path_parameters",
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "lego_api.core.schema.camelize_schema_hook",
    ],
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
}

# --- Logging: one JSON line per request (SPEC §1.10) --------------------------------------------------------------
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "lego_api.core.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # App loggers propagate to the root's one JSON handler.
        "lego_api": {"level": LOG_LEVEL},
        "mocs": {"level": LOG_LEVEL},
        "profiles": {"level": LOG_LEVEL},
        # Requests are logged once by our middleware; Django's own request/server loggers would log them twice.
        "django.request": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "django.server": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}
