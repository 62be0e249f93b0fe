"""Which request a hub serves here: ``wsgihub.current_hub()`` across nesting, threads and contexts."""

from __future__ import annotations

import contextvars
import threading
from typing import Any

import pytest
from wsgi_helpers import call

import wsgihub
from wsgihub import Hub
from wsgihub.plugins import make_plugins


def make_hub(name: str) -> Hub:
    return Hub(plugins=make_plugins(autoload=False), name=name)


def recording_app(seen: list[Any], action: Any = None) -> Any:
    """A plain app that records ``current_hub()`` (and runs ``action`` first)."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if action is not None:
            action(environ)
        seen.append(wsgihub.current_hub())
        start_response("200 OK", [])
        return [b"ok"]

    return app


def test_a_request_sees_its_hub_and_nothing_is_left_after_it() -> None:
    seen: list[Any] = []
    hub = make_hub("site")
    hub.mount("/", recording_app(seen))
    assert wsgihub.current_hub() is None
    call(hub, "/")
    assert seen == [hub]
    assert wsgihub.current_hub() is None


def test_nested_hubs_restore_the_outer_request() -> None:
    outer_seen: list[Any] = []
    inner = make_hub("inner")
    inner.mount("/", recording_app([]))

    def outer_app(environ: dict[str, Any], start_response: Any) -> Any:
        body = inner(environ, start_response)
        outer_seen.append(wsgihub.current_hub())
        return body

    outer = make_hub("outer")
    outer.mount("/deep", outer_app)
    assert call(outer, "/deep/x").text == "ok"
    assert outer_seen == [outer]
    assert wsgihub.current_hub() is None


def test_an_app_that_raises_leaves_no_request_behind() -> None:
    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("boom")

    hub = make_hub("site")
    hub.mount("/", broken)
    with pytest.raises(RuntimeError):
        call(hub, "/")
    assert wsgihub.current_hub() is None


def test_a_context_copied_during_the_request_sees_it_in_another_thread() -> None:
    """asgiref's async_to_sync and asyncio.to_thread run code this way."""
    from_copy: list[Any] = []
    from_new_thread: list[Any] = []

    def action(environ: dict[str, Any]) -> None:
        context = contextvars.copy_context()
        copied = threading.Thread(target=context.run, args=(lambda: from_copy.append(wsgihub.current_hub()),))
        fresh = threading.Thread(target=lambda: from_new_thread.append(wsgihub.current_hub()))
        for thread in (copied, fresh):
            thread.start()
            thread.join()

    hub = make_hub("site")
    hub.mount("/", recording_app([], action))
    call(hub, "/")
    assert from_copy == [hub]
    assert from_new_thread == [None]


def test_concurrent_requests_in_threads_each_see_their_own_hub() -> None:
    hubs = [make_hub(f"h{i}") for i in range(4)]
    barrier = threading.Barrier(len(hubs))
    seen: dict[str, list[Any]] = {hub.name: [] for hub in hubs}
    for hub in hubs:
        # every request waits until all four are inside their hub at once
        hub.mount("/", recording_app(seen[hub.name], lambda environ: barrier.wait(timeout=10)))

    def serve(hub: Hub) -> None:
        for _ in range(3):
            call(hub, "/")

    threads = [threading.Thread(target=serve, args=(hub,)) for hub in hubs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(seen[hub.name] == [hub] * 3 for hub in hubs)


def test_threads_running_copies_of_one_context_do_not_share_their_requests() -> None:
    """WSGI-in-ASGI bridges run each request in a copy of the loop's context.

    When that context already saw a hub request (startup code, a test), every
    copy inherits the same slot; concurrent requests must still stay apart.
    """
    warmup = make_hub("warmup")
    warmup.mount("/", recording_app([]))
    call(warmup, "/")  # this (the main) context now has a slot
    hubs = [make_hub(f"h{i}") for i in range(4)]
    inside = threading.Barrier(len(hubs))
    seen: dict[str, list[Any]] = {hub.name: [] for hub in hubs}
    for hub in hubs:
        hub.mount("/", recording_app(seen[hub.name], lambda environ: inside.wait(timeout=10)))

    # copies of this context, taken here (a new thread's own context is empty)
    threads = [threading.Thread(target=contextvars.copy_context().run, args=(call, hub, "/")) for hub in hubs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(seen[hub.name] == [hub] for hub in hubs)
    assert wsgihub.current_hub() is None
