"""A real waitress server on loopback in front of the hub: Django and Flask link to each other."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any

import pytest

import wsgihub
from wsgihub.testing import serving


@pytest.fixture
def server(hub: wsgihub.Hub) -> Iterator[tuple[str, int]]:
    with serving(hub, threads=4) as live:  # drains and closes every connection at the end
        yield live.host, live.port


def get(
    address: tuple[str, int], path: str, headers: dict[str, str] | None = None
) -> tuple[int, str, Any]:
    conn = http.client.HTTPConnection(*address, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode(), response
    finally:
        conn.close()


@pytest.mark.live
def test_round_trip_through_waitress(server: tuple[str, int]) -> None:
    host = {"Host": "example.com"}
    assert get(server, "/legacy/to-new/", host)[:2] == (
        200,
        "/new/users/5 /new/users/6 /legacy/blog/",
    )
    assert get(server, "/new/post/12", host)[:2] == (200, "/legacy/blog/12/ True")
    assert get(server, "/legacy/blog/3/", host)[:2] == (200, "post 3")
    assert get(server, "/blog/3/", host)[:2] == (200, "post 3")
    status, _, response = get(server, "/legacy/blog/3", host)  # APPEND_SLASH under the mount
    assert (status, response.getheader("Location")) == (301, "/legacy/blog/3/")
    # a session created by Django is seen by Flask through request_context
    status, _, response = get(server, "/legacy/login/carol/", host)
    cookies = [c.split(";")[0] for c in response.msg.get_all("Set-Cookie")]
    cookie = next(c for c in cookies if c.startswith("sessionid="))
    assert get(server, "/legacy/me/", {**host, "Cookie": cookie})[:2] == (200, "carol")
    assert get(server, "/new/whoami", {**host, "Cookie": cookie})[:2] == (200, "carol")
    # waitress threads reuse their Django script prefix; builds never see a stale one
    for _ in range(5):
        assert get(server, "/legacy2/prefix/", host)[1] == "/legacy2/ /legacy2/"
        assert get(server, "/prefix/", host)[1] == "/ /"
        assert get(server, "/new/post/1", host)[1] == "/legacy/blog/1/ True"
