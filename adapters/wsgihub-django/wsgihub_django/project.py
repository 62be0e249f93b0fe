"""Process-wide Django facts a mount must respect, and the checks about them.

- **One settings module per process.**  Django is configured once; a
  second project (another ``DJANGO_SETTINGS_MODULE``) would silently be
  served with the first one's settings.  :func:`claim_settings` (the app
  factory) and :func:`check_settings_module` (every mount) refuse it with a
  :class:`~wsgihub.MountError` that names both projects and the mount
  already running.  One project mounted at several prefixes is fine.
- **FORCE_SCRIPT_NAME** overrides the mount prefix in Django's own links.
- **A relative STATIC_URL / MEDIA_URL** is prefixed with the script prefix
  of whichever code reads it first and cached for the process.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import UserSettingsHolder, settings

from wsgihub import MountError

from . import registry

if TYPE_CHECKING:
    from wsgihub import Hub, Peg

__all__ = [
    "check_settings_module",
    "claim_settings",
    "configured_module",
    "other_project",
    "settings_problems",
]

ENV = "DJANGO_SETTINGS_MODULE"


def configured_module() -> str | None:
    """The settings module Django runs with (``None``: not configured, or ``settings.configure()``)."""
    if not settings.configured:
        return None
    # override_settings() wraps the real settings in UserSettingsHolders whose
    # own SETTINGS_MODULE is None: look through them.
    wrapped: object = settings._wrapped
    while isinstance(wrapped, UserSettingsHolder):
        wrapped = wrapped.default_settings
    return getattr(wrapped, "SETTINGS_MODULE", None) or None


def other_project(settings_module: str) -> str | None:
    """The settings module of another Django project this process runs or is about to run.

    ``DJANGO_SETTINGS_MODULE`` naming another module, else the configured
    one if it is not ``settings_module`` (``"settings.configure()"`` for
    settings given in code); ``None`` when ``settings_module`` may be used.
    For a test suite that shares its pytest process with other suites:
    Django reads one settings module per process, so a suite for another
    project must run in a process of its own.
    """
    wanted = os.environ.get(ENV)
    if wanted and wanted != settings_module:
        return wanted
    if settings.configured:
        module = getattr(settings, "SETTINGS_MODULE", None)
        if module != settings_module:
            return module or "settings.configure()"
    return None


def _running(module: str | None) -> str:
    """Where the running project is mounted, for error messages."""
    found = [m for m in registry.mounts() if m.settings_module == module]
    if not found:
        return "configured before any mount"
    return "running as " + found[0].describe()


def claim_settings(wanted: str) -> None:
    """Refuse ``wanted`` when Django already runs another settings module."""
    current = configured_module()
    if settings.configured and current != wanted:
        shown = repr(current) if current else "settings.configure()"
        raise MountError(
            f"Django settings {wanted!r} cannot be loaded: this process already runs Django with "
            f"{shown} ({_running(current)}); Django reads one settings module per process, "
            f"so serve {wanted!r} from another process"
        )


def check_settings_module(handler: object, hub: Hub, peg: Peg) -> str | None:
    """Refuse a mount that asks for another settings module than the running one.

    The module asked for is the one the app factory created ``handler``
    for, else the one it was first mounted with, else ``DJANGO_SETTINGS_MODULE``.
    Returns the running module, which the caller records for the mount.
    """
    current = configured_module()
    wanted = registry.handler_module(handler) or os.environ.get(ENV) or None
    if current is not None and wanted is not None and wanted != current:
        raise MountError(
            f"mount {peg.name!r} at {peg.prefix or '/'!r} wants Django settings {wanted!r}, but this "
            f"process already runs Django with {current!r} ({_running(current)}); Django reads one "
            f"settings module per process, so a second project silently gets the first one's "
            f"settings: serve it from another process",
            peg.name,
        )
    if current is not None:
        registry.tag_handler(handler, current)
    return current


def _raw_setting(name: str) -> object:
    """A setting as written, without LazySettings' script-prefix rewrite and its caching."""
    # Reading settings.STATIC_URL here would freeze it with the mount-time
    # prefix for the whole process; the wrapped settings object does not.
    return getattr(settings._wrapped, name, None)


def _mount_path(hub: Hub, peg: Peg) -> str:
    root = hub.public_origin.root if hub.public_origin is not None else ""
    return root + peg.prefix


def settings_problems(hub: Hub, peg: Peg) -> Iterable[str]:
    """One-line surprises of a Django mount: FORCE_SCRIPT_NAME, relative STATIC_URL/MEDIA_URL."""
    where = _mount_path(hub, peg)
    forced = settings.FORCE_SCRIPT_NAME
    if forced is not None and forced.rstrip("/") not in (peg.prefix, where):
        yield (
            f"mount {peg.name!r}: FORCE_SCRIPT_NAME is {forced!r} but the app is mounted at "
            f"{where or '/'!r}; Django's own links (reverse(), {{% url %}}, redirects) will start "
            f"with {forced!r} while hub.url_for() uses {where or '/'!r}: set FORCE_SCRIPT_NAME "
            f"to {where!r} or remove it"
        )
    if not peg.prefix:
        return
    for name in ("STATIC_URL", "MEDIA_URL"):
        value = _raw_setting(name)
        if isinstance(value, str) and value and not value.startswith(("/", "http://", "https://")):
            yield (
                f"mount {peg.name!r}: {name} {value!r} is relative: Django prefixes it with the "
                f"script prefix of whatever reads it first and keeps that for the whole process "
                f"({where + '/' + value!r} or {'/' + value!r}); set {name} = {where + '/' + value!r}"
            )
