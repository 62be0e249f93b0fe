"""Bodies stream through the bridge both ways under a real waitress: 20 MB, never whole in memory.

Upload: the client sends 20 MB in 64 KiB pieces; the FastAPI endpoint reads
``request.stream()`` and sees pieces of at most a2wsgi's 64 KiB.  Download:
the endpoint streams 20 MB; its first chunk reaches the client while the
endpoint is still waiting for the client to say so (if anything buffered
the response, the endpoint would never hear back).  In both directions the
process's traced memory peak stays far below the body's size.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import pytest
import wsgihub_starlette.plugin
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from wsgihub import Hub
from wsgihub.plugins import make_plugins
from wsgihub.servers.waitress import WaitressServer
from wsgihub.testing import LiveServer, serving

SIZE = 20 * 1024 * 1024
PIECE = 64 * 1024
#: Far below SIZE: what a request may add to the process's traced memory at its peak.
MEMORY_BOUND = 6 * 1024 * 1024


def piece(i: int) -> bytes:
    return bytes([i % 251]) * PIECE


def pieces() -> Iterator[bytes]:
    for i in range(SIZE // PIECE):
        yield piece(i)


def expected_digest() -> str:
    digest = hashlib.sha256()
    for data in pieces():
        digest.update(data)
    return digest.hexdigest()


@pytest.fixture
def gate() -> threading.Event:
    return threading.Event()


@pytest.fixture
def hub(gate: threading.Event) -> Hub:
    app = FastAPI()
    heard: list[bool] = []

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        digest, total, largest, count = hashlib.sha256(), 0, 0, 0
        async for data in request.stream():
            digest.update(data)
            total += len(data)
            largest = max(largest, len(data))
            count += 1 if data else 0
        return {"total": total, "largest": largest, "count": count, "sha256": digest.hexdigest()}

    @app.get("/download")
    def download() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield piece(0)
            # wait (off the loop) until the client has read the first chunk
            heard.append(await anyio.to_thread.run_sync(gate.wait, 30))
            for i in range(1, SIZE // PIECE):
                yield piece(i)

        return StreamingResponse(body(), media_type="application/octet-stream")

    @app.get("/heard")
    def was_heard() -> list[bool]:
        return heard

    hub = Hub(plugins=make_plugins(autoload=False, plugins=[wsgihub_starlette.plugin]))
    hub.mount("/api", app)
    return hub


def test_upload_streams_to_the_app(hub: Hub) -> None:
    with serving(hub, threads=2) as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
        tracemalloc.start()
        try:
            connection.request("POST", "/api/upload", body=pieces(), headers={"Content-Length": str(SIZE)})
            response = connection.getresponse()
            answer = json.loads(response.read())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            connection.close()
    assert response.status == 200, answer
    assert answer["total"] == SIZE and answer["sha256"] == expected_digest()
    assert answer["largest"] <= PIECE and answer["count"] >= SIZE // PIECE  # pieces, never the whole body
    assert peak < MEMORY_BOUND, f"traced memory peaked at {peak / 1e6:.1f} MB for a {SIZE / 1e6:.0f} MB upload"


@contextmanager
def serving_bounded(hub: Hub) -> Iterator[LiveServer]:
    """:func:`wsgihub.testing.serving` with waitress's output buffer bounded.

    waitress keeps up to ``outbuf_high_watermark`` (16 MB by default) of
    a response the client has not read yet before it blocks the app's
    thread; bounded here so that the measure is the bridge's, not the server's.
    """
    server = WaitressServer(hub.bus, hub, "127.0.0.1", 0, threads=2, options={"outbuf_high_watermark": 1024 * 1024})
    server.subscribe()
    try:
        hub.bus.start()
        assert server.bound is not None
        host, port = server.bound
        yield LiveServer(server.url, host, port, hub.bus, server)
    finally:
        try:
            hub.bus.stop()
        finally:
            server.unsubscribe()


def test_download_streams_to_the_client(hub: Hub, gate: threading.Event) -> None:
    with serving_bounded(hub) as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
        tracemalloc.start()
        try:
            connection.request("GET", "/api/download")
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Transfer-Encoding") == "chunked"
            first = response.read(PIECE)  # arrives while the endpoint waits for the gate
            gate.set()
            digest, total = hashlib.sha256(first), len(first)
            while data := response.read(PIECE):
                digest.update(data)
                total += len(data)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            connection.close()
        heard = json.loads(server.get("/api/heard").text)
    assert first == piece(0)
    assert heard == [True], "the endpoint never heard that the first chunk arrived"
    assert total == SIZE and digest.hexdigest() == expected_digest()
    assert peak < MEMORY_BOUND, f"traced memory peaked at {peak / 1e6:.1f} MB for a {SIZE / 1e6:.0f} MB download"
