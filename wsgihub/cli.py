"""The ``wsgihub`` command: serve | routes | url | check | plugins.

Every command that needs a site takes ``SITE`` (a site file ``site.ini``,
``config:site.ini#name``, a pipeline descriptor ``site.wsgi``, or
``package.module:hub``) and/or ``--mount PREFIX=package.module:app``
(repeatable)::

    wsgihub routes site.ini --json
    wsgihub url site.ini new:user uid=5          # or: -e new:user
    wsgihub check --mount /=legacy.wsgi:application --mount /new=newsite:app
    wsgihub serve site.ini --workers 4

Bad input -- a usage error, a site that cannot be built, an argument out of
place -- gives one line on stderr, ``wsgihub: error: ...``, and exit code 2;
a site that works but will surprise gives one ``wsgihub: warning: ...`` line
per problem.  ``--debug`` (before or after the command) shows the
traceback instead.  :func:`main` takes ``argv`` and returns the exit code,
so the CLI is testable without a subprocess.

This module holds click commands only and nothing in wsgihub imports it:
the site is loaded by :mod:`wsgihub.deploy`, ``serve`` runs
:func:`wsgihub.serve.run`.  What a run of the CLI needs to remember (the
``--debug`` flag) travels in click's context object, a :class:`CliState`,
as flask's ``ScriptInfo`` does -- not in module globals.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from .checks import LEVELS, level_at_least
from .deploy import load
from .errors import ConfigError, WsgihubError
from .plugins import make_plugins
from .serve import ServeOption, run, serve_options
from .servers import mount_warnings

if TYPE_CHECKING:
    from .grafts import GraftReport
    from .hub import Hub

__all__ = ["CliState", "cli", "main", "site_options"]

#: Exit code for bad input (a usage error, as click uses).
EXIT_BAD_INPUT = 2


@dataclass
class CliState:
    """What one run of the CLI carries from option parsing to error reporting.

    :func:`main` makes one and hands it to click as the context object;
    ``--debug`` (before or after the command) sets :attr:`debug`, and
    :func:`main` reads it when a :class:`WsgihubError` arrives.
    """

    #: Show tracebacks instead of one-line errors.
    debug: bool = False


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(CliState).debug = True


def debug_option(func: Any) -> Any:
    """``--debug`` on the group and on every command (``wsgihub routes ... --debug``)."""
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        callback=_set_debug,
        help="Show tracebacks for errors.",
    )(func)


def site_options(func: Any) -> Any:
    """Add ``SITE`` and ``--mount`` to a command."""
    func = click.option(
        "--mount",
        "mounts",
        multiple=True,
        metavar="PREFIX=MODULE:ATTR",
        help="Mount an app (repeatable), e.g. --mount /new=newsite:app",
    )(func)
    return click.argument("site", required=False)(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@debug_option
@click.version_option(package_name="wsgihub")
def cli() -> None:
    """Run apps of different WSGI frameworks as one site."""


@cli.command()
@debug_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--all", "show_all", is_flag=True, help="Include built-in plugins.")
def plugins(as_json: bool, show_all: bool) -> None:
    """List installed plugins: name, version, distribution and hooks."""
    infos = [i for i in make_plugins().info() if show_all or not i.builtin]
    if as_json:
        click.echo(json.dumps([i.as_dict() for i in infos], indent=2))
        return
    if not infos:
        click.echo("no plugins installed")
    for info in infos:
        dist = f"{info.distribution} {info.version}" if info.distribution else "built-in"
        click.echo(f"{info.name} ({dist})")
        click.echo(f"    hooks: {', '.join(info.hooks)}")


def _load(site: str | None, mounts: Sequence[str], *, show_warnings: bool = True) -> Hub:
    """The hub for SITE and ``--mount`` (:func:`wsgihub.deploy.load`).

    Each :class:`~wsgihub.errors.MountWarning` is printed once as
    ``wsgihub: warning: ...`` (``warnings`` would print two lines pointing
    into wsgihub's own source), or dropped where the command reports the
    same problems itself (``check``).
    """
    with mount_warnings() as found:
        hub = load(site, mounts=mounts)
    if show_warnings:
        for message in found:
            click.echo(f"wsgihub: warning: {message}", err=True)
    return hub


@cli.command()
@debug_option
@site_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--grafts", "show_grafts", is_flag=True, help="The migration report: what each graft takes, adds, leaves.")
def routes(site: str | None, mounts: tuple[str, ...], as_json: bool, show_grafts: bool) -> None:
    """List every route of the site: name, methods, rule, framework, and the graft taking it.

    With --json each route has "name" (mount:endpoint, what url takes),
    "mount", "endpoint" (the framework's own name, null if none), "rule",
    "methods" (null: any), "framework", "grafted" and "taken_by" (the graft
    routes that take all or part of it: [{"name", "overlap"}]).  With
    --grafts: the migration report, per graft (see docs/grafts.md).
    """
    hub = _load(site, mounts)
    reports = hub.graft_report()
    if show_grafts:
        _graft_report(reports, as_json)
        return
    table = hub.routes()
    taken_by: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for report in reports:
        for takeover in [*report.takes, *report.partial]:
            taken_by.setdefault((takeover.taken.name, takeover.taken.rule), []).append(
                (takeover.route.name, takeover.overlap)
            )
    if as_json:
        rows = [
            {
                "name": r.name,
                "mount": r.mount,
                "endpoint": r.endpoint,
                "rule": r.rule,
                "methods": sorted(r.methods) if r.methods is not None else None,
                "framework": r.framework,
                "grafted": r.grafted,
                "taken_by": [{"name": n, "overlap": o} for n, o in taken_by.get((r.name, r.rule), [])],
            }
            for r in table
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    rows_text = [
        (
            r.name,
            ",".join(sorted(r.methods)) if r.methods else "*",
            r.rule,
            (r.framework or "wsgi") + (" (graft)" if r.grafted else ""),
            ", ".join(n + (" (part)" if o != "takes" else "") for n, o in taken_by.get((r.name, r.rule), [])),
        )
        for r in table
    ]
    headers = ("NAME", "METHODS", "RULE", "FRAMEWORK", "TAKEN BY" if taken_by else "")
    widths = [max([len(h)] + [len(row[i]) for row in rows_text]) for i, h in enumerate(headers)]
    for row in [headers, *rows_text]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def _graft_report(reports: Sequence[GraftReport], as_json: bool) -> None:
    """``wsgihub routes --grafts``: per graft, what it takes, adds and leaves, then a summary line."""
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in reports], indent=2))
        return
    if not reports:
        click.echo("no grafts")
    for report in reports:
        scope = []
        if report.sharing.only:
            scope.append("only " + " ".join(report.sharing.only))
        if report.sharing.exclude:
            scope.append("exclude " + " ".join(report.sharing.exclude))
        if not report.sharing.fall_through:
            scope.append("no fall-through")
        click.echo(f"graft {report.graft} over {report.over}" + (f" ({'; '.join(scope)})" if scope else ""))
        sections = [
            ("takes", [t.message for t in report.takes]),
            ("takes part of", [t.message for t in report.partial]),
            ("adds", [f"{r.name} {r.rule}" for r in report.adds]),
            ("leaves beneath", [f"{r.name} {r.rule}" for r in report.leaves]),
            ("out of scope", [f"{r.name} {r.rule}" for r in report.out_of_scope]),
        ]
        for title, lines in sections:
            if lines:
                click.echo(f"  {title}:")
                for line in lines:
                    click.echo(f"    {line}")
        for pattern in report.unmatched_patterns:
            click.echo(f"  pattern {pattern!r} names no endpoint")
        click.echo(f"  {report.summary}")


#: ``url_for``'s own keywords and the ``url`` options that set them.
_URL_FOR_OPTIONS = {
    "_external": "--external",
    "_anchor": "--anchor",
    "_method": "--method",
    "_scheme": "--scheme",
}


@cli.command()
@debug_option
@click.option(
    "--mount",
    "mounts",
    multiple=True,
    metavar="PREFIX=MODULE:ATTR",
    help="Mount an app (repeatable), e.g. --mount /new=newsite:app",
)
@click.option(
    "-e",
    "--endpoint",
    "endpoint_option",
    metavar="MOUNT:ENDPOINT",
    help="The route (or give it after SITE).",
)
@click.option("--external", is_flag=True, help="Absolute URL (needs the site's public_url).")
@click.option("--anchor", default=None, help="Append #ANCHOR.")
@click.option("--method", default=None, help="Pick the route for this HTTP method.")
@click.option("--scheme", default=None, help="Scheme of an absolute URL (with --external).")
@click.argument("arguments", nargs=-1, metavar="[SITE] MOUNT:ENDPOINT [NAME=VALUE]...")
def url(
    mounts: tuple[str, ...],
    endpoint_option: str | None,
    external: bool,
    anchor: str | None,
    method: str | None,
    scheme: str | None,
    arguments: tuple[str, ...],
) -> None:
    """Build the URL of the route MOUNT:ENDPOINT with NAME=VALUE values.

    \b
    wsgihub url site.ini new:user uid=5
    wsgihub url --mount /new=newsite:app new:user uid=5
    wsgihub url site.ini -e new:user uid=5 --external
    """
    site, endpoint, values = _url_arguments(arguments, endpoint_option, has_mounts=bool(mounts))
    hub = _load(site, mounts)
    if external and hub.public_url is None:
        raise ConfigError(
            "--external needs the site's public_url: set 'public_url = https://example.com' "
            "in the site file's hub section ([composite:main]), or Hub(public_url=...) in Python"
        )
    options: dict[str, Any] = {"_external": external}
    if anchor is not None:
        options["_anchor"] = anchor
    if method is not None:
        options["_method"] = method.upper()
    if scheme is not None:
        options["_scheme"] = scheme
    click.echo(hub.url_for(endpoint, **options, **values))


def _url_arguments(
    arguments: Sequence[str], endpoint: str | None, *, has_mounts: bool
) -> tuple[str | None, str, dict[str, Any]]:
    """Sort ``url``'s positional arguments into SITE, MOUNT:ENDPOINT and NAME=VALUE values.

    ``NAME=VALUE`` items (NAME a Python identifier) are values; the words
    before them are ``[SITE] MOUNT:ENDPOINT`` (just ``[SITE]`` with ``-e``).
    A word after a value, a word holding ``=``, an extra word or one without
    a colon where the route belongs is a malformed NAME=VALUE, and says so.
    """
    words: list[str] = []
    values: dict[str, Any] = {}
    for item in arguments:
        key, sep, value = item.partition("=")
        if sep and key.isidentifier():
            if key in _URL_FOR_OPTIONS:
                raise ConfigError(
                    f"value {item!r}: {key!r} is url_for's own keyword, not a route value; "
                    f"use {_URL_FOR_OPTIONS[key]}"
                )
            if key in values:
                raise ConfigError(f"value {item!r}: {key!r} is given more than once ({key}={values[key]} before)")
            values[key] = value
        elif values or sep:
            raise ConfigError(f"value {item!r}: expected NAME=VALUE")
        else:
            words.append(item)
    usage = "expected [SITE] MOUNT:ENDPOINT [NAME=VALUE]..."
    if endpoint is None:
        if not words:
            raise ConfigError(f"no route given: {usage} (or -e MOUNT:ENDPOINT)")
        *words, endpoint = words
        if ":" not in endpoint:
            if words or has_mounts:
                raise ConfigError(f"value {endpoint!r}: expected NAME=VALUE")
            raise ConfigError(f"route {endpoint!r}: {usage}")
    if len(words) > 1:
        raise ConfigError(f"value {words[1]!r}: expected NAME=VALUE")
    site = words[0] if words else None
    if site is None and not has_mounts:
        # `wsgihub url site.ini` and `wsgihub url new:user` look alike: say which is which
        raise ConfigError(
            f"no site given: {endpoint!r} was read as the route MOUNT:ENDPOINT; {usage} "
            "(or --mount PREFIX=MODULE:ATTR)"
        )
    if site is not None and has_mounts and not _could_be_site(site):
        raise ConfigError(f"value {site!r}: expected NAME=VALUE")
    return site, endpoint, values


def _could_be_site(word: str) -> bool:
    """A site is a file (``site.ini``, a path) or ``module:attr``; ``5`` or ``uid`` is not."""
    return ":" in word or "." in word or "/" in word or os.path.exists(word)


@cli.command()
@debug_option
@site_options
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option(
    "--fail-level",
    type=click.Choice(LEVELS),
    default="warning",
    show_default=True,
    help="Exit 1 when a finding is at this level or above.",
)
def check(site: str | None, mounts: tuple[str, ...], as_json: bool, fail_level: str) -> None:
    """Load the site and report findings (exit 1 if any is at --fail-level or above).

    Exit 2 when the site cannot be loaded.  Each finding has a stable id
    (W001 shadowed route, W002 cookie collision, W003 adapter's own, W010
    graft takes a route, W011 graft takes part of one, W012 scope pattern
    names nothing, I001/I010 information); the site file's 'silence = W010'
    leaves ids out.  --json prints [{"id", "level", "message", "mounts"}].
    """
    hub = _load(site, mounts, show_warnings=False)  # listed below as findings
    findings = hub.findings()
    failing = [f for f in findings if level_at_least(f.level, fail_level)]
    if as_json:
        click.echo(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        for peg in hub.pegs():
            where = f"grafted over {peg.over.name}" if peg.over is not None else f"at {peg.prefix or '/'}"
            click.echo(f"ok   {peg.name}: {peg.framework or 'wsgi'} {where}")
        for finding in findings:
            click.echo(f"{_TAGS[finding.level]} {finding.id} {finding.message}")
    if failing:
        raise SystemExit(1)


#: How ``check`` tags each level (four letters, aligned with ``ok``).
_TAGS = {"info": "INFO", "warning": "WARN", "error": "ERR "}


def _parser(option: ServeOption) -> Any:
    """A click callback reading an option's text as its table row says.

    A bad value raises the row's :class:`~wsgihub.errors.ConfigError`, which
    passes through click to :func:`main`: one line, exit 2, the same text as
    from :func:`wsgihub.serve.run`.
    """

    def parse(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
        return None if value is None else option.parse(value)

    return parse


def serve_table_options(func: Any) -> Any:
    """The options of the serve option table (:func:`wsgihub.serve.serve_options`) as click options.

    Defaults stay in the table: click passes ``None`` for an option not
    given, and :func:`serve` leaves it out of :func:`wsgihub.serve.run`.
    """
    for option in reversed(serve_options()):
        if not option.cli:
            continue
        default = option.default
        shown = f"{default:g}" if isinstance(default, float) else str(default)
        help_text = option.help + (f"  [default: {shown}]" if default not in (None, False) else "")
        flags = [option.flag, option.short] if option.short else [option.flag]
        if option.kind is bool:
            decorator = click.option(
                *flags, option.name, is_flag=True, default=None, help=help_text
            )
        else:
            decorator = click.option(
                *flags,
                option.name,
                default=None,
                callback=_parser(option),
                metavar=option.metavar or option.name.upper(),
                help=help_text,
            )
        func = decorator(func)
    return func


@cli.command("serve")
@debug_option
@site_options
@click.argument("variables", nargs=-1, metavar="[NAME=VALUE]...")
@serve_table_options
@click.option("-v", "--verbose", count=True, help="More output (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors (and the 'Serving on' line).")
@click.pass_obj
def serve(
    state: CliState,
    /,
    site: str | None,
    mounts: tuple[str, ...],
    variables: tuple[str, ...],
    verbose: int,
    quiet: bool,
    **options: Any,
) -> int:
    """Serve the site over HTTP until Ctrl-C or SIGTERM.

    SITE is a site file (site.ini, config:site.ini#name, site.wsgi) or
    package.module:hub; add apps with --mount PREFIX=package.module:app.
    NAME=VALUE fill the site file's %(NAME)s, as pserve's do.  Every option
    may also come from its WSGIHUB_<OPTION> variable or the site file's
    [server:main] (command line > environment > site file > default;
    --print-config shows each value and where it came from).
    """
    words = ([site] if site is not None else []) + list(variables)
    site = words.pop(0) if words and not _is_variable(words[0]) else None
    values: dict[str, str] = {}
    for word in words:
        if not _is_variable(word):
            raise ConfigError(f"value {word!r}: expected NAME=VALUE after the site")
        name, _, value = word.partition("=")
        values[name] = value
    given = {name: value for name, value in options.items() if value is not None}
    if quiet or verbose:
        given["verbosity"] = 0 if quiet else min(1 + verbose, 3)
    if state.debug:
        given["debug"] = True
    return run(site, mounts, variables=values or None, **given)


def _is_variable(word: str) -> bool:
    """``http_port=8080`` (a NAME=VALUE for the site file), not a site or a path."""
    name, sep, _ = word.partition("=")
    return bool(sep) and name.isidentifier() and not os.path.exists(word)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code.

    Bad input -- a click usage error or a :class:`WsgihubError` -- is one
    line on stderr, ``wsgihub: error: ...``, and exit code 2; anything else
    that goes wrong is one line too, exit code 1.  With ``--debug`` (before
    or after the command) or ``WSGIHUB_DEBUG=1`` the exception propagates
    with its traceback.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    state = CliState()
    try:
        result = cli.main(args=args, prog_name="wsgihub", standalone_mode=False, obj=state)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else "wsgihub"
        _fail(f"{_one_line(exc.format_message())} (see '{command} --help')")
        return exc.exit_code
    except click.ClickException as exc:
        _fail(_one_line(exc.format_message()))
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except WsgihubError as exc:
        if state.debug or _debug_from_environment():
            raise
        _fail(_one_line(str(exc)))
        return EXIT_BAD_INPUT
    except Exception as exc:
        if state.debug or _debug_from_environment():
            raise
        _fail(f"{type(exc).__name__}: {_one_line(str(exc))} (--debug shows the traceback)")
        return 1
    return result if isinstance(result, int) else 0


def _debug_from_environment() -> bool:
    """``WSGIHUB_DEBUG=1`` shows tracebacks as ``--debug`` does (serve's option table has the variable)."""
    return os.environ.get("WSGIHUB_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def _fail(line: str) -> None:
    click.echo(f"wsgihub: error: {line}", err=True)


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
