"""Every exception wsgihub raises, in one tree.

Catch :class:`WsgihubError` to catch them all; catch a branch to catch one
kind of trouble.  Each error's message is one line that names the thing at
fault (the mount, the endpoint, the file and section, the plugin), so a CLI
can print it as is::

    WsgihubError
     ├── ConfigError            bad input: a mount spec, a site file, an option
     │    ├── MountError        a prefix, name or app that cannot be mounted
     │    └── DeployError       a site file (INI / pipeline descriptor) at fault
     ├── PluginError            a plugin that cannot be loaded or is invalid
     ├── AdapterError           an adapter cannot do what was asked
     │    └── NoAdapterError    no plugin recognises the app on that mount
     ├── URLBuildError          a URL cannot be built (also a LookupError)
     │    ├── UnknownMountError     no mount of that name
     │    └── UnknownEndpointError  the mount has no such endpoint
     ├── UntrustedHostError     an absolute URL would use an untrusted Host
     ├── PartylineException     the partyline (same name as in wsgi_party)
     │    ├── HighAndDry        a handler has no answer: skip it
     │    ├── NoSuchServiceName nobody connected to that service
     │    ├── HandlerError      a handler raised; names participant and service
     │    └── InviteError       a wsgi_party invite request failed
     ├── BusError               the process bus cannot do what was asked
     └── ServeError             a server cannot start (port in use, ...)

    MountWarning (a UserWarning)  works, but will surprise: shadowed routes,
                                  colliding session cookies, ...

The bus's :class:`wsgihub.bus.ChannelFailures` keeps wspbus's own base class
(``Exception``) so that code written for CherryPy catches it unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches

__all__ = [
    "AdapterError",
    "BusError",
    "ConfigError",
    "DeployError",
    "HandlerError",
    "HighAndDry",
    "InviteError",
    "MountError",
    "MountWarning",
    "NoAdapterError",
    "NoSuchServiceName",
    "PartylineException",
    "PluginError",
    "ServeError",
    "URLBuildError",
    "UnknownEndpointError",
    "UnknownMountError",
    "UntrustedHostError",
    "WsgihubError",
    "closest",
]


class WsgihubError(Exception):
    """Root of every error wsgihub raises on purpose."""


class ConfigError(WsgihubError, ValueError):
    """Bad input: the message names the file, section, key or option at fault."""


class MountError(ConfigError):
    """A prefix, name or application that cannot be mounted.

    ``mount`` is the name (or prefix) of the mount at fault.
    """

    def __init__(self, message: str, mount: str | None = None) -> None:
        super().__init__(message)
        self.mount = mount


class DeployError(ConfigError):
    """A site file (PasteDeploy INI or pipeline descriptor) that cannot be used."""


class PluginError(WsgihubError):
    """A plugin that cannot be loaded or that implements an unknown hook.

    ``plugin`` is the plugin's entry-point or registration name.
    """

    def __init__(self, message: str, plugin: str | None = None) -> None:
        super().__init__(message)
        self.plugin = plugin


class AdapterError(WsgihubError):
    """An adapter cannot do what was asked for an app."""


class NoAdapterError(AdapterError):
    """No installed plugin recognises the application on a mount."""

    def __init__(self, message: str, mount: str | None = None) -> None:
        super().__init__(message)
        self.mount = mount


class URLBuildError(WsgihubError, LookupError):
    """A URL cannot be built: unknown endpoint, missing values, ..."""

    def __init__(self, message: str, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint

    def __str__(self) -> str:  # LookupError would repr() a single argument
        return str(self.args[0]) if self.args else ""


class UnknownMountError(URLBuildError):
    """An endpoint names a mount the hub does not have."""


class UnknownEndpointError(URLBuildError):
    """The mount exists but its app has no such endpoint."""


class UntrustedHostError(WsgihubError):
    """An absolute URL would use a Host header that is not trusted."""


class PartylineException(WsgihubError):
    """Base class of partyline errors (the name wsgi_party uses)."""


class HighAndDry(PartylineException):
    """A handler raises this when it has no answer; the partyline skips it."""


class NoSuchServiceName(PartylineException):
    """Nobody connected a handler for the service that was asked for."""


class HandlerError(PartylineException):
    """A partyline handler raised; the original exception is chained.

    ``participant`` is the name of the participant that connected the
    handler (or ``None``), ``service`` the service that was asked.
    """

    def __init__(self, message: str, participant: str | None, service: str) -> None:
        super().__init__(message)
        self.participant = participant
        self.service = service


class InviteError(PartylineException):
    """A wsgi_party invitation request did not answer 2xx."""

    def __init__(self, message: str, mount: str | None = None) -> None:
        super().__init__(message)
        self.mount = mount


class BusError(WsgihubError):
    """The process bus cannot do what was asked."""


class ServeError(WsgihubError):
    """A server cannot be started (address in use, bad option, ...)."""


class MountWarning(UserWarning):
    """A mount that works but will surprise (shadowed routes, cookie collisions)."""


def closest(word: str, choices: Iterable[str], n: int = 3) -> str:
    """Return ``" (did you mean 'a', 'b'?)"`` for the closest choices, or ``""``."""
    matches = get_close_matches(word, list(choices), n=n, cutoff=0.5)
    if not matches:
        return ""
    return " (did you mean " + ", ".join(repr(m) for m in matches) + "?)"
