"""The WSGI side of the hub under an ASGI server: WSGI apps answer ASGI HTTP requests.

:class:`WSGIResponder` runs a WSGI application for an HTTP request an ASGI
server hands over, in one bounded pool of ``threads`` threads
(:class:`ThreadPool`), streaming both ways: the environ and request body are
a2wsgi's (the body is read from ``receive()`` as the app reads
``wsgi.input``), ``PATH_INFO`` is made from the server's ``raw_path`` when it
has one (the percent-decoded bytes as latin-1, PEP 3333: ``/a/%ff`` is
``/a/\\xff`` as under waitress, not the U+FFFD of the server's UTF-8
``path``), and the response crosses to the loop in batches
(:meth:`WSGIResponder.serve`): each chunk the app yields is sent at once, at
most :data:`_SEND_QUEUE` batches queued.

:class:`wsgihub.asgi.ASGIHub` serves every request that is not an ASGI
mount's through one of these.  a2wsgi is optional (the ``uvicorn`` extra):
it is imported when a responder is made.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

if TYPE_CHECKING:
    from .types import Environ, Message, Receive, Scope, Send, StartResponse, WSGIApplication

__all__ = ["ASGI_SWITCH_INTERVAL", "DEFAULT_WSGI_THREADS", "Rooted", "ThreadPool", "WSGIResponder"]

#: Threads running WSGI mounts when none are asked for.
DEFAULT_WSGI_THREADS = 8

#: ``sys.setswitchinterval`` that ``wsgihub serve --server uvicorn|granian`` sets (``--switch-interval``):
#: the loop needs the GIL for every read and write while the pool's threads run Python code, and
#: with Python's 5 ms it waited up to that long each time, behind each of them (the p99 of the hub
#: under uvicorn workers, docs/benchmarks.md).
ASGI_SWITCH_INTERVAL = 0.001

#: Batches of a WSGI response that may wait unsent before the app's thread waits.
_SEND_QUEUE = 10


class WSGIResponder:
    """Answers ASGI HTTP requests with WSGI apps run in a pool of ``threads`` threads.

    One per :class:`~wsgihub.asgi.ASGIHub`: :meth:`serve` runs any WSGI app
    (the hub, the hub in its front layers, one mount's app) for one request.
    """

    def __init__(self, threads: int = DEFAULT_WSGI_THREADS) -> None:
        # a2wsgi is optional (the 'uvicorn' extra; the Starlette adapter needs it too): only
        # the hub served by an ASGI server runs WSGI apps from an event loop.
        from a2wsgi.wsgi import Body, build_environ

        self.threads = threads
        #: The bounded pool running WSGI apps (daemon threads: a request still running
        #: after the server's drain timeout does not keep the process alive).
        self.pool = ThreadPool(threads)
        # (typed Any: a2wsgi's TypedDict scopes are stricter than the plain mappings here)
        self._body: Any = Body
        self._build_environ: Any = build_environ

    async def serve(self, app: WSGIApplication, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the WSGI ``app`` for an HTTP request in the pool, streaming both ways.

        The environ is a2wsgi's (``SCRIPT_NAME`` from ``root_path``, the body
        read from ``receive()`` as the app reads ``wsgi.input``).  The response
        crosses from the app's thread to the loop in batches, one wake-up per
        batch: a list or tuple body goes in one batch with the status; any
        other body one chunk at a time as the app yields it, the thread waiting
        when :data:`_SEND_QUEUE` batches are not sent yet (a slow client slows
        the app instead of filling memory).  The thread's end (after the body's
        ``close()``) is one more wake-up, carrying the app's exception if it
        raised: no executor future crosses back (that was a third wake-up).
        """
        loop = asyncio.get_running_loop()
        environ = self._build_environ(scope, self._body(loop, _coroutine(receive)))
        raw = scope.get("raw_path")
        if raw and (b"%" in raw or not raw.isascii()):
            # PEP 3333: PATH_INFO is the latin-1 decoding of the bytes sent, not of the
            # server's UTF-8 decoding of them (a2wsgi's: /a/%ff would be /a/\ufffd).
            _path_info(environ, raw)
        response = _Response(loop)
        self.pool.run_soon(contextvars.copy_context().run, response.run, app, environ)
        batches = response.batches
        try:
            while True:
                if not batches:
                    await response.arrival()
                batch = batches.popleft()
                if batch is None:
                    break
                for message in batch:
                    await send(message)
                if response.room is not None:
                    response.room.release()
        except BaseException:
            response.abandon()
            raise
        if response.error is not None:
            raise response.error


class _ClientGone(Exception):
    """The server stopped taking the response (disconnect, cancelled task): the app's iteration ends."""


class _Response:
    """A WSGI response made in a pool thread and sent by the event loop (see :meth:`WSGIResponder.serve`)."""

    __slots__ = ("batches", "error", "gone", "loop", "room", "started", "status", "waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        #: Batches handed to the loop and not sent yet; ``None`` last: the app's thread is done.
        #: (A deque and one future at a time: an ``asyncio.Queue`` per request cost more.)
        self.batches: collections.deque[list[Message] | None] = collections.deque()
        #: What the loop awaits while ``batches`` is empty.
        self.waiter: asyncio.Future[None] | None = None
        #: Bounds a streamed body's unsent batches (made at its first chunk: a list body is one batch).
        self.room: threading.Semaphore | None = None
        self.gone = False
        self.started = False
        self.status: Message | None = None
        #: What the app raised (set before the end is signalled): raised again on the loop.
        self.error: BaseException | None = None

    # -- in the app's thread ------------------------------------------------------------------
    def start_response(self, status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status = {
            "type": "http.response.start",
            "status": int(status.split(" ", 1)[0]),
            "headers": [(n.strip().encode("latin-1").lower(), v.strip().encode("latin-1")) for n, v in headers],
        }
        return self.write

    def write(self, data: bytes) -> None:
        self._put([{"type": "http.response.body", "body": data, "more_body": True}], bounded=True)

    def _put(self, batch: list[Message], bounded: bool = False) -> None:
        if not self.started:
            if self.status is None:
                raise RuntimeError("the WSGI app sent a body before calling start_response")
            self.started = True
            batch.insert(0, self.status)
        if bounded:  # a chunk of a streamed body: wait while _SEND_QUEUE batches are unsent
            if self.room is None:
                self.room = threading.Semaphore(_SEND_QUEUE)
            self.room.acquire()
        if self.gone:
            raise _ClientGone
        self.loop.call_soon_threadsafe(self._arrive, batch)

    def run(self, app: WSGIApplication, environ: Environ) -> None:
        try:
            body = app(environ, self.start_response)
            try:
                if isinstance(body, (list, tuple)):  # the whole body is there: one batch
                    chunks = [c for c in body if c]
                    batch: list[Message] = [
                        {"type": "http.response.body", "body": c, "more_body": True} for c in chunks[:-1]
                    ]
                    batch.append({"type": "http.response.body", "body": chunks[-1] if chunks else b"", "more_body": False})
                    self._put(batch)
                else:
                    for chunk in body:
                        if chunk:
                            self._put([{"type": "http.response.body", "body": chunk, "more_body": True}], bounded=True)
                    self._put([{"type": "http.response.body", "body": b"", "more_body": False}], bounded=True)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        except _ClientGone:
            pass
        except BaseException as exc:  # noqa: BLE001 - raised again on the loop, in the request's task
            self.error = exc
        finally:
            self.loop.call_soon_threadsafe(self._arrive, None)

    # -- on the loop ----------------------------------------------------------------------------
    def _arrive(self, batch: list[Message] | None) -> None:
        self.batches.append(batch)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def arrival(self) -> asyncio.Future[None]:
        """A future done when the next batch (or the end) has arrived."""
        self.waiter = waiter = self.loop.create_future()
        return waiter

    def abandon(self) -> None:
        """The response will not be sent on: let the app's thread end at its next chunk."""
        self.gone = True
        room = self.room
        if room is not None:  # (made later, it starts with room to spare: the thread sees gone first)
            for _ in range(_SEND_QUEUE + 1):
                room.release()


class ThreadPool(Executor):
    """At most ``size`` daemon threads running submitted calls in order (made as needed).

    :class:`concurrent.futures.ThreadPoolExecutor` joins its threads at
    interpreter exit, so one WSGI request stuck past the drain timeout would
    keep a stopped server's process alive; these threads end with the process.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a thread pool needs at least one thread, not {size}")
        self.size = size
        self._work: queue.SimpleQueue[tuple[Future[Any] | None, Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` in a pool thread; its :class:`~concurrent.futures.Future`."""
        if kwargs:
            fn = functools.partial(fn, **kwargs)
        future: Future[Any] = Future()
        self._enqueue((future, fn, args))
        return future

    def run_soon(self, fn: Callable[..., Any], /, *args: Any) -> None:
        """Run ``fn(*args)`` in a pool thread, with no future: ``fn`` reports its own outcome.

        (:meth:`submit`'s future costs the loop a wake-up when it completes;
        :meth:`WSGIResponder.serve` learns the end from the response itself.)
        An exception ``fn`` lets out is lost: it must catch its own.
        """
        self._enqueue((None, fn, args))

    def _enqueue(self, item: tuple[Future[Any] | None, Callable[..., Any], tuple[Any, ...]]) -> None:
        """Queue ``item``; start a thread when none is idle and the pool is not full."""
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit to a thread pool that was shut down")
            self._work.put(item)
            if self._idle == 0 and len(self._threads) < self.size:
                thread = threading.Thread(target=self._run, name=f"wsgihub-wsgi-{len(self._threads) + 1}", daemon=True)
                self._threads.append(thread)
                thread.start()
            else:
                self._idle -= 1 if self._idle else 0

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            future, fn, args = item
            if future is None:
                try:
                    fn(*args)
                except BaseException:  # noqa: BLE001, S110 - run_soon: fn reports its own outcome
                    pass
            elif future.set_running_or_notify_cancel():
                try:
                    result = fn(*args)
                except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del item, future, fn, args
            with self._lock:
                self._idle += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Let the threads end once the queued work is done (``wait``: join them)."""
        with self._lock:
            self._shutdown = True
            threads = list(self._threads)
        for _ in threads:
            self._work.put(None)
        if wait:
            for thread in threads:
                thread.join()



class Rooted:
    """A WSGI app that is told the ``SCRIPT_NAME`` in front of the hub (for the request slot)."""

    __slots__ = ("app", "root")

    def __init__(self, app: WSGIApplication, root: str) -> None:
        self.app, self.root = app, root

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgihub.asgi.root"] = self.root
        return self.app(environ, start_response)


def _path_info(environ: Environ, raw_path: bytes) -> None:
    """Set ``PATH_INFO`` from the request's raw path: percent-decoded bytes, latin-1 (PEP 3333).

    ``raw_path`` is the path as sent (the query string not included, the
    server's ``root_path`` in front when it has one, as uvicorn does);
    ``SCRIPT_NAME`` (from ``root_path``) is cut from its front when it is there.
    """
    path = unquote_to_bytes(raw_path.partition(b"?")[0]).decode("latin-1")
    script_name = environ.get("SCRIPT_NAME", "")
    if script_name and path.startswith(script_name) and path[len(script_name) : len(script_name) + 1] in ("", "/"):
        path = path[len(script_name) :]
    environ["PATH_INFO"] = path


def _coroutine(receive: Receive) -> Receive:
    """``receive`` as a coroutine function (a2wsgi's body reader needs one; granian's is a Rust awaitable)."""

    async def coroutine() -> Message:
        return await receive()

    return coroutine
