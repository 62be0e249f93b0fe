"""URLs across all four frameworks, from inside each other's requests, under load."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.urls import get_script_prefix
from xsite.apps import TARGETS, make_hub

import wsgihub
from wsgihub.servers.waitress import WaitressServer


def expected(mount: str, n: int, origin: str = "") -> str:
    return origin + f"/{mount}" + TARGETS[mount][1].format(n=n)


@pytest.fixture(scope="module")
def hub() -> wsgihub.Hub:
    return make_hub(trusted_hosts=["127.0.0.1"])


@pytest.fixture(scope="module")
def server(hub: wsgihub.Hub) -> Iterator[str]:
    """The hub under a real waitress server on the hub's own bus."""
    srv = WaitressServer(hub.bus, hub, host="127.0.0.1", port=0, threads=8)
    srv.subscribe()
    hub.bus.start()
    try:
        yield srv.url
    finally:
        hub.bus.stop()
        srv.unsubscribe()


def test_every_app_is_recognised(hub: wsgihub.Hub) -> None:
    assert {p.name: p.framework for p in hub.pegs()} == {
        "flask": "flask", "dj": "django", "pyr": "pyramid", "wz": "werkzeug",
    }  # fmt: skip


def test_outside_requests(hub: wsgihub.Hub) -> None:
    for mount in TARGETS:
        assert hub.url_for(f"{mount}:item", n=7) == expected(mount, 7)


@pytest.mark.live
@pytest.mark.parametrize("caller", sorted(TARGETS))
def test_each_app_builds_into_every_other(server: str, caller: str) -> None:
    reply = requests.get(f"{server}/{caller}/build", params={"start": 0, "count": 8, "external": 1}, timeout=10)
    assert reply.status_code == 200, reply.text
    for mount, n, url in reply.json():
        assert url == expected(mount, n, server), (caller, mount)


@pytest.mark.live
def test_16_threads_x_2000_builds_through_waitress(server: str) -> None:
    """16 client threads; each request makes 20 builds in one of the four apps."""
    callers = sorted(TARGETS)
    wrong: list[Any] = []
    failures: list[str] = []
    counted = [0] * 16

    def client(t: int) -> None:
        session = requests.Session()
        try:
            for r in range(100):
                caller = callers[(t + r) % 4]
                start = (t * 100 + r) * 20
                reply = session.get(f"{server}/{caller}/build", params={"start": start, "count": 20}, timeout=30)
                if reply.status_code != 200:
                    failures.append(f"{caller}: {reply.status_code}")
                    continue
                for mount, n, url in json.loads(reply.text):
                    counted[t] += 1
                    if url != expected(mount, n):
                        wrong.append((caller, mount, n, url))
        except Exception as exc:  # noqa: BLE001 - reported below, never swallowed
            failures.append(repr(exc))

    threads = [threading.Thread(target=client, args=(t,)) for t in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert wrong == []
    assert counted == [2000] * 16


def test_django_script_prefix_does_not_leak(hub: wsgihub.Hub) -> None:
    before = get_script_prefix()
    with hub.request_context("flask"):
        assert wsgihub.url_for("dj:item", n=1) == "/dj/item/1/"
    assert get_script_prefix() == before


def test_partyline_url_service_reaches_every_framework(hub: wsgihub.Hub) -> None:
    answers = hub.partyline.ask_around("url", {"endpoint": "item", "values": {"n": 3}})
    assert sorted(answers) == sorted(expected(m, 3) for m in TARGETS)
