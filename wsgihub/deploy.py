"""Deploying a site from one file.

**PasteDeploy INI** (the ecosystem's convention, loaded by PasteDeploy
itself).  wsgihub contributes the ``hub`` composite; each adapter an app
factory::

    [composite:main]
    use = egg:wsgihub#hub
    trusted_hosts = example.com www.example.com
    public_url = https://example.com
    / = legacy
    /new = new
    graft reports = legacy

    [app:legacy]
    use = egg:wsgihub-django#app
    settings = legacy.settings

    [app:new]
    use = call:newsite:create_app

Keys starting with ``/`` mount the named section's app at that prefix (the
mount is named after the section); ``graft NAME = MOUNT`` grafts the app of
section ``NAME`` over mount ``MOUNT``, and ``graft NAME only = ...`` /
``graft NAME exclude = ...`` (endpoint names or globs, white-space
separated) / ``graft NAME fall_through = false`` are the arguments of
:meth:`wsgihub.Hub.graft`.  ``silence = W010 W011`` leaves those finding ids
out of ``wsgihub check`` and the warnings at load time (docs/grafts.md).

:func:`load` is the one site loader: every CLI command, every server and
every gunicorn worker builds its hub with it.  It takes a site --
``config:site.ini`` / ``site.ini`` (optionally ``#name``), a pipeline
descriptor (``site.wsgi``, see :mod:`wsgihub.pipeline`) or
``package.module:attr`` naming a Hub, a WSGI app or an app factory -- and/or
``--mount`` specs (``/new=newsite:create_app``).  It puts the current
directory on ``sys.path`` first, applies one rule to app factories
(:func:`app_from`), and turns any failure into one line naming the site
file, section and key, the import spec or the mount at fault.

The adapters' PasteDeploy app factories share :class:`FactoryError`,
:func:`paste_app_factory` and :func:`import_setting`, so that their errors
all read ``FILE: [app:NAME] KEY: message``.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from importlib import metadata
from typing import Any, TypeVar

from .errors import ConfigError, DeployError, WsgihubError
from .hub import Hub
from .pipeline import (
    _one_line,
    app_from,
    cwd_on_sys_path,
    import_object,
    is_app_factory,
    parse_deployment,
)

_T = TypeVar("_T")

__all__ = [
    "FactoryError",
    "app_from",
    "cwd_on_sys_path",
    "hub_factory",
    "import_object",
    "import_setting",
    "is_app_factory",
    "load",
    "parse_deployment",
    "parse_mount_spec",
    "paste_app_factory",
]


# -- PasteDeploy: the hub composite ------------------------------------------------------------
#: The sections being loaded (outermost first), to detect a composite that contains itself.
_LOADING: ContextVar[tuple[str, ...]] = ContextVar("wsgihub_deploy_loading", default=())

#: Section prefixes PasteDeploy tries for ``loader.get_app(name)``.
_APP_SECTIONS = ("app", "composite", "pipeline", "filter-app")


def hub_factory(loader: Any, global_conf: dict[str, str], **local_conf: str) -> Hub:
    """PasteDeploy composite factory: ``use = egg:wsgihub#hub``.

    ``/PREFIX = SECTION`` mounts the app of ``SECTION``; ``graft NAME =
    MOUNT`` grafts the app of section ``NAME`` over the mount ``MOUNT``,
    scoped by ``graft NAME only = ...`` / ``graft NAME exclude = ...`` and
    ``graft NAME fall_through = false``; ``silence = ID ...`` silences
    findings.  Errors quote the line as written and name the site file; an
    app factory's own errors also name its section and key.
    """
    source = global_conf.get("__file__", "site file")
    trusted = local_conf.pop("trusted_hosts", "").split()
    public_url = local_conf.pop("public_url", None) or None
    silence = local_conf.pop("silence", "")
    try:
        hub = Hub(trusted_hosts=trusted, public_url=public_url, silence=silence)
    except WsgihubError as exc:
        raise DeployError(f"{source}: [composite] {exc}") from exc
    grafts: list[tuple[str, str, str]] = []
    graft_options: dict[str, dict[str, Any]] = {}
    for raw_key, raw_value in local_conf.items():
        key, value = raw_key.strip(), raw_value.strip()
        line = f"{key} = {value}"
        if key.startswith("graft "):
            words = key.split()
            if len(words) == 3 and words[2] in _GRAFT_OPTIONS:
                options = graft_options.setdefault(words[1], {})
                options[words[2]] = _graft_option(words[2], value, source, line)
                continue
            grafts.append((key[len("graft ") :].strip(), value, line))
            continue
        if not key.startswith("/"):
            raise DeployError(f"{source}: unknown key {key!r} in the hub section (mount keys start with '/')")
        app = _get_app(loader, value, source, line)
        try:
            hub.mount(key, app, name=_mount_name(value))
        except WsgihubError as exc:
            raise DeployError(f"{source}: {line}: {_one_line(exc)}") from exc
    for section, over, line in grafts:
        if not section or " " in section:
            raise DeployError(
                f"{source}: {line}: expected 'graft SECTION = MOUNT' (one section name), or "
                f"'graft SECTION {{{' | '.join(_GRAFT_OPTIONS)}}} = ...'"
            )
        app = _get_app(loader, section, source, line)
        try:
            hub.graft(app, over=over, name=_mount_name(section), **graft_options.pop(section, {}))
        except WsgihubError as exc:
            raise DeployError(f"{source}: {line}: {_one_line(exc)}") from exc
    for section in graft_options:
        raise DeployError(
            f"{source}: 'graft {section} ...' options given, but no 'graft {section} = MOUNT' line grafts it"
        )
    return hub


#: The options a ``graft NAME OPTION = value`` line may set (``hub.graft``'s keywords).
_GRAFT_OPTIONS = ("only", "exclude", "fall_through")


def _graft_option(option: str, value: str, source: str, line: str) -> Any:
    """The value of ``graft NAME OPTION = value``: patterns, or a boolean for fall_through."""
    if option != "fall_through":
        return value.split()
    word = value.lower()
    if word in ("true", "yes", "on", "1"):
        return True
    if word in ("false", "no", "off", "0"):
        return False
    raise DeployError(f"{source}: {line}: fall_through must be true or false")


def _mount_name(section: str) -> str:
    return section.split(":", 1)[-1].strip()


def _section_header(loader: Any, name: str) -> str | None:
    """``app:NAME`` (or ``composite:NAME``, ...) as the site file spells it; ``None`` if absent."""
    parser = getattr(loader, "parser", None)
    sections = parser.sections() if parser is not None else []
    if ":" in name:
        return name if name in sections else None
    return next((f"{kind}:{name}" for kind in _APP_SECTIONS if f"{kind}:{name}" in sections), None)


def _get_app(loader: Any, section: str, source: str, line: str) -> Any:
    header = _section_header(loader, section)
    if header is None:
        raise DeployError(f"{source}: {line}: no section [app:{section}]")
    with _loading(header, source, line):
        try:
            return loader.get_app(section)
        except Exception as exc:
            raise _located(exc, source, header) from exc


@contextlib.contextmanager
def _loading(header: str, source: str, where: str) -> Iterator[None]:
    """Record ``header`` as being loaded; refuse it if it is already (a circular composite)."""
    stack = _LOADING.get()
    if header in stack:
        chain = " -> ".join(f"[{h}]" for h in (*stack[stack.index(header) :], header))
        raise DeployError(f"{source}: {where}: circular composite: {chain}")
    token = _LOADING.set((*stack, header))
    try:
        yield
    finally:
        _LOADING.reset(token)


def _located(exc: Exception, source: str, header: str) -> WsgihubError:
    """``exc`` raised while building section ``header`` of ``source``, as one line naming both."""
    if isinstance(exc, FactoryError):
        return exc.located(site_file=source, section=header)
    if isinstance(exc, WsgihubError):
        message = _one_line(exc)
        rest = message.removeprefix(f"{source}: ")
        if rest.startswith("["):
            return exc  # a nested section already said where
        return _with_message(exc, f"{source}: [{header}] {rest}")
    if isinstance(exc, metadata.PackageNotFoundError):
        return DeployError(
            f"{source}: [{header}] use: distribution {exc.name!r} is not installed "
            "(install it, or correct the egg: name)"
        )
    return DeployError(f"{source}: [{header}] {type(exc).__name__}: {_one_line(exc)}")


# -- helpers for adapters' PasteDeploy app factories ------------------------------------------
class FactoryError(DeployError):
    """An app factory refusing its section: ``FILE: [app:NAME] KEY: message``.

    Raise it from an adapter's PasteDeploy app factory with the ``key`` at
    fault (``None`` for the section as a whole).  :func:`paste_app_factory`
    adds the site file; the hub composite adds the section, so every
    adapter's errors read the same.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        site_file: str | None = None,
        section: str | None = None,
    ) -> None:
        message = "; ".join(line.strip() for line in message.splitlines() if line.strip())
        self.detail, self.key, self.site_file, self.section = message, key, site_file, section
        head = [f"{site_file}:" if site_file else "", f"[{section}]" if section else "", f"{key}:" if key else ""]
        super().__init__(" ".join([*(h for h in head if h), message]))

    def located(self, *, site_file: str | None = None, section: str | None = None) -> FactoryError:
        """The same error, naming ``site_file`` and ``section`` if it did not yet."""
        return FactoryError(
            self.detail,
            key=self.key,
            site_file=self.site_file or site_file,
            section=self.section or section,
        )


_Factory = TypeVar("_Factory", bound=Callable[..., Any])


def paste_app_factory(factory: _Factory) -> _Factory:
    """Decorate an adapter's PasteDeploy app factory ``factory(global_conf, **settings)``.

    Whatever goes wrong inside becomes one line naming the site file
    (``global_conf["__file__"]``): a :class:`FactoryError` keeps its key,
    another wsgihub error its class (a :class:`~wsgihub.MountError` stays
    one), anything else (the framework or the project raising) becomes a
    :class:`FactoryError` naming the exception's class; the original is
    chained.
    Loaded by the ``egg:wsgihub#hub`` composite, the section is named too.
    """

    @functools.wraps(factory)
    def wrapper(global_conf: Mapping[str, Any], *args: Any, **settings: Any) -> Any:
        site_file = global_conf.get("__file__") or None
        try:
            return factory(global_conf, *args, **settings)
        except FactoryError as exc:
            raise exc.located(site_file=site_file) from exc
        except WsgihubError as exc:  # e.g. the adapter's MountError: same class, naming the file
            if site_file is None or str(exc).startswith(f"{site_file}: "):
                raise
            raise _with_message(exc, f"{site_file}: {_one_line(exc)}") from exc
        except Exception as exc:  # the framework or the project failed: one line, chained
            raise FactoryError(f"{type(exc).__name__}: {_one_line(exc)}", site_file=site_file) from exc

    return wrapper  # type: ignore[return-value]


def import_setting(key: str, spec: str, *, app: bool = False) -> Any:
    """The object the setting ``key = spec`` names (``package.module:attr`` or dotted).

    With ``app`` the object goes through :func:`app_from` (an app factory
    is called).  Errors are :class:`FactoryError` naming ``key``.
    """
    try:
        found = import_object(spec.strip(), repr(spec.strip()), dotted=True)
        return app_from(found, repr(spec.strip())) if app else found
    except DeployError as exc:
        raise FactoryError(str(exc), key=key) from exc


def parse_mount_spec(spec: str) -> tuple[str, str]:
    """``/new=newsite:app`` -> ``("/new", "newsite:app")`` (for ``--mount``)."""
    prefix, sep, target = spec.partition("=")
    if not sep or not prefix.strip().startswith("/") or ":" not in target:
        raise DeployError(f"mount spec {spec!r}: expected PREFIX=package.module:attribute, e.g. /new=newsite:app")
    return prefix.strip(), target.strip()


def load(site: str | None = None, *, mounts: Sequence[str] = (), **options: Any) -> Hub:
    """The one site loader: a :class:`Hub` from ``site`` and/or ``--mount`` specs.

    ``site`` is a site file (``config:site.ini``, ``site.ini#name``), a
    pipeline descriptor (``site.wsgi``) or ``package.module:attr`` naming a
    Hub, a WSGI application or an app factory (see the module docs).
    ``mounts`` are ``PREFIX=package.module:attr`` specs mounted on top (on an
    empty Hub when there is no ``site``); an app factory is called, as for
    ``site``.  ``options`` go to PasteDeploy (``global_conf`` values).

    The current directory goes first on ``sys.path`` (as with ``python -m``,
    gunicorn and ``flask run``).  Anything that fails while the site is
    built — a module raising on import, a factory raising, a mount refused —
    is one :class:`~wsgihub.errors.ConfigError` line naming the site or the
    mount at fault, with the original exception chained.  Every CLI command,
    every server and every gunicorn worker builds its hub here.
    """
    if site is None and not mounts:
        raise ConfigError("no site given: pass SITE (site.ini, site.wsgi, module:hub) or --mount PREFIX=module:app")
    cwd_on_sys_path()
    hub = _culprit(f"site {site!r}", _load_site, site, **options) if site is not None else Hub()
    for spec in mounts:
        prefix, target = parse_mount_spec(spec)
        _culprit(f"--mount {prefix}={target}", _mount, hub, prefix, target)
    return hub


def _culprit(label: str, build: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run ``build``; any failure becomes one line naming ``label`` (unless it names it already)."""
    try:
        return build(*args, **kwargs)
    except WsgihubError as exc:
        message = str(exc)
        if "\n" not in message and (label in message or _names_a_file(message)):
            raise
        raise _with_message(exc, f"{label}: {_one_line(exc)}") from exc
    except Exception as exc:  # an app's own code failed while the site was built
        raise DeployError(f"{label}: {type(exc).__name__}: {_one_line(exc)}") from exc


def _with_message(exc: WsgihubError, message: str) -> WsgihubError:
    """A copy of ``exc`` (same class, same ``mount``/``endpoint``) saying ``message``."""
    try:
        renamed = copy.copy(exc)
    except TypeError:  # a class whose constructor wants more than the message
        return DeployError(message)
    renamed.args = (message,)
    return renamed


def _names_a_file(message: str) -> bool:
    """Errors about a site file already start with the file's name."""
    head = message.split(":", 1)[0]
    return head.endswith((".ini", ".cfg", ".wsgi")) or os.path.isfile(head)


def _mount(hub: Hub, prefix: str, target: str) -> None:
    what = f"--mount {prefix}={target}"
    app = app_from(import_object(target, what), what)
    hub.mount(prefix, app)


def _load_site(site: str, **options: Any) -> Hub:
    path = site.removeprefix("config:")
    filename = path.split("#", 1)[0]
    is_ini = site.startswith("config:") or filename.endswith((".ini", ".cfg")) or os.path.isfile(filename)
    if options and (filename.endswith(".wsgi") or not is_ini):
        given = ", ".join(sorted(options))
        raise ConfigError(f"site {site!r}: {given}: only a PasteDeploy site file takes options")
    if filename.endswith(".wsgi"):
        return _as_hub(parse_deployment(filename), filename)
    if is_ini:
        return _load_ini(path, **options)
    if ":" not in site:
        raise DeployError(
            f"site {site!r}: expected a site file (site.ini, site.wsgi) or 'package.module:attribute'"
        )
    what = f"site {site!r}"
    return _as_hub(app_from(import_object(site, what), what), site)


def _as_hub(obj: Any, source: str) -> Hub:
    if isinstance(obj, Hub):
        return obj
    if not callable(obj):
        raise DeployError(f"site {source!r}: {obj!r} is neither a Hub nor a WSGI application")
    hub = Hub()
    hub.mount("/", obj, name="root")
    return hub


def _load_percent_path(filename: str, name: str | None, global_conf: dict[str, str] | None) -> Any:
    """``loadapp`` for a site file whose path holds ``%`` (``/srv/100%/site.ini``).

    PasteDeploy puts ``here`` and ``__file__`` into the file's defaults as
    they are, and configparser reads every ``%`` in them as the start of an
    interpolation (``InterpolationSyntaxError`` on a correct file); its
    ``config:`` URI would also percent-decode the path (``%41`` is ``A``).
    This builds PasteDeploy's loader itself, with both escaped (``%%``): the
    values reaching ``%(here)s`` and the factories' ``global_conf`` are the
    real path.
    """
    from paste.deploy.loadwsgi import APP, ConfigLoader

    loader = ConfigLoader(filename)
    loader.update_defaults(
        {"here": os.path.dirname(filename).replace("%", "%%"), "__file__": filename.replace("%", "%%")}
    )
    if global_conf:
        loader.update_defaults(global_conf, overwrite=False)
    return loader.get_context(APP, name, global_conf).create()


def _load_ini(path: str, **options: Any) -> Hub:
    filename, _, name = path.partition("#")
    filename = os.path.abspath(filename)
    if not os.path.exists(filename):
        raise DeployError(f"site file {filename!r} does not exist")
    # PasteDeploy is imported here, not at the top: only site files need it.
    from paste.deploy import loadapp
    from paste.deploy.loadwsgi import ConfigLoader

    try:
        header = _section_header(ConfigLoader(filename), name or "main")
    except Exception as exc:  # configparser's errors span several lines
        raise DeployError(f"{filename}: {type(exc).__name__}: {_one_line(exc)}") from exc
    try:
        with _loading(header or name or "main", filename, f"#{name or 'main'}"):
            if "%" in filename and set(options) <= {"global_conf"}:
                app = _load_percent_path(filename, name or None, options.get("global_conf"))
            else:
                app = loadapp(f"config:{filename}", name=name or None, **options)
    except LookupError as exc:
        if header is not None:
            raise _located(exc, filename, header) from exc
        raise DeployError(f"{filename}: {_one_line(exc)}") from exc
    except Exception as exc:  # a factory or PasteDeploy itself failed: still one line (--debug shows it)
        if header is None:
            raise DeployError(f"{filename}: {type(exc).__name__}: {_one_line(exc)}") from exc
        raise _located(exc, filename, header) from exc
    return _as_hub(app, filename)
