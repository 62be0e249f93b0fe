"""The ``wsgihub`` command: serve | routes | url | check | plugins.

Every command that needs a site takes ``SITE`` (a site file ``site.ini``,
``config:site.ini#name``, a pipeline descriptor ``site.wsgi``, or
``package.module:hub``) and/or ``--mount PREFIX=package.module:app``
(repeatable).  Bad input gives one line on stderr and exit code 2; add
``--debug`` for the traceback.  :func:`main` takes ``argv`` and returns the
exit code, so the CLI is testable without a subprocess.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import click

from .errors import WsgihubError

__all__ = ["build_site", "cli", "main", "site_options"]

#: Exit code for bad input (a usage error, as click uses).
EXIT_BAD_INPUT = 2


class _State:
    debug = False


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


def build_site(site: str | None, mounts: Sequence[str]) -> Any:
    """The Hub for ``SITE`` plus ``--mount`` options (a MountWarning is printed, not raised)."""
    from .deploy import import_object, load, parse_mount_spec
    from .errors import ConfigError
    from .hub import Hub

    if site is None and not mounts:
        raise ConfigError("no site given: pass SITE (site.ini, module:hub) or --mount PREFIX=module:app")
    hub = load(site) if site is not None else Hub()
    for spec in mounts:
        prefix, target = parse_mount_spec(spec)
        app = import_object(target, f"--mount {prefix}")
        hub.mount(prefix, app)
    return hub


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="wsgihub")
def cli(debug: bool) -> None:
    """Run apps of different WSGI frameworks as one site."""
    _State.debug = _State.debug or debug  # main() also sees a --debug after the command


@cli.command()
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
@site_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def routes(site: str | None, mounts: tuple[str, ...], as_json: bool) -> None:
    """List every route of the site: endpoint, methods, rule, framework."""
    hub = build_site(site, mounts)
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
    hub = build_site(site, mounts)
    click.echo(hub.url_for(endpoint, _external=external, **kwargs))


def _looks_like_value(arg: str) -> bool:
    """``uid=5`` is a NAME=VALUE argument; a site (file, ``module:attr``) is never one."""
    key, sep, _ = arg.partition("=")
    return bool(sep) and key.isidentifier()


@cli.command()
@site_options
def check(site: str | None, mounts: tuple[str, ...]) -> None:
    """Load the site and report problems (exit 1 if there are any)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hub = build_site(site, mounts)
    problems = hub.check()
    for peg in hub.pegs():
        where = f"grafted over {peg.over.name}" if peg.over is not None else f"at {peg.prefix or '/'}"
        click.echo(f"ok   {peg.name}: {peg.framework or 'wsgi'} {where}")
    for problem in problems:
        click.echo(f"WARN {problem}")
    if problems:
        raise SystemExit(1)


def _register_serve() -> None:
    try:
        from .serve import serve
    except ImportError:  # pragma: no cover - the serve module ships with the core
        return
    cli.add_command(serve)


_register_serve()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (2 for bad input, one line on stderr)."""
    args = list(sys.argv[1:] if argv is None else argv)
    _State.debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="wsgihub", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except WsgihubError as exc:
        if _State.debug:
            raise
        click.echo(f"wsgihub: error: {exc}", err=True)
        return EXIT_BAD_INPUT
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
