"""Behind proxies (issue 11 §5): forwarded headers only from ``--forwarded-allow-ips``.

In-process tests call the serving stack (:func:`wsgihub.servers.front.front`
around a real hub, ``live_apps.proxied:site``) the way a server would, with
the peer in ``REMOTE_ADDR``; the live tests run ``wsgihub serve`` under
waitress and under gunicorn and send real requests from 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from wsgihub.inspector import Inspector
from wsgihub.proxy import (
    MAX_HOPS,
    ProxyHeaders,
    TrustedProxies,
    parse_forwarded,
    resolve_forwarding,
)
from wsgihub.servers.front import front
from wsgihub.testing.client import call, make_environ
from wsgihub.urls import parse_host

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_apps._process import ServeProcess, run_serve
from live_apps.proxied import site

PROXY = "127.0.0.1"
TRUSTED = "127.0.0.1, 10.0.0.0/8, 2001:db8::/32"


def served(allow_ips: str | None = TRUSTED) -> Any:
    """The live site behind the front layers, trusting ``allow_ips``."""
    return front(site(), SimpleNamespace(forwarded_allow_ips=allow_ips))


def seen(app: Any, peer: str = PROXY, path: str = "/app/pages/3", **headers: str) -> dict[str, Any]:
    """What the app saw (its JSON report) for a request from ``peer`` with ``headers``."""
    result = call(app, path, REMOTE_ADDR=peer, HTTP_HOST="127.0.0.1:8000", **headers)
    assert result.code == 200, result.body
    report: dict[str, Any] = json.loads(result.body.decode().split(" ", 2)[2])
    return report


def environ_after(allow_ips: str, peer: str = PROXY, **headers: str) -> dict[str, Any]:
    """The environ the next layer gets from :class:`ProxyHeaders`."""
    got: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        got.update(environ)
        start_response("204 No Content", [])
        return []

    call(ProxyHeaders(app, allow_ips), "/", REMOTE_ADDR=peer, HTTP_HOST="backend:8000", **headers)
    return got


# -- from a trusted proxy ----------------------------------------------------------------------
def test_a_trusted_proxy_sets_client_scheme_host_and_prefix() -> None:
    report = seen(
        served(),
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="public.example",
        HTTP_X_FORWARDED_PREFIX="/site",
    )
    assert report["remote_addr"] == "203.0.113.9" and report["peer"] == PROXY
    assert (report["scheme"], report["host"]) == ("https", "public.example")
    assert report["script_name"] == "/site/app"  # the outer prefix, then the mount
    assert report["link"] == "https://public.example/site/app/pages/1"


def test_the_original_values_are_kept() -> None:
    environ = environ_after(
        PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_HOST="a.example:8443"
    )
    assert environ["wsgihub.proxy.peer"] == PROXY
    assert environ["wsgihub.proxy.orig"] == {
        "REMOTE_ADDR": PROXY,
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "backend:8000",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
    }
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("a.example", "8443")
    assert environ["HTTP_X_FORWARDED_FOR"] == "203.0.113.9"  # what was read stays, for apps that read it too


def test_a_host_the_hub_does_not_trust_is_still_refused_for_absolute_urls() -> None:
    report = seen(served(), HTTP_X_FORWARDED_HOST="evil.example", HTTP_X_FORWARDED_PROTO="https")
    assert report["host"] == "evil.example"
    assert report["link"] is None  # UntrustedHostError: not in trusted_hosts, no public_url


def test_the_client_is_the_rightmost_hop_that_is_not_a_trusted_proxy() -> None:
    # a client-supplied entry, the real client, then an inner trusted proxy
    report = seen(served(), HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9, 10.1.2.3")
    assert report["remote_addr"] == "203.0.113.9"
    # every hop a trusted proxy: the leftmost is the client
    assert seen(served(), HTTP_X_FORWARDED_FOR="10.0.0.7, 10.1.2.3")["remote_addr"] == "10.0.0.7"
    # IPv6, with and without brackets, and IPv4 with a port (some proxies add it)
    assert seen(served(), HTTP_X_FORWARDED_FOR="2001:DB9::1")["remote_addr"] == "2001:db9::1"
    assert seen(served(), HTTP_X_FORWARDED_FOR="[2001:db9::1]:443")["remote_addr"] == "2001:db9::1"
    assert seen(served(), HTTP_X_FORWARDED_FOR="203.0.113.9:5123")["remote_addr"] == "203.0.113.9"
    # an IPv4-mapped peer is its IPv4 address
    assert seen(served(), peer="::ffff:127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")["remote_addr"] == "203.0.113.9"


def test_values_come_from_the_hop_nearest_the_client_a_trusted_proxy_vouches_for() -> None:
    # the client sent https in front; our one proxy appended what it saw: http
    report = seen(served(), HTTP_X_FORWARDED_FOR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https, http")
    assert report["scheme"] == "http"
    # two trusted proxies, each appending: the outer one's value (nearest the client)
    report = seen(
        served(),
        HTTP_X_FORWARDED_FOR="203.0.113.9, 10.1.2.3",
        HTTP_X_FORWARDED_PROTO="https, http",
        HTTP_X_FORWARDED_HOST="public.example, inner.local",
    )
    assert (report["scheme"], report["host"]) == ("https", "public.example")
    # the outer one set a single value the inner one passed on
    assert seen(served(), HTTP_X_FORWARDED_FOR="203.0.113.9, 10.1.2.3", HTTP_X_FORWARDED_PROTO="https")["scheme"] == "https"
    # repeated header fields arrive joined with commas: the same rule
    report = seen(served(), HTTP_X_FORWARDED_PREFIX="/evil,/site", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert report["script_name"] == "/site/app"


def test_rfc_7239_forwarded() -> None:
    report = seen(
        served(),
        HTTP_FORWARDED='for=198.51.100.1;host=evil.example, For="[2001:db9::17]:4711";Proto=HTTPS;host="public.example", for=10.1.2.3;proto=http',
    )
    assert (report["remote_addr"], report["scheme"], report["host"]) == ("2001:db9::17", "https", "public.example")
    assert report["link"] == "https://public.example/app/pages/1"
    environ = environ_after(TRUSTED, HTTP_FORWARDED='for="[2001:db9::17]:4711"')
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("2001:db9::17", "4711")
    # quoted strings: commas and semicolons inside, escapes
    assert parse_forwarded('for="_a,b;c";by=x, host="a\\"b"') == [{"for": "_a,b;c", "by": "x"}, {"host": 'a"b'}]
    assert parse_forwarded(" ,, ;for=192.0.2.1;, ") == [{"for": "192.0.2.1"}]


def test_unknown_and_obfuscated_clients_never_become_the_proxys_address() -> None:
    for header, client in [
        ("for=unknown;proto=https", "unknown"),
        ("for=_hidden;proto=https", "_hidden"),
        ('for="_gazonk:_port"', "_gazonk"),
        ("proto=https", "unknown"),  # no for=
        ("for=2001:db8::1", "unknown"),  # IPv6 must be bracketed (and quoted) here
        ('for="[fe80::1%25eth0]"', "unknown"),  # zone ids name an interface of the proxy
    ]:
        environ = environ_after(TRUSTED, HTTP_FORWARDED=header)
        assert environ["REMOTE_ADDR"] == client, header
    assert environ_after(TRUSTED, HTTP_X_FORWARDED_FOR="unknown")["REMOTE_ADDR"] == "unknown"
    assert environ_after(TRUSTED, HTTP_X_FORWARDED_FOR="not an address")["REMOTE_ADDR"] == "unknown"
    # the inspector (local clients only) does not open to a client the proxy could not name
    hub = site()
    app = ProxyHeaders(Inspector(hub, hub, "/_hub"), PROXY)
    assert call(app, "/_hub.json", REMOTE_ADDR=PROXY, HTTP_FORWARDED="for=unknown").code == 404
    assert call(app, "/_hub.json", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="garbage").code == 404
    assert call(app, "/_hub.json", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="127.0.0.1").code == 200


def test_one_kind_of_header_per_proxy() -> None:
    # the proxy writes X-Forwarded-*: a Forwarded header is the client's, ignored and removed
    environ = environ_after(
        TRUSTED, HTTP_X_FORWARDED_FOR="203.0.113.9", HTTP_FORWARDED="for=198.51.100.1;proto=https;host=evil.example"
    )
    assert (environ["REMOTE_ADDR"], environ["wsgi.url_scheme"], environ["HTTP_HOST"]) == ("203.0.113.9", "http", "backend:8000")
    assert "HTTP_FORWARDED" not in environ
    # the proxy writes Forwarded: X-Forwarded-Proto/-Host are the client's
    environ = environ_after(
        TRUSTED, HTTP_FORWARDED="for=203.0.113.9", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_HOST="evil.example"
    )
    assert (environ["REMOTE_ADDR"], environ["wsgi.url_scheme"], environ["HTTP_HOST"]) == ("203.0.113.9", "http", "backend:8000")
    assert "HTTP_X_FORWARDED_PROTO" not in environ and "HTTP_X_FORWARDED_HOST" not in environ


# -- SCRIPT_NAME ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "prefix",
    ["site", "/a/../b", "/a/./b", "//evil.example/x", "/%2e%2e", "/a b", "/caf\u00e9", "/a?b", "/a#b", "/a;b", "/" + "a" * 2000],
)
def test_an_invalid_prefix_is_ignored(prefix: str) -> None:
    assert seen(served(), HTTP_X_FORWARDED_PREFIX=prefix)["script_name"] == "/app"


def test_script_name_never_comes_from_any_other_header() -> None:
    report = seen(served(), HTTP_SCRIPT_NAME="/evil", HTTP_X_SCRIPT_NAME="/evil", HTTP_X_FORWARDED_PATH="/evil")
    assert report["script_name"] == "/app"
    assert seen(served(), HTTP_X_FORWARDED_PREFIX="/site/")["script_name"] == "/site/app"  # normalised


# -- from anyone else --------------------------------------------------------------------------
def test_an_untrusted_peer_s_forwarded_headers_are_ignored_and_removed() -> None:
    report = seen(
        served(),
        peer="198.51.100.1",
        HTTP_X_FORWARDED_FOR="127.0.0.1",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="public.example",
        HTTP_X_FORWARDED_PREFIX="/evil",
        HTTP_X_FORWARDED_SSL="on",
        HTTP_FORWARDED="for=127.0.0.1;proto=https",
    )
    assert (report["remote_addr"], report["peer"]) == ("198.51.100.1", "198.51.100.1")
    assert (report["scheme"], report["host"], report["script_name"]) == ("http", "127.0.0.1:8000", "/app")
    assert report["headers"] == []  # no app below can be fooled by them either
    assert report["link"] == "http://127.0.0.1:8000/app/pages/1"


def test_by_default_no_proxy_is_trusted_and_every_forwarded_header_is_removed() -> None:
    app = served(None)
    report = seen(
        app,
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_PREFIX="/evil",
        HTTP_X_REAL_IP="203.0.113.9",
        HTTP_FORWARDED="for=203.0.113.9",
    )
    assert (report["remote_addr"], report["scheme"], report["script_name"]) == (PROXY, "http", "/app")
    assert report["headers"] == []
    assert seen(served(""), HTTP_X_FORWARDED_FOR="203.0.113.9")["remote_addr"] == PROXY


def test_star_trusts_every_peer() -> None:
    assert seen(served("*"), peer="198.51.100.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1")["remote_addr"] == "203.0.113.9"


# -- hostile input -----------------------------------------------------------------------------
def test_huge_lists_are_read_from_the_right_only() -> None:
    many = ", ".join(["198.51.100.1"] * 100_000)
    assert environ_after(TRUSTED, HTTP_X_FORWARDED_FOR=many + ", 203.0.113.9")["REMOTE_ADDR"] == "203.0.113.9"
    trusted_hops = ", ".join(["10.0.0.1"] * (MAX_HOPS + 5))
    assert environ_after(TRUSTED, HTTP_X_FORWARDED_FOR=trusted_hops)["REMOTE_ADDR"] == "unknown"
    assert parse_forwarded(", ".join(["for=192.0.2.1"] * 100_000)) is None
    environ = environ_after(TRUSTED, HTTP_FORWARDED=", ".join(["for=192.0.2.1"] * 100_000), HTTP_X_FORWARDED_PROTO="https")
    assert (environ["REMOTE_ADDR"], environ["wsgi.url_scheme"]) == ("unknown", "http")


@pytest.mark.parametrize(
    "header",
    [
        "for=192.0.2.1;for=192.0.2.2",  # a parameter twice in one element
        "for=192.0.2.1:80",  # a port needs a quoted string
        'for="192.0.2.1',  # an unterminated quoted string
        "for=192.0.2.1 proto=https",
        "for",
        "=x",
        "for=192.0.2.1\r\nX-Injected: 1",
        "for=\x00",
        "for=\u00e9",
    ],
)
def test_a_forwarded_header_that_does_not_parse_is_ignored_as_a_whole(header: str) -> None:
    assert parse_forwarded(header) is None
    environ = environ_after(TRUSTED, HTTP_FORWARDED=header + ";proto=https")
    assert (environ["REMOTE_ADDR"], environ["wsgi.url_scheme"], environ["HTTP_HOST"]) == ("unknown", "http", "backend:8000")


@pytest.mark.parametrize(
    "host",
    ["evil.example\r\nX-Injected: 1", "user@public.example", "public.example/path", "", " ", "a..b", "[::1", "x:99999", "\u00e9.example"],
)
def test_a_forwarded_host_that_is_not_a_host_is_ignored(host: str) -> None:
    assert environ_after(TRUSTED, HTTP_X_FORWARDED_HOST=host)["HTTP_HOST"] == "backend:8000"
    assert environ_after(TRUSTED, HTTP_FORWARDED=f'for=192.0.2.1;host="{host}"')["HTTP_HOST"] == "backend:8000"


@pytest.mark.parametrize("proto", ["ftp", "javascript", "https\r\n", "HTTPS ", "", "h ttps"])
def test_only_http_and_https_become_the_scheme(proto: str) -> None:
    scheme = "https" if proto.strip().lower() == "https" else "http"
    assert environ_after(TRUSTED, HTTP_X_FORWARDED_PROTO=proto)["wsgi.url_scheme"] == scheme


def test_resolution_reads_nothing_from_an_untrusted_peer() -> None:
    environ = make_environ(REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert resolve_forwarding(environ, TrustedProxies(TRUSTED)) is None
    assert resolve_forwarding(make_environ(REMOTE_ADDR="not-an-ip"), TrustedProxies("*")) is None
    assert resolve_forwarding(make_environ(), TrustedProxies("*")) is None  # no REMOTE_ADDR at all


# -- the option ------------------------------------------------------------------------------
def test_allow_ips_parse_like_gunicorn() -> None:
    trusted = TrustedProxies(" 127.0.0.1 ,10.0.0.0/8,, 2001:db8::/32 ")
    assert [str(n) for n in trusted.networks] == ["127.0.0.1/32", "10.0.0.0/8", "2001:db8::/32"]
    assert trusted.trusts("10.200.0.1") and trusted.trusts("2001:db8::5") and not trusted.trusts("11.0.0.1")
    assert not TrustedProxies("") and TrustedProxies("*").trusts("192.0.2.1")
    for bad in ["localhost", "10.0.0.1/8", "300.0.0.1", "10.0.0.0/33"]:
        with pytest.raises(ValueError, match=re.escape(f"{bad!r} is not an IP address or network")):
            TrustedProxies(bad)
    with pytest.raises(ValueError, match="has host bits set"):
        TrustedProxies("10.0.0.1/8")


def test_a_bad_option_is_one_line_and_exit_2() -> None:
    result = run_serve(["live_apps.proxied:site", "--port", "0", "--forwarded-allow-ips", "127.0.0.1,proxy.local"])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        ("wsgihub: error: --forwarded-allow-ips 127.0.0.1,proxy.local: 'proxy.local' is not an IP address "
        "or network (expected proxy addresses or networks separated by commas, or *)")
    ]


def test_the_site_file_key_and_a_bad_value_there(tmp_path: Path) -> None:
    site = tmp_path / "site.ini"
    site.write_text("[composite:main]\nuse = egg:wsgihub#hub\n\n[server:main]\nforwarded_allow_ips = 10.0.0.0/8, proxy.local\n")
    result = run_serve([str(site), "--port", "0"])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        (
            f"wsgihub: error: {site} [server:main] forwarded_allow_ips: 'proxy.local' is not an IP address or "
            "network (expected proxy addresses or networks separated by commas, or *) (got '10.0.0.0/8, proxy.local')"
        )
    ]
    site.write_text(site.read_text().replace(", proxy.local", ""))
    shown = run_serve([str(site), "--print-config"])
    assert re.search(rf"^forwarded_allow_ips\s+10\.0\.0\.0/8\s+{re.escape(str(site))} \[server:main\]$", shown.stdout, re.MULTILINE), shown.stdout


# -- any input: the environ after the layer is always well-formed ----------------------------------
_HEADER_TEXT = st.text(alphabet=st.sampled_from(list('0123456789abcdef.:[]_,;="\\ \t/%-unknowUNKNOWN\r\n\x00\u00e9')), max_size=80)


@settings(max_examples=400, deadline=None)
@given(
    peer=st.sampled_from(["127.0.0.1", "10.9.8.7", "198.51.100.1", "::1", "garbage", ""]),
    xff=st.none() | _HEADER_TEXT,
    forwarded=st.none() | _HEADER_TEXT,
    proto=st.none() | _HEADER_TEXT,
    host=st.none() | _HEADER_TEXT,
    prefix=st.none() | _HEADER_TEXT,
)
def test_whatever_arrives_the_environ_stays_well_formed(
    peer: str, xff: str | None, forwarded: str | None, proto: str | None, host: str | None, prefix: str | None
) -> None:
    headers = {
        key: value
        for key, value in [
            ("HTTP_X_FORWARDED_FOR", xff),
            ("HTTP_FORWARDED", forwarded),
            ("HTTP_X_FORWARDED_PROTO", proto),
            ("HTTP_X_FORWARDED_HOST", host),
            ("HTTP_X_FORWARDED_PREFIX", prefix),
        ]
        if value is not None
    }
    environ = environ_after(TRUSTED, peer=peer, **headers)
    client = environ["REMOTE_ADDR"]
    assert client in (peer, "unknown") or re.fullmatch(r"_[A-Za-z0-9._-]+", client) or ipaddress.ip_address(client)
    assert environ["wsgi.url_scheme"] in ("http", "https")
    assert parse_host(environ["HTTP_HOST"]) is not None
    assert re.fullmatch(r"(/[A-Za-z0-9._~-]+)*", environ["SCRIPT_NAME"])
    if not TrustedProxies(TRUSTED).trusts(peer):
        assert (client, environ["wsgi.url_scheme"], environ["HTTP_HOST"]) == (peer, "http", "backend:8000")
        assert not [k for k in environ if "FORWARDED" in k]


# -- live: real waitress and gunicorn ---------------------------------------------------------
def _has(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


SERVERS = pytest.mark.parametrize(
    "server_args",
    [
        pytest.param([], id="waitress"),
        pytest.param(["--workers", "1"], id="gunicorn"),
        pytest.param(
            ["--server", "uvicorn"],
            id="uvicorn",
            marks=pytest.mark.skipif(not _has("uvicorn", "a2wsgi"), reason="uvicorn and a2wsgi are not installed"),
        ),
        pytest.param(
            ["--server", "granian"],
            id="granian",
            marks=pytest.mark.skipif(not _has("granian", "a2wsgi"), reason="granian and a2wsgi are not installed"),
        ),
    ],
)


def _get(url: str, **headers: str) -> dict[str, Any]:
    response = requests.get(url + "/app/pages/3", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = json.loads(response.text.split(" ", 2)[2])
    return report


@pytest.mark.live
@SERVERS
def test_live_a_trusted_proxy(server_args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.1 trusted (given as the environment variable): the same answers under both servers."""
    monkeypatch.setenv("WSGIHUB_FORWARDED_ALLOW_IPS", "127.0.0.1")
    access_log = ["--access-log", "-", "--log-format", "json"]
    with ServeProcess(["live_apps.proxied:site", "--port", "0", *access_log, *server_args]) as serve:
        url = serve.url()
        report = _get(
            url,
            **{
                "X-Forwarded-For": "198.51.100.1, 203.0.113.9",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "public.example",
                "X-Forwarded-Prefix": "/site",
            },
        )
        assert (report["remote_addr"], report["peer"], report["scheme"]) == ("203.0.113.9", "127.0.0.1", "https")
        assert report["link"] == "https://public.example/site/app/pages/1"
        logged = json.loads(serve.wait_for_line(r'^\{.*"path": "/site/app/pages/3"').string)
        assert logged["remote_addr"] == "203.0.113.9"  # the access log names the client and the public path
        report = _get(url, Forwarded='for="[2001:db8::1]:4711";proto=https;host=public.example')
        assert (report["remote_addr"], report["link"]) == ("2001:db8::1", "https://public.example/app/pages/1")
        # what only gunicorn would read by itself: neither server takes it
        report = _get(url, **{"X-Forwarded-Ssl": "on", "X-Forwarded-Protocol": "ssl", "SCRIPT_NAME": "/evil"})
        assert (report["scheme"], report["script_name"]) == ("http", "/app")


@pytest.mark.live
@SERVERS
def test_live_no_proxy_trusted_by_default(server_args: list[str]) -> None:
    with ServeProcess(["live_apps.proxied:site", "--port", "0", *server_args]) as serve:
        url = serve.url()
        report = _get(
            url,
            **{
                "X-Forwarded-For": "203.0.113.9",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "public.example",
                "X-Forwarded-Prefix": "/site",
                "X-Forwarded-Ssl": "on",
                "Forwarded": "for=203.0.113.9;proto=https",
                "SCRIPT_NAME": "/evil",
            },
        )
        assert (report["remote_addr"], report["scheme"], report["script_name"]) == ("127.0.0.1", "http", "/app")
        assert report["link"] == url + "/app/pages/1"


@pytest.mark.live
@SERVERS
def test_live_an_untrusted_peer(server_args: list[str]) -> None:
    """Only 10.0.0.0/8 trusted: a request from 127.0.0.1 has its forwarded headers removed."""
    with ServeProcess(["live_apps.proxied:site", "--port", "0", "--forwarded-allow-ips", "10.0.0.0/8", *server_args]) as serve:
        url = serve.url()
        report = _get(url, **{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "Forwarded": "for=203.0.113.9"})
        assert (report["remote_addr"], report["scheme"], report["headers"]) == ("127.0.0.1", "http", [])


_header_keys = st.lists(
    st.sampled_from(["HTTP_X_FORWARDED_", "HTTP_FORWARDED", "HTTP_X_REAL_IP", "HTTP_X_", "HTTP_", "X"]).flatmap(
        lambda start: st.text("ABFORWDEIPLX_", max_size=6).map(lambda rest: start + rest)
    ),
    max_size=8,
)


@settings(max_examples=500, deadline=None)
@given(keys=_header_keys)
def test_from_an_untrusted_peer_exactly_the_proxy_headers_are_removed(keys: list[str]) -> None:
    """Every ``X-Forwarded-*``, ``Forwarded`` and ``X-Real-IP`` goes, every other key stays.

    Keys near the names (``HTTP_FORWARDED_X``, ``HTTP_X_FORWARDE``, ``HTTP_X_REAL_IPV6``) included.
    """
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        start_response("200 OK", [])
        return []

    environ = make_environ("/")
    environ.update(dict.fromkeys(keys, "1"))
    ProxyHeaders(app, "")(environ, lambda status, headers, exc_info=None: None)
    removed = {key for key in keys if key.startswith("HTTP_X_FORWARDED_") or key in ("HTTP_FORWARDED", "HTTP_X_REAL_IP")}
    assert set(keys) - set(seen) == removed
