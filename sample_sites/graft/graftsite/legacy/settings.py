"""Django settings of the legacy project.

The SQLite database lives in ``$GRAFTSITE_DATA`` (default
``~/.local/share/graftsite``, or a per-user temporary directory when that is
not writable).  It is migrated and seeded when the site starts (see
:mod:`graftsite.legacy.startup`), so a fresh checkout serves at once.
"""

from __future__ import annotations

import getpass
import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def data_dir() -> Path:
    """A writable directory for the database: ``$GRAFTSITE_DATA`` or a user/temp dir."""
    configured = os.environ.get("GRAFTSITE_DATA")
    if configured:
        path = Path(configured).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        return path
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    for candidate in (
        Path(base) / "graftsite",
        Path(tempfile.gettempdir()) / f"graftsite-{_user()}",
    ):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            return candidate
    raise RuntimeError("graftsite: no writable data directory; set GRAFTSITE_DATA")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        return "user"


DATA_DIR = data_dir()

# A sample site: the key only has to be stable for one run's sessions.
SECRET_KEY = os.environ.get("GRAFTSITE_SECRET_KEY", "graftsite-sample-key-do-not-use-in-production")
DEBUG = os.environ.get("GRAFTSITE_DEBUG", "") == "1"
# The same hosts as the hub's trusted_hosts in site.ini.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # {% load wsgihub %}: {% hub_url "mount:endpoint" ... %} in templates
    "wsgihub_django",
    "graftsite.legacy.blog",
]

MIDDLEWARE = [
    # Migrates and seeds the database once, when the site starts, then steps aside.
    "graftsite.legacy.startup.PrepareDatabase",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "graftsite.legacy.urls"

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

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "legacy.sqlite3",
    }
}

AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []
# demo/demo is created at startup: a fast hasher keeps that (and the tests) quick.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Absolute: a relative STATIC_URL is prefixed once, with whichever script prefix reads it first.
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
# /accounts/profile/ redirects into the Flask part (its /whoami page).
LOGIN_REDIRECT_URL = "profile"
LOGOUT_REDIRECT_URL = "home"
