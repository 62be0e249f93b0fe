"""Loading plugins: built-ins, then the ``wsgihub`` entry point group.

Nothing happens at import time.  :func:`make_plugins` builds a plugin
manager explicitly::

    plugins = make_plugins()                       # built-ins + installed plugins
    plugins = make_plugins(autoload=False)         # built-ins only
    plugins = make_plugins(block=["wsgihub-flask"])  # all but one

Autoload is off when the environment variable
``WSGIHUB_DISABLE_PLUGIN_AUTOLOAD`` is set to anything but ``""``/``0``;
``WSGIHUB_BLOCK_PLUGINS`` is a comma-separated list of plugin names to
skip.  A plugin that fails to import or implements an unknown hook raises
:class:`~wsgihub.PluginError` naming its entry point and distribution.

:class:`Plugins` wraps the manager with one typed method per hook call, so
every call site in the core is type-checked (tox does the same).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .errors import PluginError, closest

if TYPE_CHECKING:
    from .adapter import Adapter
    from .board import Peg
    from .hub import Hub
    from .partyline import PartylineOperator
    from .types import WSGIApplication

__all__ = [
    "BLOCK_ENV",
    "BUILTIN_PLUGINS",
    "DISABLE_AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "Plugins",
    "make_plugins",
]

ENTRY_POINT_GROUP = hookspecs.PROJECT
DISABLE_AUTOLOAD_ENV = "WSGIHUB_DISABLE_PLUGIN_AUTOLOAD"
BLOCK_ENV = "WSGIHUB_BLOCK_PLUGINS"

#: Modules registered first, under these names, by every plugin manager.
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("wsgihub.builtins", "wsgihub.builtins"),
)


@dataclass(frozen=True)
class PluginInfo:
    """What ``wsgihub plugins`` shows for one plugin."""

    name: str
    hooks: list[str]
    distribution: str | None = None
    version: str | None = None
    builtin: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "builtin": self.builtin,
            "hooks": self.hooks,
        }


class Plugins:
    """A pluggy manager for the ``wsgihub`` hooks, with typed hook calls."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.manager = manager
        self._dists: dict[str, metadata.Distribution] = {}
        self._builtin: set[str] = set()

    # -- registration -----------------------------------------------------
    def register(self, plugin: object, name: str | None = None) -> str:
        """Register ``plugin`` (a module or object with hook impls); return its name."""
        return self._register(plugin, name)

    def _register(self, plugin: object, name: str | None, where: str = "") -> str:
        """:meth:`register`; ``where`` (`` (distribution d 1.0)``) follows the name in errors."""
        label = f"{name or plugin!r}{where}" if name is None else f"{name!r}{where}"
        try:
            registered = self.manager.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(f"plugin {label} cannot be registered: {exc}", name) from exc
        if registered is None:
            raise PluginError(f"plugin {label} is blocked", name)
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as exc:
            unknown = [h.name for h in self.manager.get_hookcallers(plugin) or () if not h.has_spec()]
            self.manager.unregister(plugin)
            known = [n for n in vars(hookspecs) if n.startswith(f"{hookspecs.PROJECT}_")]
            hint = closest(unknown[0], known, n=1) if unknown else ""
            label = f"{registered!r}{where}"
            raise PluginError(f"plugin {label} is invalid: {exc}{hint}", registered) from exc
        return registered

    def unregister(self, plugin: object | None = None, name: str | None = None) -> None:
        """Take a plugin off (by object or name)."""
        self.manager.unregister(plugin, name)

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> list[str]:
        """Load every entry point of ``group`` not blocked; return their names.

        A name claimed by entry points of two distributions is refused
        (:class:`~wsgihub.PluginError` naming both) before anything loads:
        pluggy keeps one plugin per name, so one of them would be dropped
        silently, and a package naming its plugin ``flask`` would replace
        the Flask adapter.  Blocking the name (``WSGIHUB_BLOCK_PLUGINS``)
        skips both.
        """
        entry_points = [
            ep
            for ep in metadata.entry_points(group=group)
            if not self.manager.is_blocked(ep.name) and not self.manager.has_plugin(ep.name)
        ]
        _refuse_shared_names(entry_points)
        loaded: list[str] = []
        for ep in entry_points:
            dist = getattr(ep, "dist", None)
            where = f" (distribution {dist.name} {dist.version})" if dist is not None else ""
            try:
                plugin = ep.load()
            except Exception as exc:
                raise PluginError(
                    f"plugin {ep.name!r}{where}: entry point {ep.value!r} failed to load: "
                    f"{type(exc).__name__}: {exc}",
                    ep.name,
                ) from exc
            self._register(plugin, ep.name, where)
            if dist is not None:
                self._dists[ep.name] = dist
            loaded.append(ep.name)
        return loaded

    def block(self, name: str) -> None:
        """Never register a plugin of this name (unregisters it if present)."""
        self.manager.set_blocked(name)

    def info(self) -> list[PluginInfo]:
        """Name, distribution, version and implemented hooks of every plugin."""
        out: list[PluginInfo] = []
        for name, plugin in self.manager.list_name_plugin():
            if plugin is None:
                continue
            hooks = sorted(h.name for h in self.manager.get_hookcallers(plugin) or ())
            dist = self._dists.get(name)
            out.append(
                PluginInfo(
                    name=name,
                    hooks=hooks,
                    distribution=dist.name if dist is not None else None,
                    version=dist.version if dist is not None else None,
                    builtin=name in self._builtin,
                )
            )
        return out

    # -- typed hook calls ---------------------------------------------------
    @property
    def hook(self) -> Any:
        return self.manager.hook

    def adapter(
        self, app: WSGIApplication, layers: Sequence[object], framework: str | None
    ) -> Adapter | None:
        found: Adapter | None = self.manager.hook.wsgihub_adapter(
            app=app, layers=layers, framework=framework
        )
        return found

    def unwrap(self, obj: object) -> list[Iterable[object] | None]:
        inners: list[Iterable[object] | None] = self.manager.hook.wsgihub_unwrap(obj=obj)
        return inners

    def submounts(
        self, app: WSGIApplication, layers: Sequence[object]
    ) -> tuple[WSGIApplication, Mapping[str, WSGIApplication]] | None:
        split: tuple[WSGIApplication, Mapping[str, WSGIApplication]] | None
        split = self.manager.hook.wsgihub_submounts(app=app, layers=layers)
        return split

    def invite(self, hub: Hub, peg: Peg, operator: PartylineOperator) -> None:
        self.manager.hook.wsgihub_invite(hub=hub, peg=peg, operator=operator)

    def lifecycle(self, event: str, hub: Hub) -> None:
        """Call ``wsgihub_<event>(hub=hub)`` for start, stop, graceful, exit."""
        getattr(self.manager.hook, f"wsgihub_{event}")(hub=hub)

    def has_observers(self, hook: str) -> bool:
        """Whether any plugin implements ``hook`` (so callers can skip the call)."""
        return bool(getattr(self.manager.hook, hook).get_hookimpls())


def _refuse_shared_names(entry_points: Iterable[metadata.EntryPoint]) -> None:
    """:class:`~wsgihub.PluginError` if two distributions' entry points have one name."""
    claims: dict[str, dict[str, str]] = {}
    for ep in entry_points:
        dist = getattr(ep, "dist", None)
        label = f"{dist.name} {dist.version}" if dist is not None else f"entry point {ep.value!r}"
        key = dist.name if dist is not None else ep.value
        claims.setdefault(ep.name, {}).setdefault(key, label)
    for name, dists in claims.items():
        if len(dists) > 1:
            both = " and ".join(f"distribution {label}" for label in sorted(dists.values()))
            raise PluginError(
                f"plugin {name!r} is claimed by {both}: uninstall one, or block the name "
                f"({BLOCK_ENV}={name} blocks both)",
                name,
            )


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def make_plugins(
    *,
    autoload: bool | None = None,
    block: Iterable[str] = (),
    plugins: Iterable[object] = (),
) -> Plugins:
    """Build a :class:`Plugins` manager with the built-ins and installed plugins.

    ``autoload=None`` follows ``WSGIHUB_DISABLE_PLUGIN_AUTOLOAD``; ``block``
    adds to ``WSGIHUB_BLOCK_PLUGINS``; ``plugins`` are extra plugin objects
    registered after the built-ins (useful in tests and embedding).
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    result = Plugins(manager)
    blocked = {b.strip() for b in os.environ.get(BLOCK_ENV, "").split(",") if b.strip()}
    blocked.update(block)
    for name in blocked:
        result.block(name)
    for module_name, name in BUILTIN_PLUGINS:
        if name in blocked:
            continue
        result.register(importlib.import_module(module_name), name=name)
        result._builtin.add(name)
    for plugin in plugins:
        result.register(plugin)
    if autoload is None:
        autoload = not _env_flag(DISABLE_AUTOLOAD_ENV)
    if autoload:
        result.load_entry_points()
    return result
