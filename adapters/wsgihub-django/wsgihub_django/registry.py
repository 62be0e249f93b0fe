"""Which hubs mounted Django in this process, and with which settings module.

Django reads one settings module per process, so what this records is
process-wide: every Django mount of every hub, the settings module it
runs with, and the settings module each ``WSGIHandler`` was created for.
Hubs and pegs are held weakly; an unmount forgets its record.  Nothing
here imports Django.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wsgihub import Hub, Peg

__all__ = [
    "DjangoMount",
    "forget",
    "handler_module",
    "latest_hub",
    "mounts",
    "remember",
    "tag_handler",
]


@dataclass(frozen=True, slots=True)
class DjangoMount:
    """One Django app hung on a hub."""

    hub: weakref.ReferenceType[Hub]
    peg: weakref.ReferenceType[Peg]
    name: str
    prefix: str
    settings_module: str | None

    def describe(self) -> str:
        """``mount 'legacy' at '/legacy' of hub 'wsgihub'``."""
        hub = self.hub()
        where = f" of hub {hub.name!r}" if hub is not None else ""
        return f"mount {self.name!r} at {self.prefix or '/'!r}{where}"

    def alive(self) -> bool:
        return self.hub() is not None and self.peg() is not None


_lock = threading.Lock()
_mounts: list[DjangoMount] = []
_handlers: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def remember(hub: Hub, peg: Peg, settings_module: str | None) -> DjangoMount:
    """Record that ``peg`` of ``hub`` runs Django with ``settings_module``."""
    record = DjangoMount(weakref.ref(hub), weakref.ref(peg), peg.name, peg.prefix, settings_module)
    with _lock:
        _mounts[:] = [m for m in _mounts if m.alive()]
        _mounts.append(record)
    return record


def forget(peg: Peg) -> None:
    """Drop the record of ``peg`` (and of every mount whose hub is gone)."""
    with _lock:
        _mounts[:] = [m for m in _mounts if m.alive() and m.peg() is not peg]


def mounts() -> list[DjangoMount]:
    """Live Django mounts of every hub, oldest first."""
    with _lock:
        return [m for m in _mounts if m.alive()]


def latest_hub() -> Hub | None:
    """The hub that mounted Django last (still alive), or ``None``."""
    for record in reversed(mounts()):
        hub = record.hub()
        if hub is not None:
            return hub
    return None


def tag_handler(handler: object, settings_module: str) -> None:
    """Remember that ``handler`` was created for ``settings_module``."""
    try:
        _handlers[handler] = settings_module
    except TypeError:  # not weak-referenceable: nothing to remember it by
        pass


def handler_module(handler: object) -> str | None:
    """The settings module ``handler`` was created or first mounted for."""
    try:
        return _handlers.get(handler)
    except TypeError:
        return None
