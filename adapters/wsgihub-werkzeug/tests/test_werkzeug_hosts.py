"""A plain Werkzeug app gets the hub's Host check, as Flask and Pyramid mounts do.

Werkzeug's own redirects (``/items`` -> ``Location: http://<Host>/items/``)
and ``MapAdapter.build(..., force_external=True)`` use the request's Host,
and a plain Werkzeug app checks nothing (no ``TRUSTED_HOSTS``).  When the
hub has ``trusted_hosts`` or a ``public_url``, the mount answers every other
Host ``400 Bad Request`` before the app runs (body ``Bad Request: untrusted
Host``, the Host only in the ``wsgihub.security`` log).  Served by waitress
on loopback, the Host sent as given.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from werkzeug.wrappers import Request

from wsgihub.testing import LiveServer, serving
from wsgihub.testing.client import call

#: Host values, and whether a hub trusting example.com, .example.org and [::1] takes them.
SPELLINGS = [
    ("example.com", True),
    ("EXAMPLE.com.:8080", True),
    ("api.example.org", True),
    ("[0:0::1]:8080", True),
    ("evil.com", False),
    ("example.com.evil.com", False),
    ("example.com@evil.com", False),
    ("my_host.example.org", False),
    ("a..example.org", False),
    ("[::2]", False),
]


def _exchange(server: LiveServer, path: str, host: str) -> tuple[int, str | None, bytes]:
    result = server.get(path, headers={"Host": host})
    return result.code, result.header("Location"), result.body


@pytest.mark.parametrize(("host", "trusted"), SPELLINGS)
def test_an_untrusted_host_gets_400_before_the_app_runs(make_hub, shop, host: str, trusted: bool) -> None:
    hub = make_hub(trusted_hosts=["example.com", ".example.org", "[::1]"])
    hub.mount("/shop", shop)
    with serving(hub) as server:
        status, location, body = _exchange(server, "/shop/items", host)
    if trusted:
        assert (status, shop.calls) == (308, 1)
        assert location is not None and location.endswith("/shop/items/")
    else:
        assert (status, location, body) == (400, None, b"Bad Request: untrusted Host\n")
        assert shop.calls == 0, "the app never saw the request"


def test_a_redirect_carries_only_a_trusted_host(make_hub, shop) -> None:
    hub = make_hub(trusted_hosts=["example.com"], public_url="https://www.example.net/")
    hub.mount("/shop", shop)
    with serving(hub) as server:
        assert _exchange(server, "/shop/items", "example.com:8080")[:2] == (308, "http://example.com:8080/shop/items/")
        assert _exchange(server, "/shop/items", "www.example.net")[:2] == (308, "http://www.example.net/shop/items/")
        assert _exchange(server, "/shop/items", "evil.com")[:2] == (400, None)


def test_the_refusal_is_logged_without_echoing_the_host(make_hub, shop, caplog: pytest.LogCaptureFixture) -> None:
    hub = make_hub(trusted_hosts=["example.com"])
    hub.mount("/shop", shop)
    with caplog.at_level(logging.WARNING, logger="wsgihub.security"):
        result = call(hub, "/shop/items/", HTTP_HOST="evil.com")
    assert (result.code, result.body) == (400, b"Bad Request: untrusted Host\n")
    assert [r.getMessage() for r in caplog.records] == ["400 for GET /items/: Host 'evil.com' is not trusted"]


@pytest.mark.parametrize("options", [{}, {"trusted_hosts": ["*"]}], ids=["nothing", "wildcard"])
def test_a_hub_that_restricts_nothing_checks_nothing(make_hub, shop, options: dict[str, Any]) -> None:
    hub = make_hub(**options)
    peg = hub.mount("/shop", shop)
    assert peg.app is shop
    assert call(hub, "/shop/items/", HTTP_HOST="evil.com").code == 200


def test_an_app_with_its_own_trusted_hosts_keeps_its_own_check(make_hub, make_shop) -> None:
    """A Werkzeug app whose request class sets ``trusted_hosts`` checks Host itself."""

    class OwnRequest(Request):
        trusted_hosts = ("intranet.test",)  # type: ignore[assignment]

    own = make_shop("own")
    own.request_class = OwnRequest
    hub = make_hub(trusted_hosts=["example.com"])
    peg = hub.mount("/own", own)
    assert peg.app is own
    assert call(hub, "/own/items/", HTTP_HOST="intranet.test").code == 200


def test_unmounting_and_mounting_again_checks_once(make_hub, shop) -> None:
    hub = make_hub(trusted_hosts=["example.com"])
    peg = hub.mount("/shop", shop)
    again = hub.mount("/again", peg.app)  # the mounted callable (the check) mounted once more
    assert again.adapter is not None and again.adapter.app is shop
    assert call(hub, "/again/items/", HTTP_HOST="example.com").code == 200
    assert call(hub, "/again/items/", HTTP_HOST="evil.com").code == 400
    hub.unmount(peg)
    assert call(hub, "/again/items/", HTTP_HOST="evil.com").code == 400
