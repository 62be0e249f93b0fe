"""The ``wsgihub`` command: serve | routes | url | check | plugins.

Every command that needs a site takes ``SITE`` (a site file ``site.ini``,
``config:site.ini#name``, a pipeline descriptor ``site.wsgi``, or
``package.module:hub``) and/or ``--mount PREFIX=package.module:app``
(repeatable).  Bad input gives one line on stderr and exit code 2; add
``--debug`` for the traceback.  :func:`main` takes ``argv`` and returns the
exit code, so the CLI is testable without a subprocess.

This module holds click commands only and nothing in wsgihub imports it:
the site is loaded by :mod:`wsgihub.deploy`, ``serve`` runs
:func:`wsgihub.serve.run`.  What a run of the CLI needs to remember (the
``--debug`` flag) travels in click's context object, a :class:`CliState`,
as flask's ``ScriptInfo`` does -- not in module globals.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click

from .deploy import load
from .errors import WsgihubError
from .serve import ServeOption, run, serve_options

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
    from .plugins import make_plugins

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


@cli.command()
@debug_option
@site_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def routes(site: str | None, mounts: tuple[str, ...], as_json: bool) -> None:
    """List every route of the site: endpoint, methods, rule, framework."""
    hub = load(site, mounts=mounts)
    table = hub.routes()
    if as_json:
        rows = [
            {
                "endpoint": r.name,
                "rule": r.rule,
                "methods": sorted(r.methods) if r.methods is not None else None,
                "framework": r.framework,
                "grafted": r.grafted,
            }
            for r in table
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    rows_text = [
        (r.name, ",".join(sorted(r.methods)) if r.methods else "*", r.rule, (r.framework or "wsgi") + (" (graft)" if r.grafted else ""))
        for r in table
    ]
    headers = ("ENDPOINT", "METHODS", "RULE", "FRAMEWORK")
    widths = [max([len(h)] + [len(row[i]) for row in rows_text]) for i, h in enumerate(headers)]
    for row in [headers, *rows_text]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


@cli.command()
@debug_option
@site_options
@click.option("-e", "--endpoint", required=True, help="mount:endpoint")
@click.option("--external", is_flag=True, help="Absolute URL (needs public_url).")
@click.argument("values", nargs=-1, metavar="[NAME=VALUE]...")
def url(site: str | None, mounts: tuple[str, ...], endpoint: str, external: bool, values: tuple[str, ...]) -> None:
    """Build the URL of ENDPOINT with NAME=VALUE arguments."""
    from .errors import ConfigError

    if site is not None and _looks_like_value(site):
        # with --mount and no SITE, click hands the first NAME=VALUE to SITE
        values = (site, *values)
        site = None
    kwargs: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"value {item!r}: expected NAME=VALUE")
        kwargs[key] = value
    hub = load(site, mounts=mounts)
    click.echo(hub.url_for(endpoint, _external=external, **kwargs))


def _looks_like_value(arg: str) -> bool:
    """``uid=5`` is a NAME=VALUE argument; a site (file, ``module:attr``) is never one."""
    key, sep, _ = arg.partition("=")
    return bool(sep) and key.isidentifier()


@cli.command()
@debug_option
@site_options
def check(site: str | None, mounts: tuple[str, ...]) -> None:
    """Load the site and report problems (exit 1 if there are any)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hub = load(site, mounts=mounts)
    problems = hub.check()
    for peg in hub.pegs():
        where = f"grafted over {peg.over.name}" if peg.over is not None else f"at {peg.prefix or '/'}"
        click.echo(f"ok   {peg.name}: {peg.framework or 'wsgi'} {where}")
    for problem in problems:
        click.echo(f"WARN {problem}")
    if problems:
        raise SystemExit(1)


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
        if option.kind is bool:
            decorator = click.option(
                option.flag, option.name, is_flag=True, default=None, help=help_text
            )
        else:
            decorator = click.option(
                option.flag,
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
@serve_table_options
@click.option("-v", "--verbose", count=True, help="More output (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors (and the 'Serving on' line).")
@click.pass_obj
def serve(
    state: CliState,
    /,
    site: str | None,
    mounts: tuple[str, ...],
    verbose: int,
    quiet: bool,
    **options: Any,
) -> int:
    """Serve the site over HTTP until Ctrl-C or SIGTERM.

    SITE is a site file (site.ini, config:site.ini#name, site.wsgi) or
    package.module:hub; add apps with --mount PREFIX=package.module:app.
    """
    given = {name: value for name, value in options.items() if value is not None}
    return run(
        site,
        mounts,
        verbosity=0 if quiet else min(1 + verbose, 3),
        debug=state.debug,
        **given,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (2 for bad input, one line on stderr)."""
    args = list(sys.argv[1:] if argv is None else argv)
    state = CliState()
    try:
        result = cli.main(args=args, prog_name="wsgihub", standalone_mode=False, obj=state)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except WsgihubError as exc:
        if state.debug:
            raise
        click.echo(f"wsgihub: error: {exc}", err=True)
        return EXIT_BAD_INPUT
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
