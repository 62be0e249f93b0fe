"""Logging for ``wsgihub serve``: the site file's sections, ``--log-config``, the access log.

::

    from wsgihub.logconfig import configure_logging

    configure_logging(level=logging.WARNING, site_file="site.ini")            # as pserve does
    configure_logging(level=logging.INFO, log_config="logging.json", access_log="-")

Where the configuration comes from, first match wins:

1. ``--log-config FILE``: a JSON file is a :func:`logging.config.dictConfig`
   dictionary; any other file is an INI file for :func:`logging.config.fileConfig`
   (``[loggers]``, ``[handlers]``, ``[formatters]``).
2. The site file's own ``[loggers]``, ``[handlers]`` and ``[formatters]``
   sections, read with :func:`logging.config.fileConfig` as ``pserve`` does
   (``%(here)s`` and ``%(__file__)s`` are the file's directory and path;
   the site's ``name=value`` variables are there too).
3. Otherwise: one handler on stderr at the level ``-q``/``-v`` chose,
   ``LEVEL [logger] message``.

Loggers that exist already stay enabled (``disable_existing_loggers`` is
false, as pserve passes).  With ``--access-log FILE`` (``-``: stdout) the
``wsgihub.access`` logger gets a handler writing each line as it is
(``%(message)s``) to that file and stops propagating; without it, a
configuration from 1 or 2 that names ``wsgihub.access`` decides where the
lines go (:func:`access_log_configured`).  A bad configuration is one
:class:`~wsgihub.errors.ConfigError` line naming the file.

Every record also carries ``request_id`` (:mod:`wsgihub.requestid`), for
formats that say ``%(request_id)s``.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import logging
import logging.config
import os
import sys
from collections.abc import Mapping

from .accesslog import ACCESS_LOGGER, AccessLogHandler
from .errors import ConfigError
from .requestid import install_record_factory

__all__ = [
    "DEFAULT_FORMAT",
    "access_log_configured",
    "configure_access_log",
    "configure_logging",
    "has_logging_sections",
    "load_log_config",
    "settle_level",
]

#: The format of the stderr handler when no configuration is given.
DEFAULT_FORMAT = "%(levelname)s [%(name)s] %(message)s"


def has_logging_sections(path: str) -> bool:
    """Whether the INI file at ``path`` has a ``[loggers]`` section (pserve's test)."""
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError):
        return False  # the site loader reports a broken file in its own words
    return parser.has_section("loggers")


def load_log_config(
    path: str, *, option: str = "--log-config", variables: Mapping[str, str] | None = None
) -> None:
    """Apply the logging configuration in ``path`` (JSON: dictConfig; else INI: fileConfig).

    ``option`` names the source in the one-line error (``--log-config x.json``,
    or the site file).  Raises :class:`~wsgihub.errors.ConfigError`.
    """
    where = f"{option} {path}" if option else path
    try:
        if path.lower().endswith(".json"):
            with open(path, encoding="utf-8") as handle:
                config = json.load(handle)
            if not isinstance(config, dict):
                raise ConfigError(f"{where}: expected a JSON object (a logging dictConfig)")
            config.setdefault("version", 1)
            config.setdefault("disable_existing_loggers", False)
            logging.config.dictConfig(config)
        else:
            absolute = os.path.abspath(path)
            defaults = {"here": os.path.dirname(absolute), "__file__": absolute}
            defaults.update(variables or {})
            logging.config.fileConfig(absolute, defaults, disable_existing_loggers=False)
    except ConfigError:
        raise
    except OSError as exc:
        raise ConfigError(f"{where}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not JSON: {exc.msg} (line {exc.lineno})") from None
    except Exception as exc:  # noqa: BLE001 - logging.config raises all sorts, over lines
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise ConfigError(f"{where}: {detail}") from None


#: Seconds access-log lines to a file may wait in the buffer (stdout: none).
FILE_FLUSH_INTERVAL = 1.0


def configure_access_log(target: str) -> logging.Handler:
    """Send the ``wsgihub.access`` lines to ``target`` (a file path, or ``-`` for stdout).

    The file is opened for appending and written in batches, flushed at
    least every :data:`FILE_FLUSH_INTERVAL` seconds; stdout gets each line
    at once.  The logger stops propagating (the lines are not repeated on
    stderr).  Returns the handler.
    """
    if target == "-":
        handler = AccessLogHandler(sys.stdout)
    else:
        try:
            stream = open(target, "a", encoding="utf-8", buffering=1 << 16)  # noqa: SIM115 - the handler owns it
        except OSError as exc:
            raise ConfigError(f"--access-log {target}: {exc.strerror or exc}") from None
        handler = AccessLogHandler(stream, flush_interval=FILE_FLUSH_INTERVAL)
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler


def flush_access_log() -> None:
    """Write the access-log lines still queued (a bus ``exit`` listener, and a gunicorn worker's end).

    logging's own shutdown at interpreter exit flushes only the handlers it
    still lists, and a framework that configures logging while the site loads
    (Django's ``dictConfig``) takes every earlier handler off that list;
    granian's runtime ends the process without reaching it at all.  A handler
    that fails to flush is reported by logging and never stops the exit.
    """
    for handler in logging.getLogger(ACCESS_LOGGER).handlers:
        with contextlib.suppress(Exception):  # the exit goes on; logging reports its own errors
            handler.flush()


def settle_level(name: str) -> int:
    """Give logger ``name`` the level it takes from its ancestors, where it has none of its own.

    Returns the logger's level.  What it lets through does not change: a
    logger at ``NOTSET`` answers with its ancestors' level, and so does the
    one it gets.  Called for ``uvicorn.error`` when uvicorn starts (after the
    site loaded, so a framework's own logging configuration counts too):
    uvicorn asks that logger's *own* level whether to build its trace
    messages (``logger.level <= TRACE``), and at ``NOTSET`` it built two on
    every connection for nothing.  A level set by ``--log-config``, the site
    file's ``[loggers]`` or the framework is kept as set.
    """
    logger = logging.getLogger(name)
    if logger.level == logging.NOTSET:
        logger.setLevel(logger.getEffectiveLevel())
    return logger.level


def access_log_configured() -> bool:
    """Whether a logging configuration names the ``wsgihub.access`` logger.

    True when it has handlers or a level of its own: then the access log is
    on even without ``--access-log``.
    """
    logger = logging.getLogger(ACCESS_LOGGER)
    return bool(logger.handlers) or logger.level != logging.NOTSET


def configure_logging(
    *,
    level: int,
    site_file: str | None = None,
    log_config: str | None = None,
    access_log: str | None = None,
    variables: Mapping[str, str] | None = None,
    quiet_loggers: Mapping[str, int] | None = None,
) -> str:
    """Set up the process's logging for ``wsgihub serve``; return where it came from.

    ``level`` is the ``-q``/``-v`` level of the default stderr handler and
    of ``quiet_loggers`` (``{"waitress.queue": logging.ERROR}``: loggers set
    to at least that level), both used only when no configuration file is
    given.  The answer is ``"--log-config FILE"``, ``"site file FILE"`` or
    ``"default"``.
    """
    install_record_factory()
    source = "default"
    if log_config is not None:
        load_log_config(log_config, variables=variables)
        source = f"--log-config {log_config}"
    elif site_file is not None and has_logging_sections(site_file):
        load_log_config(site_file, option="", variables=variables)
        source = f"site file {site_file}"
    if source == "default":
        logging.basicConfig(level=level, stream=sys.stderr, format=DEFAULT_FORMAT)
        logging.getLogger("waitress").setLevel(level)
        for name, at_least in (quiet_loggers or {}).items():
            logging.getLogger(name).setLevel(max(level, at_least))
    if access_log is not None:
        configure_access_log(access_log)
    return source
