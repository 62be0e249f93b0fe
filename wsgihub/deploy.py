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

import importlib
import os
from typing import Any

from .errors import DeployError, MountError, WsgihubError
from .hub import Hub
from .pipeline import parse_deployment

__all__ = ["hub_factory", "import_object", "load", "parse_deployment", "parse_mount_spec"]


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


def import_object(spec: str, what: str = "object") -> Any:
    """Import ``package.module:attr.sub`` (``what`` names it in errors)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise DeployError(f"{what} {spec!r}: expected 'package.module:attribute'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise DeployError(f"{what} {spec!r}: cannot import {module_name!r}: {exc}") from exc
    except Exception as exc:  # the module itself is broken: still one line (--debug shows it)
        raise DeployError(f"{what} {spec!r}: importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise DeployError(f"{what} {spec!r}: module {module_name!r} has no attribute {attr!r}") from None
    return obj


def parse_mount_spec(spec: str) -> tuple[str, str]:
    """``/new=newsite:app`` -> ``("/new", "newsite:app")`` (for ``--mount``)."""
    prefix, sep, target = spec.partition("=")
    if not sep or not prefix.strip().startswith("/") or ":" not in target:
        raise DeployError(f"mount spec {spec!r}: expected PREFIX=package.module:attribute, e.g. /new=newsite:app")
    return prefix.strip(), target.strip()


def load(spec: str, **options: Any) -> Hub:
    """A :class:`Hub` from a site file or an import spec (see the module docs)."""
    path = spec.removeprefix("config:")
    filename = path.split("#", 1)[0]
    if filename.endswith(".wsgi"):
        return _as_hub(parse_deployment(filename), filename)
    if spec.startswith("config:") or filename.endswith((".ini", ".cfg")) or os.path.isfile(filename):
        return _load_ini(path, **options)
    if ":" not in spec:
        raise DeployError(
            f"site {spec!r}: expected a site file (site.ini, site.wsgi) or 'package.module:attribute'"
        )
    obj = import_object(spec, "site")
    if not isinstance(obj, Hub) and not _is_wsgi_app(obj) and callable(obj):
        try:
            obj = obj()
        except WsgihubError:
            raise
        except Exception as exc:
            raise DeployError(f"site {spec!r}: the factory raised {type(exc).__name__}: {_one_line(exc)}") from exc
    return _as_hub(obj, spec)


def _is_wsgi_app(obj: Any) -> bool:
    """A WSGI app takes (environ, start_response); a factory takes nothing."""
    import inspect

    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return True
    required = [p for p in params.values() if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(required) >= 2


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


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (configparser's span several)."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
