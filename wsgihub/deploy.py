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
section ``NAME`` over mount ``MOUNT``.

:func:`load` accepts ``config:site.ini`` / ``site.ini`` (optionally
``#name``), a pipeline descriptor (``site.wsgi``, see
:mod:`wsgihub.pipeline`) or ``package.module:attr`` naming a Hub, a WSGI app
or a factory returning one.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .errors import ConfigError, DeployError, MountError, WsgihubError
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
    "app_from",
    "cwd_on_sys_path",
    "hub_factory",
    "import_object",
    "is_app_factory",
    "load",
    "parse_deployment",
    "parse_mount_spec",
]


def hub_factory(loader: Any, global_conf: dict[str, str], **local_conf: str) -> Hub:
    """PasteDeploy composite factory: ``use = egg:wsgihub#hub``."""
    source = global_conf.get("__file__", "site file")
    trusted = local_conf.pop("trusted_hosts", "").split()
    public_url = local_conf.pop("public_url", None) or None
    try:
        hub = Hub(trusted_hosts=trusted, public_url=public_url)
    except WsgihubError as exc:
        raise DeployError(f"{source}: [composite] {exc}") from exc
    grafts: list[tuple[str, str]] = []
    for key, value in local_conf.items():
        key = key.strip()
        section = value.strip()
        if key.startswith("graft "):
            grafts.append((key[len("graft ") :].strip(), section))
            continue
        if not key.startswith("/"):
            raise DeployError(f"{source}: unknown key {key!r} in the hub section (mount keys start with '/')")
        app = _get_app(loader, section, source, key)
        try:
            hub.mount(key, app, name=_mount_name(section))
        except MountError as exc:
            raise DeployError(f"{source}: mount {key} = {section}: {exc}") from exc
    for section, over in grafts:
        app = _get_app(loader, section, source, f"graft {section}")
        try:
            hub.graft(app, over=over, name=_mount_name(section))
        except WsgihubError as exc:
            raise DeployError(f"{source}: graft {section} = {over}: {exc}") from exc
    return hub


def _mount_name(section: str) -> str:
    return section.split(":", 1)[-1].strip()


def _get_app(loader: Any, section: str, source: str, key: str) -> Any:
    try:
        return loader.get_app(section)
    except LookupError as exc:
        raise DeployError(f"{source}: {key} = {section}: no section [app:{section}] ({exc})") from exc


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
    if filename.endswith(".wsgi"):
        return _as_hub(parse_deployment(filename), filename)
    if site.startswith("config:") or filename.endswith((".ini", ".cfg")) or os.path.isfile(filename):
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


def _load_ini(path: str, **options: Any) -> Hub:
    filename, _, name = path.partition("#")
    filename = os.path.abspath(filename)
    if not os.path.exists(filename):
        raise DeployError(f"site file {filename!r} does not exist")
    from paste.deploy import loadapp

    try:
        app = loadapp(f"config:{filename}", name=name or None, **options)
    except WsgihubError:
        raise
    except LookupError as exc:
        raise DeployError(f"{filename}: {_one_line(exc)}") from exc
    except Exception as exc:  # a factory or PasteDeploy itself failed: still one line (--debug shows it)
        raise DeployError(f"{filename}: {type(exc).__name__}: {_one_line(exc)}") from exc
    return _as_hub(app, filename)
