"""Settings, all read from the environment (see README, "Configuration")."""

import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from learntrace.core.object_storage import origin_of, s3_storage
from learntrace.env import env, envbool, envint, envlist, generated_secret

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env("DATA_DIR") or Path.cwd() / "data").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = generated_secret("SECRET_KEY", DATA_DIR / "secret.key")
# Older keys still accepted while every node moves to a new SECRET_KEY (docs/operations.md).
SECRET_KEY_FALLBACKS = envlist("SECRET_KEY_FALLBACKS")
# The Ed25519 key that signs seals (evidence/keys.py): a path, generated there on first use.
EVIDENCE_SIGNING_KEY_FILE = Path(env("EVIDENCE_SIGNING_KEY_FILE") or DATA_DIR / "evidence-signing.pem")
# Comma-separated Fernet keys; the first encrypts, all decrypt (key rotation).
FIELD_ENCRYPTION_KEYS = [
    key.strip()
    for key in generated_secret(
        "FIELD_ENCRYPTION_KEY", DATA_DIR / "field-encryption.key", lambda: Fernet.generate_key().decode()
    ).split(",")
    if key.strip()
]

DEBUG = envbool("DEBUG", False)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "huey.contrib.djhuey",
    "ninja",  # only for its Swagger UI files, served from here rather than a CDN
    "learntrace.core",
    "learntrace.accounts",
    "learntrace.org",
    "learntrace.catalog",
    "learntrace.records",
    "learntrace.creditrules",
    "learntrace.exams",
    "learntrace.plans",
    "learntrace.tracking",
    "learntrace.checkin",
    "learntrace.evidence",
    "learntrace.compliance",
    "learntrace.notify",
    "learntrace.declarations",
    "learntrace.certificates",
    "learntrace.reports",
    "learntrace.api",
    "learntrace.webhooks",
    "learntrace.platforms",
    "learntrace.directory",
    "learntrace.onlineattendance",
    "learntrace.sso",
    "learntrace.health",  # liveness, readiness and Prometheus metrics; no models
    "learntrace.demo",  # the `demo` command; no models
]

MIDDLEWARE = [
    "learntrace.health.middleware.HealthMiddleware",  # first: probes and scrapes need no host, session or page
    "learntrace.api.middleware.ApiMiddleware",  # outermost: every failure under /api/v1/ answers JSON
    "django.middleware.security.SecurityMiddleware",
    "learntrace.core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "learntrace.accounts.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "learntrace.accounts.middleware.LastSignInWinsMiddleware",  # optional: one session per person
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "learntrace.urls"
WSGI_APPLICATION = "learntrace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "learntrace.org.context_processors.roles",
                "learntrace.notify.context_processors.unread_notifications",
            ],
        },
    },
]

DATABASE_URL = env("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'learntrace.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web server read while the worker writes; IMMEDIATE avoids
    # "database is locked" upgrades from read to write inside transactions.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# A database host that is down may swallow packets instead of refusing them: give up connecting
# after this many seconds (pages answer 503) rather than hold a web worker until it is killed.
DATABASE_CONNECT_TIMEOUT = envint("DATABASE_CONNECT_TIMEOUT", 10)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
# When DATABASE_URL goes through PgBouncer in transaction mode: the PostgreSQL server itself, for the
# jobs' session-level locks (core/locks.py), which a pooler would hand to other clients; and cursors
# stay on the client, as a pooled server connection cannot keep one between transactions.
DATABASE_DIRECT_URL = env("DATABASE_DIRECT_URL") or ""
if DATABASE_DIRECT_URL:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in methods offered on the login page, in this order (README, "Signing in").
SIGNIN_METHODS = envlist("SIGNIN_METHODS", "password")
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling: after AXES_FAILURE_LIMIT wrong passwords for one account,
# or from one address, further attempts are refused for AXES_COOLOFF_TIME.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "learntrace.accounts.views.locked_out"
AXES_VERBOSE = False

LANGUAGE_CODE = env("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise expects it, even before collectstatic
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# What one node writes and another reads (course media, uploaded import files, finished exports) goes
# through Django's default storage: the folder SHARED_DIR/media (the data folder on one machine, a folder
# every node mounts when there are several), or an S3-compatible bucket when S3_* is set.
SHARED_DIR = Path(env("SHARED_DIR") or DATA_DIR).resolve()
MEDIA_ROOT = SHARED_DIR / "media"
# With a web server in front that serves SHARED_DIR at this internal location (nginx: X-Accel-Redirect),
# learntrace checks who may read a file and leaves sending it, ranges included, to that server.
FILES_ACCEL_REDIRECT = (env("FILES_ACCEL_REDIRECT") or "").rstrip("/")
# S3_BUCKET, S3_ENDPOINT_URL, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY (and S3_REGION, S3_PREFIX,
# S3_ADDRESSING_STYLE, S3_URL_SECONDS): files go to the bucket, and readers are sent there by a link that
# works for S3_URL_SECONDS (core/object_storage.py). Half of them set stops the start-up.
_bucket = s3_storage(env)
STORAGES = {
    "default": _bucket or {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# The origin the bucket's links point to: pages may play, show and frame files from there.
S3_ORIGIN = origin_of(_bucket)
WHITENOISE_USE_FINDERS = True  # `make run` works even before collectstatic
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
IMPORT_MAX_BYTES = envint("IMPORT_MAX_MB", 100) * 1024 * 1024
# Beats older than this many whole months are archived by the worker each night (records/archive.py);
# 0: never (an operator runs `learntrace archive`).
ARCHIVE_BEATS_AFTER_MONTHS = envint("ARCHIVE_BEATS_AFTER_MONTHS", 0)
# Checked in an uploaded XLSX's zip directory before parsing (zip bombs): 100 000 people
# with every column unpack to about 80 MB in 1.4 million cells, at 5 to 20 times compression.
IMPORT_XLSX_MAX_UNPACKED_MB = envint("IMPORT_XLSX_MAX_UNPACKED_MB", 250)
IMPORT_XLSX_MAX_RATIO = envint("IMPORT_XLSX_MAX_RATIO", 100)
IMPORT_XLSX_MAX_CELLS = envint("IMPORT_XLSX_MAX_CELLS", 5_000_000)

SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_HOURS", 12) * 3600
# A new sign-in ends the person's other sessions (one person learns in one place at a time).
LAST_SIGNIN_WINS = envbool("LAST_SIGNIN_WINS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Origins that forms may be sent to besides this site (the Content-Security-Policy's form-action):
# a sign-in form whose answer redirects to an identity provider needs that provider here.
CSP_FORM_ACTION_ORIGINS = envlist("CSP_FORM_ACTION_ORIGINS")
for _origin in CSP_FORM_ACTION_ORIGINS:
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?", _origin):
        raise ImproperlyConfigured(f"CSP_FORM_ACTION_ORIGINS: {_origin!r} is not an origin like https://login.example.com")
if envbool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# SMTP that sends 8-bit bodies only to a server offering 8BITMIME (core/mail.py).
EMAIL_BACKEND = env("EMAIL_BACKEND", "learntrace.core.mail.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "learntrace@localhost")
EMAIL_FROM_NAME = env("EMAIL_FROM_NAME", "learntrace")  # the display name in From, unless DEFAULT_FROM_EMAIL has one

# Background work. The storage follows the database by default: a SQLite file
# beside the database (no extra server) or the same PostgreSQL; HUEY_URL may
# point at Redis instead (redis://host:port/db) for large deployments.
HUEY_URL = env("HUEY_URL") or ""
# HUEY_NAME keeps several deployments apart on one Redis (or one task database).
_huey_common = {"name": env("HUEY_NAME") or "learntrace", "immediate": envbool("HUEY_IMMEDIATE", False), "utc": True}
if HUEY_URL.startswith("redis"):
    HUEY = {**_huey_common, "huey_class": "huey.RedisHuey", "url": HUEY_URL}
elif DATABASES["default"]["ENGINE"].endswith("postgresql") or HUEY_URL.startswith("postgres"):
    # Its tables are created on first use, never at start-up (see core/queue.py).
    HUEY = {**_huey_common, "huey_class": "learntrace.core.queue.PostgresHuey",
            "connection": {"dsn": HUEY_URL or DATABASE_URL, "connect_timeout": DATABASE_CONNECT_TIMEOUT}}
else:
    HUEY = {**_huey_common, "huey_class": "huey.SqliteHuey",
            "connection": {"filename": str(DATA_DIR / "tasks.sqlite3")}}
HUEY["consumer"] = {"workers": envint("WORKERS", 2), "worker_type": "thread", "periodic": True}
WORKER_HEARTBEAT_STALE = timedelta(minutes=3)
# Wrong typed check-in codes allowed per window: per person and per address at a meeting, and for the
# whole meeting (the odds these leave a guesser are worked out in checkin/typed_codes.py).
CHECKIN_CODE_WINDOW_MINUTES = envint("CHECKIN_CODE_WINDOW_MINUTES", 15)
CHECKIN_CODE_PERSON_LIMIT = envint("CHECKIN_CODE_PERSON_LIMIT", 5)
CHECKIN_CODE_ADDRESS_LIMIT = envint("CHECKIN_CODE_ADDRESS_LIMIT", 20)
CHECKIN_CODE_MEETING_LIMIT = envint("CHECKIN_CODE_MEETING_LIMIT", 50)
API_RATE_LIMIT_PER_MINUTE = envint("API_RATE_LIMIT_PER_MINUTE", 120)  # requests per token
API_TOKEN_USE_DAYS = envint("API_TOKEN_USE_DAYS", 180)  # how long each token's use log is kept
XAPI_BATCH_SIZE = envint("XAPI_BATCH_SIZE", 50)  # statements per POST to a learning record store
XAPI_MAX_ATTEMPTS = envint("XAPI_MAX_ATTEMPTS", 10)  # then the statement is failed until an admin resends it
TRACKER_BEAT_MS = envint("TRACKER_BEAT_SECONDS", 15) * 1000  # how often players report what was watched

# Reminders. Links in messages start with SITE_URL; the platforms' addresses can be
# changed for a private deployment (and are pointed at local servers by the tests).
SITE_URL = (env("SITE_URL") or "http://127.0.0.1:8000").rstrip("/")
NOTIFY_HTTP_TIMEOUT_SECONDS = envint("NOTIFY_HTTP_TIMEOUT_SECONDS", 10)
NOTIFY_MAX_ATTEMPTS = envint("NOTIFY_MAX_ATTEMPTS", 5)
NOTIFY_RETRY_SECONDS = envint("NOTIFY_RETRY_SECONDS", 60)  # doubled after each failed attempt
NOTIFY_SENDING_TIMEOUT = timedelta(minutes=envint("NOTIFY_SENDING_TIMEOUT_MINUTES", 10))
NOTIFY_DINGTALK_ROBOT_URL = env("NOTIFY_DINGTALK_ROBOT_URL") or "https://oapi.dingtalk.com/robot/send"
NOTIFY_DINGTALK_API_URL = (env("NOTIFY_DINGTALK_API_URL") or "https://oapi.dingtalk.com").rstrip("/")
NOTIFY_WECOM_ROBOT_URL = env("NOTIFY_WECOM_ROBOT_URL") or "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
NOTIFY_FEISHU_BOT_URL = (env("NOTIFY_FEISHU_BOT_URL") or "https://open.feishu.cn/open-apis/bot/v2/hook").rstrip("/")

# Webhooks out (docs/webhooks.md): events to the addresses an admin subscribes, signed as Standard
# Webhooks, retried with backoff. Receivers on private or loopback addresses only when allowed here.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = envbool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False)
WEBHOOKS_HTTP_TIMEOUT_SECONDS = envint("WEBHOOKS_HTTP_TIMEOUT_SECONDS", 10)
WEBHOOKS_MAX_ATTEMPTS = envint("WEBHOOKS_MAX_ATTEMPTS", 8)  # 30 s doubled each time: the last about 1 h later
WEBHOOKS_RETRY_SECONDS = envint("WEBHOOKS_RETRY_SECONDS", 30)
WEBHOOKS_SENDING_TIMEOUT = timedelta(minutes=envint("WEBHOOKS_SENDING_TIMEOUT_MINUTES", 10))
WEBHOOKS_SECRET_OVERLAP_HOURS = envint("WEBHOOKS_SECRET_OVERLAP_HOURS", 24)  # the old secret signs too
WEBHOOKS_KEEP_DAYS = envint("WEBHOOKS_KEEP_DAYS", 90)  # then sent and failed deliveries are forgotten

# Sign-in links, forgotten passwords and LDAP (README, "Signing in"). Activation and reset links are
# single-use and expire; a reset is sent through the first personal channel of SIGNIN_LINK_CHANNELS
# (kinds, in order) that reaches the person. WeCom and Feishu app messages go to these addresses.
SIGNIN_LINK_DAYS = envint("SIGNIN_LINK_DAYS", 7)
SIGNIN_RESET_HOURS = envint("SIGNIN_RESET_HOURS", 2)
SIGNIN_LINK_CHANNELS = envlist("SIGNIN_LINK_CHANNELS", "email,dingtalk_work,wecom_app,feishu_app")
NOTIFY_WECOM_API_URL = (env("NOTIFY_WECOM_API_URL") or "https://qyapi.weixin.qq.com").rstrip("/")
NOTIFY_FEISHU_API_URL = (env("NOTIFY_FEISHU_API_URL") or "https://open.feishu.cn").rstrip("/")
LDAP_SERVER_URI = env("LDAP_SERVER_URI") or ""
LDAP_BIND_DN = env("LDAP_BIND_DN") or ""
LDAP_BIND_PASSWORD = env("LDAP_BIND_PASSWORD") or ""
LDAP_USER_SEARCH_BASE = env("LDAP_USER_SEARCH_BASE") or ""
LDAP_USER_ATTRIBUTE = env("LDAP_USER_ATTRIBUTE") or "uid"  # what people type as their username
LDAP_EMPLOYEE_NO_ATTRIBUTE = env("LDAP_EMPLOYEE_NO_ATTRIBUTE") or LDAP_USER_ATTRIBUTE  # matched to employee_no
LDAP_START_TLS = envbool("LDAP_START_TLS", False)
LDAP_TIMEOUT_SECONDS = envint("LDAP_TIMEOUT_SECONDS", 10)
if "ldap" in SIGNIN_METHODS:
    from learntrace.accounts.ldap_settings import auth_ldap_settings

    globals().update(auth_ldap_settings(
        server_uri=LDAP_SERVER_URI, bind_dn=LDAP_BIND_DN, bind_password=LDAP_BIND_PASSWORD,
        search_base=LDAP_USER_SEARCH_BASE, user_attribute=LDAP_USER_ATTRIBUTE, start_tls=LDAP_START_TLS,
        timeout_seconds=LDAP_TIMEOUT_SECONDS))
    AUTHENTICATION_BACKENDS.insert(1, "learntrace.accounts.ldap.EmployeeLDAPBackend")

# Reports: the completion rate the dashboard compares against (percent), the average watched
# share below which a course is flagged (percent), and the largest export served while the
# browser waits (bigger ones are written by the worker). Export files are deleted after a day.
REPORTS_COMPLETION_TARGET = envint("REPORTS_COMPLETION_TARGET", 90)
REPORTS_LOW_WATCH_SHARE = envint("REPORTS_LOW_WATCH_SHARE", 60)
REPORTS_DIRECT_EXPORT_ROWS = envint("REPORTS_DIRECT_EXPORT_ROWS", 5000)
REPORTS_EXPORT_LIFETIME = timedelta(days=1)

# A file cache shared by the web server and the worker on one machine: it carries
# progress of long jobs, which runs inside transactions that others cannot see.
# Several nodes (README, "Running several nodes") share one cache: Redis when CACHE_URL names one.
# Without CACHE_URL, a Redis task queue (HUEY_URL) serves as the cache too.
CACHE_URL = env("CACHE_URL") or (HUEY_URL if HUEY_URL.startswith("redis") else "")
if CACHE_URL.startswith("redis"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
                          "KEY_PREFIX": env("HUEY_NAME") or "learntrace"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# Prometheus metrics at /metrics, for a scraper that sends this bearer token (unset: no metrics).
METRICS_TOKEN = env("METRICS_TOKEN") or ""
# Where gunicorn's processes add up their counters (set by `learntrace serve` for its web processes).
PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR") or ""

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"no_link_tokens": {"()": "learntrace.accounts.log_filters.RedactLinkTokens"},
                "one_line_refusals": {"()": "learntrace.core.logs.OneLineRefusals"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["no_link_tokens", "one_line_refusals"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},  # its request lines carry robots' tokens and signatures
        "huey": {"level": "INFO", "propagate": False},  # the consumer logs through its own handler
    },
}


# Sign-in with DingTalk, WeCom and Feishu (README, "Signing in"). Each is offered when its name is in
# SIGNIN_METHODS and its app is configured. The platforms' addresses can be changed for a private
# deployment or a proxy (and are pointed at local servers by the tests).
DINGTALK_APP_KEY = env("DINGTALK_APP_KEY") or ""  # the app's AppKey (Client ID)
DINGTALK_APP_SECRET = env("DINGTALK_APP_SECRET") or ""
DINGTALK_CORP_ID = env("DINGTALK_CORP_ID") or ""  # asked for by the in-app sign-in (免登)
DINGTALK_API_URL = (env("DINGTALK_API_URL") or "https://api.dingtalk.com").rstrip("/")
DINGTALK_OAPI_URL = (env("DINGTALK_OAPI_URL") or "https://oapi.dingtalk.com").rstrip("/")
DINGTALK_LOGIN_URL = (env("DINGTALK_LOGIN_URL") or "https://login.dingtalk.com").rstrip("/")
# DingTalk's JSAPI script, loaded by the in-app sign-in page; empty loads none (a copy can be served
# from this site or an intranet mirror instead).
DINGTALK_JSAPI_URL = env("DINGTALK_JSAPI_URL", "https://g.alicdn.com/dingding/dingtalk-jsapi/2.10.3/dingtalk.open.js")
WECOM_CORP_ID = env("WECOM_CORP_ID") or ""
WECOM_AGENT_ID = env("WECOM_AGENT_ID") or ""
WECOM_SECRET = env("WECOM_SECRET") or ""  # the self-built app's Secret
WECOM_API_URL = (env("WECOM_API_URL") or "https://qyapi.weixin.qq.com").rstrip("/")
WECOM_LOGIN_URL = (env("WECOM_LOGIN_URL") or "https://login.work.weixin.qq.com").rstrip("/")  # the QR page
WECOM_OAUTH_URL = (env("WECOM_OAUTH_URL") or "https://open.weixin.qq.com").rstrip("/")  # in-app authorisation
FEISHU_APP_ID = env("FEISHU_APP_ID") or ""
FEISHU_APP_SECRET = env("FEISHU_APP_SECRET") or ""
FEISHU_API_URL = (env("FEISHU_API_URL") or "https://open.feishu.cn").rstrip("/")
FEISHU_LOGIN_URL = (env("FEISHU_LOGIN_URL") or "https://accounts.feishu.cn").rstrip("/")
LOGGING["loggers"]["httpcore"] = {"level": "WARNING"}  # its debug lines carry the platforms' answers, codes included


# Directory sync (README, "Signing in" → "Keeping the organisation in sync"): departments and people
# pulled from DingTalk, WeCom or Feishu contacts (with the sign-in apps' settings above) or from LDAP,
# through the organisation import. Off unless DIRECTORY_SYNC_SOURCE names one of them.
DIRECTORY_SYNC_SOURCE = (env("DIRECTORY_SYNC_SOURCE") or "").strip().lower()
DIRECTORY_SYNC_INTERVAL_MINUTES = envint("DIRECTORY_SYNC_INTERVAL_MINUTES", 0)  # 0: no scheduled sync
# Scheduled syncs and "left the organisation" events deactivate people only when this is on.
DIRECTORY_SYNC_DEACTIVATE_MISSING = envbool("DIRECTORY_SYNC_DEACTIVATE_MISSING", False)
# A department's code is this prefix and the directory's department id; unset, the source's name and "-".
DIRECTORY_DEPARTMENT_PREFIX = env("DIRECTORY_DEPARTMENT_PREFIX")
# The employee number: the directory's own number field ("number": DingTalk job_number, Feishu employee_no,
# LDAP employeeNumber) or the platform's user id ("userid"). WeCom has no number field and uses its userid.
DIRECTORY_EMPLOYEE_NO = (env("DIRECTORY_EMPLOYEE_NO") or "number").strip().lower()
# WeCom reads its contacts with the contact-sync secret (通讯录同步) when given, else the app's secret.
WECOM_CONTACT_SECRET = env("WECOM_CONTACT_SECRET") or ""
# Change events pushed by the platforms; each endpoint refuses everything until its keys are set.
DINGTALK_EVENT_TOKEN = env("DINGTALK_EVENT_TOKEN") or ""
DINGTALK_EVENT_AES_KEY = env("DINGTALK_EVENT_AES_KEY") or ""
DINGTALK_EVENT_OWNER_KEY = env("DINGTALK_EVENT_OWNER_KEY") or ""  # unset: DINGTALK_APP_KEY
WECOM_CONTACT_EVENT_TOKEN = env("WECOM_CONTACT_EVENT_TOKEN") or ""
WECOM_CONTACT_EVENT_AES_KEY = env("WECOM_CONTACT_EVENT_AES_KEY") or ""
FEISHU_EVENT_VERIFICATION_TOKEN = env("FEISHU_EVENT_VERIFICATION_TOKEN") or ""
FEISHU_EVENT_ENCRYPT_KEY = env("FEISHU_EVENT_ENCRYPT_KEY") or ""
# LDAP / Active Directory: where people and departments (organizational units) are read.
DIRECTORY_LDAP_URL = env("DIRECTORY_LDAP_URL") or ""  # ldap://host:389 or ldaps://host:636
DIRECTORY_LDAP_BIND_DN = env("DIRECTORY_LDAP_BIND_DN") or ""
DIRECTORY_LDAP_BIND_PASSWORD = env("DIRECTORY_LDAP_BIND_PASSWORD") or ""
DIRECTORY_LDAP_BASE_DN = env("DIRECTORY_LDAP_BASE_DN") or ""
DIRECTORY_LDAP_USER_FILTER = env("DIRECTORY_LDAP_USER_FILTER") or "(objectClass=inetOrgPerson)"
DIRECTORY_LDAP_DEPARTMENT_FILTER = env("DIRECTORY_LDAP_DEPARTMENT_FILTER") or "(objectClass=organizationalUnit)"
# Sign-in with OpenID Connect and CAS (README, "Signing in", "OpenID Connect and CAS"). Each is offered
# when its name is in SIGNIN_METHODS and its server is configured; the first sign-in of a person matches
# a claim (OIDC) or the CAS user or attribute to an employee field (employee_no or email).
OIDC_ISSUER = (env("OIDC_ISSUER") or "").strip()  # discovery at OIDC_ISSUER/.well-known/openid-configuration
OIDC_CLIENT_ID = env("OIDC_CLIENT_ID") or ""
OIDC_CLIENT_SECRET = env("OIDC_CLIENT_SECRET") or ""  # empty: a public client (PKCE alone)
OIDC_SCOPES = env("OIDC_SCOPES") or "openid email profile"
OIDC_EMPLOYEE_CLAIM = env("OIDC_EMPLOYEE_CLAIM") or "preferred_username"
OIDC_EMPLOYEE_FIELD = env("OIDC_EMPLOYEE_FIELD") or "employee_no"
OIDC_LABEL = env("OIDC_LABEL") or ""  # the button says "Sign in with <label>"; empty: "OpenID Connect"
CAS_SERVER_URL = (env("CAS_SERVER_URL") or "").rstrip("/")  # e.g. https://portal.example.org/cas
CAS_VERSION = env("CAS_VERSION") or "3"  # 2: /serviceValidate, 3: /p3/serviceValidate (with attributes)
CAS_EMPLOYEE_ATTRIBUTE = env("CAS_EMPLOYEE_ATTRIBUTE") or ""  # empty: the CAS user name itself
CAS_EMPLOYEE_FIELD = env("CAS_EMPLOYEE_FIELD") or "employee_no"
CAS_LABEL = env("CAS_LABEL") or ""  # the button says "Sign in with <label>"; empty: "CAS"
LOGGING["loggers"]["urllib3"] = {"level": "WARNING"}  # its debug lines carry CAS service tickets
# Their debug lines carry signed requests and presigned links to the bucket.
LOGGING["loggers"].update({name: {"level": "WARNING"} for name in ("boto3", "botocore", "s3transfer")})
