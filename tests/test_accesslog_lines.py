"""The access log's lines, column by column, against the formulas they are defined by.

The handler's thread writes a batch of lines with shortcuts (the second of
the previous line kept, a duration written from whole microseconds and a
table, each distinct request's columns and each byte count made once per
batch);
these tests draw many values and compare every line with what the plain
formulas give.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from wsgihub import Hub, accesslines, accesslog
from wsgihub.accesslog import AccessLog, AccessLogHandler

#: One logger per access log (fixtures of module scope keep theirs while other tests run).
_loggers = itertools.count()


@contextmanager
def _access_log(log_format: str, flush_interval: float = 3600.0) -> Iterator[tuple[AccessLog, AccessLogHandler, io.StringIO]]:
    """An AccessLog whose logger's one handler is --access-log's own, to a string; the clock at 0.

    ``time.time() - time.perf_counter()`` is 0, so a line's time is its ``started``.
    """
    stream = io.StringIO()
    logger = logging.getLogger(f"test.accesslog.lines.{next(_loggers)}")
    handler = AccessLogHandler(stream, flush_interval=flush_interval)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        with mock.patch.multiple(accesslog, _wall=lambda: 0.0, _perf=lambda: 0.0):
            yield AccessLog(Hub(), log_format=log_format, logger=logger), handler, stream
    finally:
        logger.removeHandler(handler)
        logger.filters.clear()


@pytest.fixture(scope="module")
def json_now() -> Iterator[tuple[AccessLog, io.StringIO]]:
    """JSON lines written as each request ends (the same code writes a batch of one line)."""
    with _access_log("json", flush_interval=0.0) as (log, _handler, stream):
        yield log, stream


@pytest.fixture(scope="module")
def batched() -> Iterator[dict[str, tuple[AccessLog, AccessLogHandler, io.StringIO]]]:
    """Text and JSON lines queued until ``flush()``, as the handler's thread writes them."""
    with _access_log("text") as text, _access_log("json") as json_lines:
        yield {"text": text, "json": json_lines}


def _taken(stream: io.StringIO) -> str:
    """What ``stream`` holds, emptied for the next example."""
    text = stream.getvalue()
    stream.seek(0)
    stream.truncate()
    return text


def _request(log: AccessLog, started: float, ended: float, sent: int | None = 13, **kwargs: Any) -> None:
    values: dict[str, Any] = {
        "remote_addr": "10.0.0.1",
        "method": "GET",
        "path": "/a",
        "status": 200,
        "request_id": "0f" * 16,
        **kwargs,
    }
    log.log_request(started=started, ended=ended, sent=sent, **values)


def _time(when: float) -> str:
    """A line's time as defined: UTC, the milliseconds cut (not rounded)."""
    second = int(when)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)) + f".{int((when - second) * 1000):03d}Z"


#: Durations in seconds, from far below a microsecond to far above a human lifetime, and none.
_durations = st.floats(min_value=-1e12, max_value=1e12) | st.sampled_from([math.nan, math.inf, -math.inf])
#: When a request came in: 1970 up to the year ~2096.
_times = st.floats(min_value=0.0, max_value=4e9, allow_nan=False, allow_infinity=False)

#: A text line's duration: milliseconds, exactly three decimals; a JSON line's: the shortest decimal.
_TEXT_MS = re.compile(r"(0|[1-9][0-9]*)\.[0-9]{3}")
_JSON_MS = re.compile(r"(0|[1-9][0-9]*)\.(0|[0-9]{0,2}[1-9])")


def _check_duration(written: str, seconds: float, log_format: str) -> None:
    """``written`` is ``seconds`` in milliseconds to the microsecond (0 for no duration: negative, NaN, infinite)."""
    assert (_TEXT_MS if log_format == "text" else _JSON_MS).fullmatch(written), written
    if not 0.0 <= seconds < math.inf:
        assert Decimal(written) == 0, (written, seconds)
        return
    exact = Decimal(seconds) * 1000
    # half a microsecond, and what seconds * 1e6 may be off in a float
    assert abs(Decimal(written) - exact) <= Decimal("0.0005") + exact * Decimal("1e-15"), (written, seconds)


@settings(max_examples=3000, deadline=None)
@given(started=_times, duration=_durations)
@example(started=0.0, duration=0.0625e-3)  # 62.5 µs: 0.063
@example(started=0.0, duration=0.0005e-3)  # half a microsecond: 0.001
@example(started=0.0, duration=0.0004e-3)  # below half a microsecond: 0.0
@example(started=0.0, duration=-0.0001e-3)  # negative: 0.0
@example(started=0.0, duration=999999999.9999996)  # just below 1e12 ms
@example(started=1.0, duration=1e13)  # 1e16 ms: written out, not 1e+16
@example(started=1.0, duration=math.nan)
def test_a_lines_duration_is_its_milliseconds_to_the_microsecond(
    json_now: tuple[AccessLog, io.StringIO], started: float, duration: float
) -> None:
    """``duration_ms`` is ``(ended - started)`` in ms rounded to the µs, the shortest decimal; 0 for none.

    The same number as the text line's ``ms`` column, which always has three decimals.
    """
    log, stream = json_now
    ended = started + duration
    _request(log, started, ended)
    line = _taken(stream)
    written = line.split('"duration_ms": ', 1)[1].split(",", 1)[0]
    _check_duration(written, ended - started, "json")
    assert json.loads(line)["duration_ms"] == float(written)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.tuples(_times, st.floats(min_value=0.0, max_value=1e4), st.sampled_from([None, 0, 13, 13, 99999])),
                   min_size=1, max_size=60),
    log_format=st.sampled_from(["text", "json"]),
)
def test_every_line_of_a_batch_has_its_own_time_duration_and_bytes(
    batched: dict[str, tuple[AccessLog, AccessLogHandler, io.StringIO]],
    lines: list[tuple[float, float, int | None]],
    log_format: str,
) -> None:
    """One batch (as the handler's thread writes it): each line's time, duration and bytes are its own.

    Times out of order and in several seconds (the second of the previous
    line is kept), byte counts repeated and ``None`` (made once per batch).
    """
    log, handler, stream = batched[log_format]
    for started, duration, sent in lines:
        _request(log, started, started + duration, sent)
    handler.flush()
    written = _taken(stream).splitlines()
    assert len(written) == len(lines)
    for line, (started, duration, sent) in zip(written, lines, strict=True):
        seconds = started + duration - started
        if log_format == "json":
            record = json.loads(line)
            assert (record["time"], record["bytes"]) == (_time(started), sent)
            ms = line.split('"duration_ms": ', 1)[1].split(",", 1)[0]
        else:
            head = f'{_time(started)} 10.0.0.1 "GET /a" 200 {"-" if sent is None else sent} '
            assert line.startswith(head), line
            ms, unit = line[len(head):].split(" ", 1)[0][:-2], line[len(head):].split(" ", 1)[0][-2:]
            assert unit == "ms", line
        _check_duration(ms, seconds, log_format)


@pytest.mark.parametrize("when", [0.0, 0.9995, 1.0, 1764590000.9999998, 1764590001.0, 4e9 - 1e-6])
def test_the_time_at_the_edges_of_a_second(when: float) -> None:
    with _access_log("text") as (log, handler, stream):
        _request(log, 1764590000.5, 1764590000.5)  # the second before, kept
        _request(log, when, when)
        handler.flush()
    assert stream.getvalue().splitlines()[1].startswith(_time(when) + " ")


class _Adapter:
    def __init__(self, endpoint: str) -> None:
        self.name = endpoint

    def endpoint(self, environ: dict[str, Any]) -> str:
        return self.name


class _PegByName:
    """A peg compared and hashed by its key (not by identity), as a peg-like object of a plugin might be."""

    def __init__(self, key: str, name: str) -> None:
        self.key, self.name, self.adapter, self.grafts = key, name, _Adapter(f"{name}-view"), ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _PegByName) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


class _UnhashablePeg:
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, name: str) -> None:
        self.name, self.adapter, self.grafts = name, _Adapter(f"{name}-view"), ()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_each_line_names_its_own_peg(log_format: str) -> None:
    """Pegs equal to each other but not the same object, unhashable pegs, none: each line its own mount."""
    hub = Hub()
    hub.mount("/a", lambda e, s: [], name="a")
    pegs: list[Any] = [hub.peg("a"), _PegByName("k", "one"), _PegByName("k", "two"), _UnhashablePeg("three"), None]
    with _access_log(log_format) as (log, handler, stream):
        for _ in range(2):
            for peg in pegs:
                _request(log, 10.0, 10.5, peg=peg, script_name="", path_info="/x")
        handler.flush()
    if log_format == "json":
        named = [(record["mount"], record["endpoint"]) for record in map(json.loads, stream.getvalue().splitlines())]
    else:
        named = [(line.split(" ")[7], line.split(" ")[8]) for line in stream.getvalue().splitlines()]
    none = (None, None) if log_format == "json" else ("-", "-")
    mine = [("a", none[1]), ("one", "one-view"), ("two", "two-view"), ("three", "three-view"), none]
    assert named == mine * 2


def _get(app: Any, path: str, extra: dict[str, Any] | None = None) -> None:
    """One WSGI request through ``app``, its body read and closed (the line handed over)."""
    environ = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": path, "REMOTE_ADDR": "10.0.0.1",
               "HTTP_HOST": "localhost", "SERVER_NAME": "localhost", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
               **(extra or {})}
    body = app(environ, lambda status, headers, exc_info=None: None)
    try:
        b"".join(body)
    finally:
        body.close()


def test_lines_follow_the_loggers_handlers_and_filters_as_they_change() -> None:
    """A request's line goes to the one handler's queue; as a record while there are two, or filters."""
    seen: list[str] = []

    class Records(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage().split('"')[1])

    hub = Hub()
    hub.mount("/", lambda e, s: (s("200 OK", []), [b"ok"])[1], name="root")
    other = Records()
    with _access_log("text") as (log, handler, stream):
        app = AccessLog(hub, logger=log.logger)
        logger = log.logger
        _get(app, "/one")
        logger.addHandler(other)
        _get(app, "/two")
        handler.addFilter(lambda record: "/hidden" not in record.getMessage())
        _get(app, "/hidden-1")
        logger.removeHandler(other)
        _get(app, "/hidden-2")
        handler.filters.clear()
        logger.addFilter(lambda record: "/gone" not in record.getMessage())
        _get(app, "/gone")
        logger.filters.clear()
        _get(app, "/five")
        handler.flush()
    assert seen == ["GET /two", "GET /hidden-1"]
    # a record is written at once, and its write flushes what was queued before it
    assert [line.split('"')[1] for line in stream.getvalue().splitlines()] == ["GET /two", "GET /one", "GET /five"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_another_layers_id_is_the_same_in_the_queue_and_in_a_record(log_format: str) -> None:
    """An ID from another layer that a line must escape: the same line queued or as a record."""
    records: list[logging.LogRecord] = []

    class Records(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    hub = Hub()
    hub.mount("/", lambda e, s: (s("200 OK", []), [b"ok"])[1], name="root")
    outer_ids = ['bad "id" \\ \n\u00e9\u2028', "outer-1", "a b"]
    with _access_log(log_format) as (log, handler, stream):
        app = AccessLog(hub, log_format=log_format, logger=log.logger)  # IDs left to another layer
        for outer_id in outer_ids:
            _get(app, "/x", {"wsgihub.request_id": outer_id})
        handler.flush()
        queued = _taken(stream).split("\n")[:-1]  # (not splitlines(): a JSON line may hold U+2028)
        log.logger.addHandler(Records())
        for outer_id in outer_ids:
            _get(app, "/x", {"wsgihub.request_id": outer_id})
        as_records = _taken(stream).split("\n")[:-1]
    # a record's ID: as it came for JSON lines, the line's escaped column for text lines (as before)
    columns = outer_ids if log_format == "json" else [line.rsplit(" ", 1)[1] for line in queued]
    assert [record.request_id for record in records] == columns  # type: ignore[attr-defined]
    assert [record.getMessage() for record in records] == as_records
    without_time = [line.split(" ", 1)[1] for line in as_records]
    assert without_time == [line.split(" ", 1)[1] for line in queued]
    if log_format == "json":
        assert [json.loads(line)["request_id"] for line in queued] == outer_ids


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_large_batch_is_formatted_a_chunk_at_a_time(log_format: str) -> None:
    """The writer hands the formatter 256 lines a call: compiled, one call keeps the interpreter.

    Between calls the request threads get it back; the lines are those one
    call for the whole batch gives, in order.
    """
    name = "text_lines" if log_format == "text" else "json_lines"
    formatter = getattr(accesslog, name)
    chunks: list[int] = []

    def counted(batch: list[Any], *args: Any) -> str:
        chunks.append(len(batch) // accesslines.WIDTH)
        return str(formatter(batch, *args))

    with _access_log(log_format) as (log, handler, stream), mock.patch.object(accesslog, name, counted):
        for number in range(1000):
            _request(log, 1000.0 + number / 100, 1000.0 + number / 100 + 0.002, path=f"/p{number % 3}")
        handler.flush()
    assert chunks == [256, 256, 256, 232]
    lines = stream.getvalue().splitlines()
    if log_format == "json":
        assert [(json.loads(line)["time"], json.loads(line)["path"]) for line in lines] == [
            (_time(1000.0 + number / 100), f"/p{number % 3}") for number in range(1000)
        ]
    else:
        assert [line.split(" ", 1)[0] + line.split('"')[1] for line in lines] == [
            f"{_time(1000.0 + number / 100)}GET /p{number % 3}" for number in range(1000)
        ]
