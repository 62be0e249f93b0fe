"""The pipeline descriptor: a ``.wsgi`` file naming factories, middleware first.

This is the "simpler pipeline descriptor" of the WSGI deployment proposal
discussed on Web-SIG in 2005: an INI file whose section headers name
factories and whose keys are the factories' keyword arguments.  The last
section builds the application; every section above it builds middleware
wrapped around what the sections below it built, so the file reads in the
order a request travels::

    #!/usr/bin/env -S wsgihub serve
    # site.wsgi: a request meets gzip first, then the app

    [myproject.middleware:make_gzip]
    level = 6

    [myproject.app:make_app]
    greeting = hello
    templates = %(here)s/templates

is ``make_gzip(make_app(greeting="hello", templates=...), level="6")``.

Section headers (the factory):

- ``package.module:factory`` (``factory`` may be a dotted attribute path),
  or the proposal's all-dots form ``package.module.factory``;
- ``egg:DISTRIBUTION#NAME`` (``#NAME`` defaults to ``main``): the entry
  point ``NAME`` of an installed distribution, looked up as PasteDeploy does
  (``paste.app_factory`` for the application, ``paste.filter_app_factory``
  then ``paste.filter_factory`` for middleware) and called with PasteDeploy's
  calling convention, so the adapters' ``egg:wsgihub-flask#app`` factories
  work here too;
- ``entry:GROUP:NAME``: the entry point ``NAME`` of group ``GROUP`` in any
  installed distribution; the ``paste.*`` groups above use PasteDeploy's
  convention, any other group the plain one.

The plain calling convention: middleware is ``factory(next_app, **keys)``,
the application ``factory(**keys)``.  Values are passed as **strings**,
stripped, exactly as written (no number or boolean conversion: a factory
converts what it needs); ``%(here)s`` becomes the descriptor's directory and
``%(__file__)s`` its absolute path.  Keys are case-sensitive Python
identifiers.  Lines starting with ``#`` or ``;`` are comments; an indented
line continues the value above it.

:func:`parse_deployment` returns the WSGI callable;
``wsgihub.load("site.wsgi")`` mounts it on a Hub at ``/``.  A descriptor is
served like any site, by ``wsgihub serve site.wsgi --port 8080``; make it
executable and its ``#!`` line (:data:`SHEBANG`) does that, and so does
``python -m wsgihub.pipeline site.wsgi [serve options]`` (the runner in
``wsgihub/pipeline/__main__.py``, which nothing imports).  Every mistake
raises :class:`~wsgihub.errors.DeployError` with one line naming the file,
line, section and key at fault.

This module is also the bottom of the deploy layer: the one importer of
``"module:attr"`` specs (:func:`import_object`, which puts the current
directory on ``sys.path``) and the one rule for app factories
(:func:`app_from`) live here, beside the descriptor whose sections are
import specs; :mod:`wsgihub.deploy` re-exports them.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any

from ..errors import DeployError, closest

if TYPE_CHECKING:
    from ..types import WSGIApplication

__all__ = [
    "Section",
    "app_from",
    "cwd_on_sys_path",
    "import_object",
    "is_app_factory",
    "parse_deployment",
    "read_descriptor",
]

#: Entry point groups tried for ``egg:`` headers, by role.
APP_GROUPS: tuple[str, ...] = ("paste.app_factory",)
MIDDLEWARE_GROUPS: tuple[str, ...] = ("paste.filter_app_factory", "paste.filter_factory")

#: The ``#!`` line that makes a descriptor executable: it is served by ``wsgihub serve``
#: (the same bus, drain, option checks and messages as any site).
SHEBANG = "#!/usr/bin/env -S wsgihub serve"


@dataclass
class Section:
    """One section of a descriptor: a factory header and its keyword arguments."""

    header: str
    line: int
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Factory:
    """A resolved section header: the object and how to call it."""

    obj: Any
    #: "plain", "paste.app_factory", "paste.filter_app_factory" or "paste.filter_factory"
    convention: str


class _Where:
    """Formats the one-line location prefix of an error."""

    def __init__(self, path: str, section: Section, key: str | None = None) -> None:
        self.path, self.section, self.key = path, section, key

    def __str__(self) -> str:
        line = self.section.lines.get(self.key, self.section.line) if self.key else self.section.line
        text = f"{self.path}:{line}: [{self.section.header}]"
        return f"{text} key {self.key!r}" if self.key else text


def _filename(path: object) -> str:
    """``path`` as a file name; :class:`DeployError` if it is not a path at all (``None``, a number)."""
    if not isinstance(path, (str, os.PathLike)):
        raise DeployError(f"pipeline descriptor must be a path (str or os.PathLike), not {path!r}")
    filename = os.fspath(path)
    if not isinstance(filename, str):
        raise DeployError(f"pipeline descriptor must be a str path, not {filename!r}")
    return filename


def read_descriptor(path: str | os.PathLike[str]) -> list[Section]:
    """The sections of the descriptor at ``path``, in file order (not yet resolved)."""
    filename = _filename(path)
    try:
        with open(filename, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise DeployError(f"pipeline descriptor {filename!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DeployError(f"pipeline descriptor {filename!r} cannot be read: {exc}") from exc
    here = os.path.dirname(os.path.abspath(filename))
    sections: list[Section] = []
    last_key: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            last_key = None
            continue
        if stripped.startswith(("#", ";")):
            continue
        if raw[0] in " \t" and last_key is not None and sections:
            current = sections[-1]
            current.values[last_key] += "\n" + _expand(stripped, here, filename)
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]") or not stripped[1:-1].strip():
                raise DeployError(f"{filename}:{number}: bad section header {stripped!r}: expected [factory]")
            sections.append(Section(stripped[1:-1].strip(), number))
            last_key = None
            continue
        cut = min((i for i in (stripped.find("="), stripped.find(":")) if i > 0), default=-1)
        if cut < 0:
            raise DeployError(f"{filename}:{number}: expected 'key = value' or '[factory]', got {stripped!r}")
        key, value = stripped[:cut].strip(), stripped[cut + 1 :].strip()
        if not sections:
            raise DeployError(f"{filename}:{number}: key {key!r} comes before any [factory] section")
        current = sections[-1]
        if not key.isidentifier():
            raise DeployError(
                f"{filename}:{number}: [{current.header}] key {key!r} is not a Python identifier "
                "(keys are keyword arguments)"
            )
        if key in current.values:
            raise DeployError(
                f"{filename}:{number}: [{current.header}] key {key!r} is given twice "
                f"(first on line {current.lines[key]})"
            )
        current.values[key] = _expand(value, here, filename)
        current.lines[key] = number
        last_key = key
    if not sections:
        raise DeployError(f"{filename}: no [factory] section: a pipeline needs at least an application")
    return sections


def _expand(value: str, here: str, filename: str) -> str:
    return value.replace("%(here)s", here).replace("%(__file__)s", os.path.abspath(filename))


def parse_deployment(path: str | os.PathLike[str]) -> WSGIApplication:
    """Build the WSGI application a pipeline descriptor describes.

    The last section's factory builds the application; each section above
    wraps middleware around it, bottom to top, so the first section is the
    outermost layer (the first a request meets).
    """
    filename = _filename(path)
    sections = read_descriptor(filename)
    cwd_on_sys_path()
    global_conf = {"__file__": os.path.abspath(filename), "here": os.path.dirname(os.path.abspath(filename))}
    app: Any = None
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        is_app = index == len(sections) - 1
        factory = _resolve(filename, section, is_app)
        app = _call(filename, section, factory, None if is_app else app, global_conf)
    return app  # type: ignore[no-any-return]


# -- resolving a header ---------------------------------------------------------------
def _resolve(path: str, section: Section, is_app: bool) -> _Factory:
    header = section.header
    where = _Where(path, section)
    if header.startswith("egg:"):
        return _resolve_egg(where, header[len("egg:") :], is_app)
    if header.startswith("entry:"):
        group, sep, name = header[len("entry:") :].partition(":")
        if not sep or not group or not name:
            raise DeployError(f"{where}: expected [entry:GROUP:NAME]")
        found = [ep for ep in metadata.entry_points(group=group) if ep.name == name]
        if not found:
            names = sorted({ep.name for ep in metadata.entry_points(group=group)})
            raise DeployError(f"{where}: no installed entry point {name!r} in group {group!r}{closest(name, names)}")
        if group == "paste.composite_factory":
            raise DeployError(f"{where}: composite factories need PasteDeploy's loader: use a site.ini")
        convention = group if group in APP_GROUPS + MIDDLEWARE_GROUPS else "plain"
        _check_role(where, convention, is_app)
        return _Factory(_load_entry_point(where, found[0]), convention)
    return _Factory(_import(where, header), "plain")


def _resolve_egg(where: _Where, spec: str, is_app: bool) -> _Factory:
    dist_name, _, name = spec.partition("#")
    dist_name, name = dist_name.strip(), (name.strip() or "main")
    if not dist_name:
        raise DeployError(f"{where}: expected [egg:DISTRIBUTION#NAME]")
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        raise DeployError(f"{where}: distribution {dist_name!r} is not installed") from None
    groups = APP_GROUPS if is_app else MIDDLEWARE_GROUPS
    for group in groups:
        for ep in dist.entry_points:
            if ep.group == group and ep.name == name:
                return _Factory(_load_entry_point(where, ep), group)
    role = "application" if is_app else "middleware"
    offered = sorted({ep.name for ep in dist.entry_points if ep.group in groups})
    other = APP_GROUPS + MIDDLEWARE_GROUPS
    wrong_place = any(ep.name == name and ep.group in other for ep in dist.entry_points)
    hint = " (it is there for the other role: only the last section is the application)" if wrong_place else ""
    raise DeployError(
        f"{where}: distribution {dist.name!r} has no {role} factory {name!r} "
        f"in {' or '.join(groups)}{hint}{closest(name, offered)}"
    )


def _check_role(where: _Where, convention: str, is_app: bool) -> None:
    if is_app and convention in MIDDLEWARE_GROUPS:
        raise DeployError(f"{where}: a {convention} entry point is middleware, but the last section is the application")
    if not is_app and convention in APP_GROUPS:
        raise DeployError(
            f"{where}: a {convention} entry point builds an application, but only the last section is the application"
        )


def _load_entry_point(where: _Where, ep: metadata.EntryPoint) -> Any:
    try:
        return ep.load()
    except Exception as exc:
        raise DeployError(f"{where}: entry point {ep.value!r} failed to load: {type(exc).__name__}: {exc}") from exc


def _import(where: _Where, header: str) -> Any:
    """``package.module:attr.sub`` or ``package.module.attr`` (the proposal's all-dots form)."""
    if not _valid_header(header):
        raise DeployError(
            f"{where}: bad section header: expected [package.module:factory], [egg:DIST#NAME] or [entry:GROUP:NAME]"
        )
    return import_object(header, str(where), dotted=True)


def _valid_header(header: str) -> bool:
    module_name, sep, attr = header.partition(":")
    parts = module_name.split(".") + (attr.split(".") if sep else [])
    return all(p.strip().isidentifier() for p in parts) and (bool(sep) or len(parts) > 1)


# -- importing "module:attr" ------------------------------------------------------------
def cwd_on_sys_path() -> None:
    """Put the current directory first on ``sys.path`` unless it is there already.

    This is what ``python -m``, gunicorn, uvicorn and ``flask run`` do, so a
    project run from its own folder imports (``legacy.wsgi:application``,
    ``legacy.settings``) without ``PYTHONPATH``.  The ``wsgihub`` console
    script does not get it from Python (its ``sys.path[0]`` is the script's
    directory), hence this step in every loader.
    """
    cwd = os.getcwd()
    if not any(entry in ("", ".", cwd) for entry in sys.path):
        sys.path.insert(0, cwd)


def import_object(spec: str, what: str | None = None, *, dotted: bool = False) -> Any:
    """Import ``package.module:attr.sub``: the one importer behind every import spec.

    ``what`` names the spec in errors (``"--mount /x=mod:app"``,
    ``"site.wsgi:3: [mod:make]"``; default: the spec itself).  With
    ``dotted`` the all-dots form ``package.module.attr`` is accepted too (the
    longest importable module wins; ``package.module`` alone is the module).  The current directory is put on
    ``sys.path`` first (:func:`cwd_on_sys_path`).  Every failure, including
    the imported module raising, is one :class:`DeployError` line naming
    ``what``; the original exception is chained.
    """
    label = what if what is not None else repr(spec)
    module_name, sep, attr = spec.strip().partition(":")
    module_name, attr = module_name.strip(), attr.strip()
    if sep:
        candidates = [(module_name, attr)] if module_name and attr else []
    elif dotted:
        parts = module_name.split(".")
        candidates = [(".".join(parts[:i]), ".".join(parts[i:])) for i in range(len(parts), 0, -1)]
    else:
        candidates = []
    if not candidates or not all(p.isidentifier() for p in ".".join(filter(None, candidates[0])).split(".")):
        form = "'package.module:attribute' or 'package.module.attribute'" if dotted else "'package.module:attribute'"
        raise DeployError(f"{label}: expected {form}")
    cwd_on_sys_path()
    missing: ModuleNotFoundError | None = None
    for module_name, attr in candidates:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                missing = missing or exc
                continue  # the module itself is absent: try a shorter module path
            raise DeployError(f"{label}: importing {module_name!r} failed: {type(exc).__name__}: {_one_line(exc)}") from exc
        except Exception as exc:  # the module itself is broken: still one line (--debug shows it)
            raise DeployError(f"{label}: importing {module_name!r} failed: {type(exc).__name__}: {_one_line(exc)}") from exc
        obj: Any = module
        for part in attr.split(".") if attr else ():
            try:
                obj = getattr(obj, part)
            except AttributeError:
                names = [n for n in dir(obj) if not n.startswith("_")]
                raise DeployError(
                    f"{label}: module {module_name!r} has no attribute {attr!r}{closest(part, names)}"
                ) from None
            except Exception as exc:  # a lazy attribute (module __getattr__, a proxy) raised
                raise DeployError(
                    f"{label}: getting {attr!r} from {module_name!r} failed: {type(exc).__name__}: {_one_line(exc)}"
                ) from exc
        return obj
    raise DeployError(f"{label}: cannot import {candidates[0][0]!r}: {missing}") from missing


def is_app_factory(obj: Any) -> bool:
    """Whether ``obj`` is an app factory: a callable that takes no required positional argument.

    A WSGI application takes ``(environ, start_response)``: a Flask, Django
    or Pyramid app object, a plain function, a class whose instances are the
    response.  A factory (``create_app()``) takes nothing.  Callables whose
    signature cannot be read, or that take ``*args``, count as applications.
    """
    return _required_positional(obj) == 0


def _required_positional(obj: Any) -> int | None:
    """How many positional arguments ``obj`` requires (``None``: unknown or ``*args``)."""
    if not callable(obj):
        return None
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def app_from(obj: Any, what: str) -> Any:
    """The application ``obj`` names: ``obj`` itself, or what the app factory ``obj`` returns.

    The one rule every loader applies (a site ``module:attr``, ``--mount``,
    the adapters' ``app =`` keys): an app factory (:func:`is_app_factory`) is
    called with no arguments; a callable taking ``(environ,
    start_response)`` -- a Hub, a Flask, Django or Pyramid app, any WSGI
    callable -- is the application, and so is an ASGI application taking
    ``(scope, receive, send)`` (Starlette, FastAPI: the hub serves it
    through its adapter's bridge).  Anything else (not callable, another
    number of required arguments, a factory that raises or returns no
    application) is one :class:`DeployError` line naming ``what``.
    """
    required = _required_positional(obj)
    if not callable(obj):
        raise DeployError(f"{what}: {_short_repr(obj)} is neither a Hub nor a WSGI application")
    if required not in (0, None, 2, 3):
        raise DeployError(
            f"{what}: {_short_repr(obj)} takes {required} required argument{'s' if required != 1 else ''}: "
            "neither a WSGI application (environ, start_response) nor an app factory (no arguments)"
        )
    if required != 0:
        return obj
    try:
        app = obj()
    except DeployError:
        raise
    except Exception as exc:
        raise DeployError(f"{what}: the factory raised {type(exc).__name__}: {_one_line(exc)}") from exc
    if not callable(app) or is_app_factory(app):
        kind = "another factory" if callable(app) else _short_repr(app)
        raise DeployError(f"{what}: the factory returned {kind}, not a WSGI application")
    return app


def _short_repr(obj: Any) -> str:
    """A function or class by name (no memory address), anything else by a short repr."""
    if isinstance(obj, type) or inspect.isroutine(obj):
        return repr(getattr(obj, "__qualname__", obj))
    text = repr(obj)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (configparser's and Flask's span several)."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())


# -- calling a factory ---------------------------------------------------------------
def _call(
    path: str, section: Section, factory: _Factory, next_app: Any, global_conf: dict[str, str]
) -> Any:
    where = _Where(path, section)
    obj, convention = factory.obj, factory.convention
    if not callable(obj):
        raise DeployError(f"{where}: {obj!r} is not callable (a section names a factory)")
    if convention == "paste.app_factory":
        args: tuple[Any, ...] = (dict(global_conf),)
    elif convention == "paste.filter_app_factory":
        args = (next_app, dict(global_conf))
    elif convention == "paste.filter_factory":
        args = (dict(global_conf),)
    else:
        args = () if next_app is None else (next_app,)
    _check_signature(path, section, obj, args, next_app is not None and convention == "plain")
    try:
        result = obj(*args, **section.values)
        if convention == "paste.filter_factory":
            result = result(next_app)
    except Exception as exc:
        raise DeployError(f"{where}: the factory raised {type(exc).__name__}: {exc}") from exc
    if not callable(result):
        raise DeployError(f"{where}: the factory returned {result!r}, not a WSGI application")
    return result


def _check_signature(path: str, section: Section, obj: Any, args: tuple[Any, ...], middleware: bool) -> None:
    """Refuse keys the factory does not take, naming the first such key."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return  # a builtin without a signature: let the call decide
    try:
        sig.bind(*args, **section.values)
        return
    except TypeError as exc:
        problem = str(exc)
    params = sig.parameters
    names = list(params)
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    accepted = [
        n for i, (n, p) in enumerate(params.items())
        if i >= len(args) and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    if not takes_any:
        for key in section.values:
            if key not in accepted:
                taken = " (that is the next application's place)" if key in names else ""
                raise DeployError(
                    f"{_Where(path, section, key)}: the factory takes no such argument{taken}"
                    f"{closest(key, accepted)} (it takes: {', '.join(accepted) or 'no keys'})"
                )
    positional = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes_varargs = any(p.kind is p.VAR_POSITIONAL for p in params.values())
    if middleware and not positional and not takes_varargs:
        raise DeployError(
            f"{_Where(path, section)}: the factory takes no next application: only the last "
            "section is the application, every section above it is middleware"
        )
    required = [
        n
        for i, (n, p) in enumerate(params.items())
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and i >= len(args)
        and n not in section.values
    ]
    if required:
        hint = ""
        if not args and names and required[0] == names[0]:
            hint = " (is it middleware? only the last section is the application)"
        raise DeployError(f"{_Where(path, section)}: missing required key {required[0]!r}{hint}")
    raise DeployError(f"{_Where(path, section)}: cannot call the factory: {problem}")
