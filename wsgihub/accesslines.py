"""The access log's lines: a batch of requests' values formatted as text or JSON lines.

::

    from wsgihub.accesslines import COMPILED, Clock, text_lines

    text = text_lines(batch, time.time() - time.perf_counter(), Clock(), {}, make_columns)

What :class:`wsgihub.accesslog.AccessLog`'s writer runs for every line
(:func:`text_lines`, :func:`json_lines`), kept apart so that it can be compiled: a wheel built by
``scripts/build-wheels.sh`` compiles this module with mypyc (about half
the CPU instructions a line; ``docs/benchmarks.md``, "Access log and request
IDs"), and the same source runs as Python where it was not (an editable
install, a build without a C compiler).  The lines are the same either
way; :data:`COMPILED` says which one runs.  The module so imports nothing
but the standard library, and its types are the ones mypyc compiles to C
(an argument of another type than declared raises ``TypeError`` when
compiled: a batch's values are declared ``Any`` but the times).

What a request does itself (:meth:`wsgihub.accesslog.AccessLog.finished`:
queue its values) is not here: compiled, it took no fewer instructions
(``docs/benchmarks.md``), its calls into Python objects being the cost.

A batch is the :data:`wsgihub.accesslog.Values` of its requests one after the
other, flat (:data:`WIDTH` items a request): ``(method, script_name,
path_info, remote_addr, host, path, status, peg, started, ended, sent,
request_id)``.  The first eight are the line's *part key*: every line with
the same key has the same pieces of text around its time, bytes, duration and
ID, which ``make_columns(key)`` gives once per distinct key (the caller keeps
them in ``columns``, for the batch).  ``started`` and ``ended`` are
``time.perf_counter()`` values (``offset`` turns them into ``time.time()``),
``sent`` an int or ``None``, ``request_id`` already safe in a line as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from math import floor
from typing import Any

__all__ = [
    "COMPILED",
    "JSON_FRACTIONS",
    "MILLIS",
    "TEXT_FRACTIONS",
    "WIDTH",
    "Clock",
    "json_lines",
    "text_lines",
]

#: Whether this module runs compiled (mypyc), not as Python source.
COMPILED = not __file__.endswith(".py")

#: How many items one request's values are in a batch.
WIDTH = 12

#: ``.000Z`` to ``.999Z``: a line's milliseconds, formatted once.
MILLIS = [f".{ms:03d}Z" for ms in range(1000)]
#: ``.000ms `` to ``.999ms ``: a text line's fraction of a millisecond and what follows it.
TEXT_FRACTIONS = [f".{us:03d}ms " for us in range(1000)]
#: ``.0``, ``.001`` ... ``.999``: a JSON number's fraction of a millisecond, shortest (``repr`` of the float).
JSON_FRACTIONS = [f".{us:03d}".rstrip("0") if us else ".0" for us in range(1000)]

#: ``(head, tail)`` of a text line, ``(head, middle, tail)`` of a JSON line, by part key.
TextColumns = tuple[str, str]
JsonColumns = tuple[str, str, str]


class Clock:
    """``2026-11-30T19:40:01.123Z`` for a ``time.time()``; the seconds part is cached.

    Threads share a clock (a request's thread writing to stdout, the
    handler's thread): :attr:`cached` is replaced as one tuple.
    """

    def __init__(self) -> None:
        #: ``(second, "YYYY-MM-DDTHH:MM:SS")``
        self.cached: tuple[int, str] = (-1, "")

    def format(self, when: float) -> str:
        """The line's time for ``when`` (a ``time.time()``, not negative), to the millisecond."""
        second = int(when)
        cached_second, text = self.cached
        if second != cached_second:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self.cached = (second, text)
        return f"{text}{MILLIS[floor((when - second) * 1000)]}"


def text_lines(
    batch: Sequence[Any],
    offset: float,
    clock: Clock,
    columns: dict[Any, TextColumns],
    make_columns: Callable[[Any], TextColumns],
) -> str:
    """Text lines for ``batch``, each ending in a newline (see the module docstring).

    The loop is kept to what varies per line.  A line is the pieces of its
    part key (``' client "method path" status '`` and ``'mount endpoint '``)
    and the time, bytes, duration and ID between them, joined by one
    f-string (no format string parsed per line: %-formatting the line cost
    ~20% more in Python).  The time is looked at as the fraction past the
    second already formatted (:meth:`Clock.format` only for another
    second) and ``floor`` takes the milliseconds' index (``int()`` of a
    float costs ~450 CPU instructions more in Python; the two agree on the
    non-negative numbers given).  The bytes, a few distinct numbers, are
    formatted once per batch.  The duration is whole microseconds, rounded
    half up, written as the milliseconds and a table's ``.µµµms``: ~600
    CPU instructions a line less than ``f"{ms:.3f}"``.
    """
    second: int
    stamp: str
    started: float
    ended: float
    second, stamp = clock.cached
    sizes: dict[Any, str] = {None: "- "}
    lines: list[str] = []
    append = lines.append
    for method, script_name, path_info, remote, host, path, status, peg, started, ended, sent, request_id in zip(
        *[iter(batch)] * WIDTH, strict=True
    ):
        key = (method, script_name, path_info, remote, host, path, status, peg)
        pieces = columns.get(key)
        if pieces is None:
            pieces = columns[key] = make_columns(key)
        head, tail = pieces
        fraction = started + offset - second
        if not 0.0 <= fraction < 1.0:  # the first line, or the next second
            clock.format(started + offset)
            second, stamp = clock.cached
            fraction = started + offset - second
        size = sizes.get(sent)
        if size is None:
            size = sizes[sent] = f"{sent} "
        duration = floor((ended - started) * 1e6 + 0.5)
        append(
            f"{stamp}{MILLIS[floor(fraction * 1000)]}{head}{size}"
            f"{duration // 1000}{TEXT_FRACTIONS[duration % 1000]}{tail}{request_id or '-'}\n"
        )
    return "".join(lines)


def json_lines(
    batch: Sequence[Any],
    offset: float,
    clock: Clock,
    columns: dict[Any, JsonColumns],
    make_columns: Callable[[Any], JsonColumns],
) -> str:
    """JSON lines for ``batch``: what ``json.dumps(values, ensure_ascii=False)`` gives, faster.

    Shaped as :func:`text_lines` (see there why); ``make_columns(key)``
    gives the pieces after the time, after the duration and after the ID.
    ``duration_ms`` is the whole microseconds / 1000, written as the
    milliseconds and a table's shortest fraction (``.0``, ``.25``,
    ``.321``): the decimal the float nearest it reads back as.
    """
    second: int
    stamp: str
    started: float
    ended: float
    second, stamp = clock.cached
    sizes: dict[Any, str] = {None: "null"}
    lines: list[str] = []
    append = lines.append
    for method, script_name, path_info, remote, host, path, status, peg, started, ended, sent, request_id in zip(
        *[iter(batch)] * WIDTH, strict=True
    ):
        key = (method, script_name, path_info, remote, host, path, status, peg)
        pieces = columns.get(key)
        if pieces is None:
            pieces = columns[key] = make_columns(key)
        head, middle, tail = pieces
        fraction = started + offset - second
        if not 0.0 <= fraction < 1.0:  # the first line, or the next second
            clock.format(started + offset)
            second, stamp = clock.cached
            fraction = started + offset - second
        size = sizes.get(sent)
        if size is None:
            size = sizes[sent] = str(sent)
        duration = floor((ended - started) * 1e6 + 0.5)
        identity = "null" if request_id is None else f'"{request_id}"'  # JSON-safe as given
        append(
            f'{{"time": "{stamp}{MILLIS[floor(fraction * 1000)]}{head}{size}, "duration_ms": '
            f"{duration // 1000}{JSON_FRACTIONS[duration % 1000]}{middle}{identity}{tail}"
        )
    return "".join(lines)
