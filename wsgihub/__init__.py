"""wsgihub: run apps of different WSGI frameworks as one cooperating site.

::

    import wsgihub
    hub = wsgihub.Hub(trusted_hosts=["example.com"])
    hub.mount("/", legacy_django_app, name="legacy")
    hub.mount("/new", flask_app)
    hub.url_for("new:user", uid=5)        # '/new/users/5'
    application = hub                     # any WSGI server

See ``docs/`` for the tutorial, the board, the partyline and the hooks.
"""

from __future__ import annotations

import logging as _logging
from collections.abc import Sequence

from .adapter import Adapter, AppRoute, Cookie
from .board import Peg, Pegboard, PegboardApplication
from .current import find_hub
from .errors import (
    HighAndDry,
    MountError,
    MountWarning,
    NoSuchServiceName,
    PartylineException,
    URLBuildError,
    WsgihubError,
)
from .hookspecs import hookimpl, hookspec
from .hub import Hub, Route, current_hub, url_for
from .partyline import Partyline, PartylineOperator
from .urls import Origin

__version__ = "0.1.0"

# A library logs; the application decides where it goes (no lastResort output).
_logging.getLogger("wsgihub").addHandler(_logging.NullHandler())

__all__ = [
    "Adapter",
    "AppRoute",
    "Cookie",
    "HighAndDry",
    "Hub",
    "MountError",
    "MountWarning",
    "NoSuchServiceName",
    "Origin",
    "Partyline",
    "PartylineException",
    "PartylineOperator",
    "Peg",
    "Pegboard",
    "PegboardApplication",
    "Route",
    "URLBuildError",
    "WsgihubError",
    "current_hub",
    "find_hub",
    "hookimpl",
    "hookspec",
    "load",
    "url_for",
]


#: Submodules reachable as attributes without importing them up front.
_LAZY_SUBMODULES = frozenset(
    {"bus", "compat", "contrib", "deploy", "identity", "pipeline", "process", "servers", "cli"}
)


def __getattr__(name: str) -> object:
    """``wsgihub.bus``, ``wsgihub.deploy``, ... imported on first use."""
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'wsgihub' has no attribute {name!r}")


def load(site: str | None = None, *, mounts: Sequence[str] = (), **options: object) -> Hub:
    """A hub from a site (``"config:site.ini"``, ``site.wsgi``, ``"module:attr"``) and/or ``mounts``.

    The same loader as :func:`wsgihub.deploy.load` (imported on first use).
    """
    from .deploy import load as _load

    return _load(site, mounts=mounts, **options)
