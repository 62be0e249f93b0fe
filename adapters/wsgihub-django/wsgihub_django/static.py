"""Static files of a Django mount, served as ``runserver`` or WhiteNoise serves them.

Django itself serves no static files: ``runserver`` wraps the project in
``django.contrib.staticfiles``' handler while ``DEBUG`` is on, and in
production a front-end server or WhiteNoise serves what ``collectstatic``
gathered into ``STATIC_ROOT``.  A Django mount on a hub does the same,
below its mount prefix (``/static/...`` at ``/``, ``/legacy/static/...`` at
``/legacy``), in one of four modes:

``auto`` (the default)
    As ``runserver``: when ``DEBUG`` is on at mount time, files the
    staticfiles finders find (app ``static/`` folders, ``STATICFILES_DIRS``)
    are served by ``django.contrib.staticfiles.views.serve``; with ``DEBUG``
    off, nothing.  Steps aside when the project serves them itself
    (``WhiteNoiseMiddleware`` in ``MIDDLEWARE``, ``whitenoise.runserver_nostatic``).
``insecure``
    The finders whatever ``DEBUG`` says (``runserver --insecure``).
``whitenoise``
    WhiteNoise over ``STATIC_ROOT`` (run ``manage.py collectstatic`` first):
    cache headers (hashed names of a manifest storage cached for ever),
    ``.gz`` / ``.br`` variants when the storage or ``whitenoise.compress``
    made them.  ``WHITENOISE_*`` settings are honoured as WhiteNoise's own
    middleware reads them.
``off``
    Nothing: a front-end server (nginx ``location /static/``) or the URL
    conf serves them.

Only ``django.contrib.staticfiles`` projects are served, and only when
``STATIC_URL`` is a path inside the mount: relative (``static/``, the
``startproject`` default) or absolute below the mount's prefix; never a
full URL (a CDN).  ``STATIC_URL`` is read as written: reading
``settings.STATIC_URL`` would fix Django's script-prefixed value for the
whole process.  Choose a mode in the site file (``static = whitenoise`` in
the Django app section) or wrap the project in Python::

    from wsgihub_django.static import serve_static
    hub.mount("/legacy", serve_static(get_wsgi_application(), "whitenoise"))

The files appear in the route table as the endpoint
``django.contrib.staticfiles`` (:data:`STATIC_ENDPOINT`) with the rule
``static/<path:path>``, so graft checks see them.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
import weakref
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.contrib.staticfiles.views import serve
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string

from wsgihub.adapter import layers
from wsgihub.errors import ConfigError

from .project import _raw_setting

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from wsgihub import Peg
    from wsgihub.types import Environ, StartResponse, WSGIApplication

__all__ = ["MODES", "STATIC_ENDPOINT", "StaticFiles", "serve_static", "static_path"]

#: The endpoint of a Django mount's static files in the route table.
STATIC_ENDPOINT: Final = "django.contrib.staticfiles"

#: The ``static`` modes, the default first.
MODES: Final = ("auto", "insecure", "whitenoise", "off")

_STATICFILES = "django.contrib.staticfiles"
_KEY = "wsgihub_django.static_path"  # the file's path below STATIC_URL, for the finders' view
_HOOKS = ("__pegboard__", "__before__", "__compose__", "__setup__", "__teardown__", "__cleanup__")


def static_path(script_name: str) -> str | None:
    """Where static files live inside a mount served at ``script_name`` (``/static/``), or ``None``.

    ``None`` without ``django.contrib.staticfiles``, without ``STATIC_URL``,
    for a full URL, or an absolute path outside the mount.
    """
    if not apps.is_installed(_STATICFILES):
        return None
    raw = _raw_setting("STATIC_URL")
    if not isinstance(raw, str) or not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    if not path.startswith("/"):
        return "/" + path
    if not script_name:
        return path
    return path[len(script_name) :] if path.startswith(script_name + "/") else None


def _project_serves_itself() -> bool:
    """WhiteNoise's middleware (or its runserver_nostatic app) already serves the files."""
    if apps.is_installed("whitenoise.runserver_nostatic"):
        return True
    return any(str(name).startswith("whitenoise.") for name in settings.MIDDLEWARE)


def _check_mode(mode: object) -> str:
    if not isinstance(mode, str) or mode.strip().lower() not in MODES:
        raise ConfigError(f"static must be one of {', '.join(MODES)}, not {mode!r}")
    return mode.strip().lower()


class _Finders(StaticFilesHandler):
    """``django.contrib.staticfiles``' own handler, given the file's path by :class:`StaticFiles`.

    Django's handler strips ``STATIC_URL`` from ``request.path``, which
    holds the mount prefix, and fixes ``settings.STATIC_URL`` when built;
    this one neither.  Any error (a ``..`` path is a
    ``SuspiciousFileOperation``) becomes Django's own response (400, 404).
    """

    def __init__(self, application: Any) -> None:
        self.application = application
        WSGIHandler.__init__(self)  # loads no middleware (StaticFilesHandlerMixin)

    def serve_at(self, environ: Environ, start_response: StartResponse, rest: str) -> Iterable[bytes]:
        environ[_KEY] = rest
        return WSGIHandler.__call__(self, environ, start_response)  # type: ignore[no-any-return]

    def serve(self, request: HttpRequest) -> HttpResponse:
        return serve(request, url2pathname(request.META[_KEY]), insecure=True)

    def get_response(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.serve(request)
        except Exception as exc:  # noqa: BLE001 - Django answers it as it answers any view's
            return response_for_exception(request, exc)


class _WhiteNoise:
    """WhiteNoise over ``STATIC_ROOT``, files keyed by their path below ``STATIC_URL``."""

    def __init__(self, application: Any, root: str) -> None:
        from whitenoise.base import WhiteNoise  # optional: pip install wsgihub-django[whitenoise]
        from whitenoise.string_utils import decode_path_info

        self.decode = decode_path_info
        get = _whitenoise_setting
        self.server = WhiteNoise(
            None,
            autorefresh=get("AUTOREFRESH", settings.DEBUG),
            max_age=get("MAX_AGE", 0 if settings.DEBUG else 60),
            allow_all_origins=get("ALLOW_ALL_ORIGINS", True),
            charset=get("CHARSET", "utf-8"),
            mimetypes=get("MIMETYPES", None),
            add_headers_function=get("ADD_HEADERS_FUNCTION", None),
            immutable_file_test=get("IMMUTABLE_FILE_TEST", None) or _manifest_test(root),
        )
        self.application = application
        with warnings.catch_warnings():  # a missing STATIC_ROOT is reported by problems()
            warnings.simplefilter("ignore")
            self.server.add_files(root, prefix="/")

    def serve_at(self, environ: Environ, start_response: StartResponse, rest: str) -> Iterable[bytes]:
        path = "/" + self.decode(rest)
        server = self.server
        found = server.find_file(path) if server.autorefresh else server.files.get(path)
        if found is None:
            return self.application(environ, start_response)  # type: ignore[no-any-return]
        return server.serve(found, environ, start_response)  # type: ignore[no-any-return]


def _whitenoise_setting(name: str, default: Any) -> Any:
    return getattr(settings, "WHITENOISE_" + name, default)


def _manifest_test(root: str) -> Any:
    """Hashed names of a manifest storage's ``staticfiles.json`` are immutable; ``None`` without one.

    The manifest is read from ``STATIC_ROOT``: asking the storage would
    read ``settings.STATIC_URL`` (and fix its script prefix for the process).
    """
    try:
        backend = import_string(settings.STORAGES["staticfiles"]["BACKEND"])
    except (ImportError, KeyError, TypeError):
        return None
    name = getattr(backend, "manifest_name", None)
    if not isinstance(name, str):
        return None
    try:
        with open(os.path.join(root, name), encoding="utf-8") as file:
            paths = json.load(file).get("paths", {})
    except (OSError, ValueError, AttributeError):
        return None
    hashed = frozenset("/" + v for k, v in paths.items() if isinstance(v, str) and v != k)
    return lambda path, url: url in hashed


class StaticFiles:
    """A Django project (``application``) with its static files served in front of it.

    ``mode`` is one of :data:`MODES`; the decision is taken here, once (as
    ``runserver`` takes it at start).  A request whose path is under the
    static path of its mount (:func:`static_path` of its ``SCRIPT_NAME``)
    is served, or falls through to the project when no such file exists
    (WhiteNoise) or is answered 404 (finders); every other request goes to
    the project untouched.  Raises :class:`~wsgihub.ConfigError` for an
    unknown mode, or ``whitenoise`` without ``STATIC_ROOT`` or WhiteNoise.
    """

    def __init__(self, application: WSGIApplication, mode: str = "auto") -> None:
        self.application = application
        self.mode = _check_mode(mode)
        self._server: _Finders | _WhiteNoise | None = None
        self._paths: dict[str, str | None] = {}
        self._lock = threading.Lock()
        static = apps.is_installed(_STATICFILES)
        if self.mode == "whitenoise":
            root = settings.STATIC_ROOT
            if not root:
                raise ConfigError(
                    "whitenoise serves what `manage.py collectstatic` puts in STATIC_ROOT: "
                    "set STATIC_ROOT in the settings"
                )
            try:
                self._server = _WhiteNoise(application, os.fspath(root))
            except ImportError as exc:
                raise ConfigError(
                    f"whitenoise is not installed: pip install whitenoise ({exc})"
                ) from exc
        elif static and (
            self.mode == "insecure" or (self.mode == "auto" and settings.DEBUG and not _project_serves_itself())
        ):
            self._server = _Finders(application)

    @property
    def serving(self) -> bool:
        """Whether this serves static files at all (``off``, or ``auto`` with DEBUG off: no)."""
        return self._server is not None

    def path(self, script_name: str) -> str | None:
        """The static path inside a mount at ``script_name`` while serving (cached per script name)."""
        if self._server is None:
            return None
        try:
            return self._paths[script_name]
        except KeyError:
            pass
        found = static_path(script_name)
        with self._lock:
            if len(self._paths) >= 256:  # script names come from servers and mounts, but be bounded
                self._paths.clear()
            self._paths[script_name] = found
        return found

    def problems(self, mount: str) -> Iterator[str]:
        """``STATIC_ROOT`` missing while WhiteNoise should serve from it."""
        if self.mode == "whitenoise":
            root = os.fspath(settings.STATIC_ROOT)
            if not os.path.isdir(root):
                yield (
                    f"mount {mount!r}: static = whitenoise but STATIC_ROOT {root!r} is not a directory: "
                    "run `python manage.py collectstatic` before serving"
                )

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        server = self._server
        if server is not None:
            prefix = self.path(environ.get("SCRIPT_NAME", ""))
            path: str = environ.get("PATH_INFO", "")
            if prefix is not None and path.startswith(prefix):
                return server.serve_at(environ, start_response, path[len(prefix) :])
        return self.application(environ, start_response)

    def __repr__(self) -> str:
        return f"<StaticFiles {self.mode} {self.application!r}>"


def serve_static(application: WSGIApplication, mode: str = "auto") -> StaticFiles:
    """``application`` (Django's WSGI handler, perhaps in middleware) with its static files served.

    See the module's docstring for the modes; mount the result::

        hub.mount("/", serve_static(get_wsgi_application(), "whitenoise"))
    """
    return StaticFiles(application, mode)


def find(app: object) -> StaticFiles | None:
    """The :class:`StaticFiles` among the layers of a mounted ``app``, if any."""
    for layer in layers(app):
        if isinstance(layer, StaticFiles):
            return layer
    return None


#: One ``auto`` wrapper per mounted callable: a project mounted twice is one app.
_auto: weakref.WeakKeyDictionary[Any, StaticFiles] = weakref.WeakKeyDictionary()


def attach(peg: Peg) -> StaticFiles | None:
    """Serve ``peg``'s static files as ``runserver`` would (``auto``), unless already configured.

    Called when a Django project is mounted.  When the mounted callable
    holds a :class:`StaticFiles` (the site file's ``static`` key,
    :func:`serve_static`), that one decides; otherwise, while ``DEBUG`` is
    on, the peg's app becomes an ``auto`` :class:`StaticFiles` around it.
    A pegboard-aware component (phase hooks) is left as it is.
    """
    found = find(peg.app)
    if found is not None:
        return found
    app = peg.app
    if any(hasattr(app, hook) for hook in _HOOKS):
        return None
    try:
        wrapper = _auto.get(app)
    except TypeError:  # not weak-referenceable
        wrapper = None
    if wrapper is None:
        wrapper = StaticFiles(app, "auto")
        if not wrapper.serving:
            return None
        try:
            _auto[app] = wrapper
        except TypeError:
            pass
    peg.app = wrapper
    return wrapper


def url(script_name: str, values: Mapping[str, Any]) -> str | None:
    """``script_name`` + the static path + ``values["path"]`` (quoted), or ``None`` if not inside the mount."""
    inside = static_path(script_name)
    file = values.get("path")
    if inside is None or not isinstance(file, str):
        return None
    return script_name + inside + quote(file.lstrip("/"))
