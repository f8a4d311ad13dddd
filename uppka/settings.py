"""UPPKA Monitor settings, driven by environment variables (see .env.example).

The variables come from the process environment, then from an env file: the one
UPPKA_ENV_FILE names (deploy/: /etc/uppka/env), else ./.env when it exists. A variable
already in the environment wins over the file.

With nothing set: SQLite in ./db.sqlite3, DEBUG off, local hosts only. "Production" means
the site answers to a real host name (ALLOWED_HOSTS beyond localhost): then a strong
SECRET_KEY is required and cookies, HSTS and redirects are hardened.
"""

import os
import tempfile
from email.utils import parseaddr
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from uppka.env import env_bool, env_list, load_env_file, weak_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
load_env_file(os.environ.get("UPPKA_ENV_FILE") or None, default=BASE_DIR / ".env")

DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "testserver"}

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
PRODUCTION = not DEBUG and bool(set(ALLOWED_HOSTS) - LOCAL_HOSTS)
SECRET_KEY = os.environ.get("SECRET_KEY") or DEV_SECRET_KEY
if PRODUCTION and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value when DEBUG is off and "
        "ALLOWED_HOSTS names a real host."
    )
if PRODUCTION and (weakness := weak_secret_key(SECRET_KEY)):
    raise ImproperlyConfigured(
        f"SECRET_KEY is {weakness}. Make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "accounts",
    "groups",
    "households",
    "reports",
    "jobs",
]

# Background jobs (jobs/): the database backend, so no extra service; a worker is
# `manage.py db_worker --queue-name '*' --no-reload` (make run starts one).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

MIDDLEWARE = [
    # First: /healthz answers without the Host check, the HTTPS redirect or a session.
    "uppka.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "uppka.middleware.LanguageMiddleware",
    "uppka.middleware.BusyDatabaseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "uppka.middleware.NoStoreForSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "uppka.middleware.ContentSecurityPolicyMiddleware",
    "uppka.middleware.RefuseNullCharacterMiddleware",
    # Last, as django-axes asks: locks out after repeated failed logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "uppka.urls"
WSGI_APPLICATION = "uppka.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and the single writer work side by side; a busy timeout makes a
    # second writer wait instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file too, as production does: Django's default in-memory test database
    # shares one cache between connections, where a second writer fails at once with
    # "database table is locked" instead of waiting out the busy timeout.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"uppka-test-{os.getpid()}.sqlite3"),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiler pays off for long analytical scans; for the figures' queries
    # (a few hundred ms at most) compiling cost more than it saved (0.25 s of a 0.6 s recap).
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The covering index on income readings is a PostgreSQL optimisation; SQLite ignores it.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
AUTH_USER_MODEL = "accounts.User"

# How many proxies in front of the app append to X-Forwarded-For (nginx: 1). With 0 the
# header is ignored: a client could write anything in it.
TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES") or "0")
if TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("TRUSTED_PROXIES must be 0 (no proxy) or the number of proxies in front of the app.")

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five failed logins for the same user name from the same address lock it for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The address is the client's, not the proxy's (see TRUSTED_PROXIES): otherwise anyone could
# lock anyone out, since everyone arrives from the proxy's address.
AXES_CLIENT_IP_CALLABLE = "uppka.proxy.client_ip"
# The user name as typed, cut to the 255 characters django-axes can store.
AXES_USERNAME_CALLABLE = "uppka.lockout.login_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Makassar"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# collectstatic (production) gathers files here; elsewhere WhiteNoise reads static/ directly.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles") if PRODUCTION else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Outside production, serve static files straight from static/ (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

SESSION_COOKIE_AGE = 60 * 60 * 8  # a working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # HSTS starts at an hour: a first deploy with a broken certificate must not lock browsers
    # out for a year. Raise it (31536000) once HTTPS has worked for a while; preload (which
    # asks browsers' makers to hard-code the site, hard to undo) only when the env says so.
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS") or "3600")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS.append("security.W021")  # "not on the preload list": on purpose
    # Behind a TLS-terminating proxy (nginx) that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = [f"https://{host}" for host in ALLOWED_HOSTS if host not in LOCAL_HOSTS]

# Uploaded import workbooks wait here between the dry run and the import (kept a day).
IMPORT_DIR = Path(os.environ.get("IMPORT_DIR") or BASE_DIR / "var" / "imports")
# Files that background jobs write (workbooks, error copies), private to their requester, kept a day.
JOB_DIR = Path(os.environ.get("JOB_DIR") or BASE_DIR / "var" / "jobs")
# The data download of 100,000 families × 24 months (wide form, a Pendapatan sheet a year) is
# 18.7 MiB with the demo's short names and addresses: 20 MiB left no room for real ones or a
# register. What a file may cost is bounded by households/xlsx_limits.py after unpacking.
IMPORT_MAX_BYTES = 32 * 1024 * 1024
# Several app servers: IMPORT_DIR and JOB_DIR must be one folder every server sees (NFS or
# the like), as a dry run checked on one server is confirmed on whichever the next request
# reaches. Backups (manage.py backup) go to BACKUP_DIR, mode 0700, each file 0600.
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR") or BASE_DIR / "var" / "backups")
BACKUP_KEEP_DAYS = int(os.environ.get("BACKUP_KEEP_DAYS") or "30")

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Errors by e-mail to ADMINS ("Name <a@b>, c@d") when EMAIL_HOST is set; without it,
# Django's default SMTP on localhost is not tried: mails go to the log instead.
ADMINS = [parseaddr(item) for item in env_list("ADMINS", [])]
MANAGERS = ADMINS
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT") or "587")
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = SERVER_EMAIL = os.environ.get("SERVER_EMAIL") or "uppka@localhost"
EMAIL_SUBJECT_PREFIX = "[UPPKA] "
# The error e-mails leave out form fields and local variables (NIKs, incomes).
DEFAULT_EXCEPTION_REPORTER_FILTER = "uppka.errors.NoPersonalDataReporterFilter"
if not EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# One line per event with time, level and logger, to stdout/stderr (journald keeps them).
# Errors of requests go to ADMINS by e-mail too, when there are any and e-mail is set up.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s",
                             "datefmt": "%Y-%m-%d %H:%M:%S%z"}},
    "filters": {
        "production": {"()": "django.utils.log.RequireDebugFalse"},
        "one_line": {"()": "uppka.errors.WithoutTraceback"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "mail_admins": {"class": "django.utils.log.AdminEmailHandler", "level": "ERROR", "filters": ["production"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO"), "propagate": False},
        "django.request": {"handlers": ["console", "mail_admins"] if ADMINS and EMAIL_HOST else ["console"],
                           "level": "WARNING", "propagate": False},
        # A probe by address or a scanner's Host: one line, not a traceback per request.
        "django.security.DisallowedHost": {"handlers": ["console"], "filters": ["one_line"], "propagate": False},
    },
}

# Optional error reporting: with SENTRY_DSN set and sentry-sdk installed (pip install
# sentry-sdk; not in requirements.txt), errors go to Sentry too, without personal data.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from uppka.errors import start_sentry

    start_sentry(SENTRY_DSN, environment=os.environ.get("SENTRY_ENVIRONMENT", "production"))
