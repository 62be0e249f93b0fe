"""Host trust and origins (wsgihub.urls): every hostile Host spelling is untrusted."""

from __future__ import annotations

from typing import Any

import pytest
from wsgi_helpers import call

import wsgihub
from wsgihub import Hub, Origin
from wsgihub.errors import ConfigError, UntrustedHostError
from wsgihub.plugins import make_plugins
from wsgihub.urls import HostTrust, parse_host, parse_public_url

TRUST = HostTrust(["example.com", ".example.org"])

#: issue 8 §1: each was accepted as trusted before.
HOSTILE = [
    "example.com:@evil.com",
    "example.com:x@evil.com",
    "evil.com/.example.org",
    "evil.com#.example.org",
    "evil.com?.example.org",
    "evil.com\\.example.org",
    "evil.com%2F.example.org",
    "evil.com .example.org",
    "evil.com;.example.org",
    # more of the same family
    "user@example.com",
    "example.com@evil.com",
    "evil.com,example.com",
    "evil.com\t.example.org",
    "evil.com\r\n.example.org",
    "evil.com\x00.example.org",
    "example.com:80:81",
    "example.com::80",
    "[::1].example.org",
    "evil.com:.example.org",
    "evil.com!.example.org",
    "evil.com$.example.org",
    "evil.com&.example.org",
    "evil.com'.example.org",
    "evil.com(.example.org",
    "evil.com*.example.org",
    "evil.com+.example.org",
    "evil.com=.example.org",
    "evil.com~.example.org",
    "evil.com..example.org",
    ".example.org",
    "..example.org",
    "example.com..",
    "",
    " ",
    " example.com",
    "example.com ",
    "http://example.com",
    "bücher.example.org",  # non-ASCII: a Host header carries the xn-- form
    "ex\u0430mple.com",  # Cyrillic 'а'
    "example.com\u3002",  # ideographic full stop
]

#: Odd ports and literals: never valid hosts.
BAD_SHAPES = [
    "example.com:",
    "example.com:0",
    "example.com:65536",
    "example.com:99999",
    "example.com:123456",
    "example.com:+80",
    "example.com:-80",
    "example.com: 80",
    "example.com:0x50",
    "example.com:８０",  # full-width digits
    "[::1",
    "::1",
    "[::1]x",
    "[::1]:",
    "[::1]:99999",
    "[fe80::1%25eth0]",
    "[fe80::1%eth0]",
    "[v1.fe80::a+en1]",  # IPvFuture
    "[example.com]",
    "[1.2.3.4]",
    "[::1]]",
]


@pytest.mark.parametrize("host", HOSTILE + BAD_SHAPES)
def test_hostile_and_malformed_hosts_are_untrusted(host: str) -> None:
    assert not TRUST.allows(host)
    assert not HostTrust(["*"]).allows(host), "even '*' trusts only hosts that parse"


@pytest.mark.parametrize("host", BAD_SHAPES + ["example.com:@evil.com", "evil.com/.example.org"])
def test_malformed_hosts_do_not_parse(host: str) -> None:
    assert parse_host(host) is None


@pytest.mark.parametrize(
    ("host", "parsed"),
    [
        ("example.com", ("example.com", None)),
        ("EXAMPLE.Com", ("example.com", None)),
        ("example.com.", ("example.com", None)),
        ("example.com.:8080", ("example.com", 8080)),
        ("example.com:08080", ("example.com", 8080)),
        ("example.com:1", ("example.com", 1)),
        ("example.com:65535", ("example.com", 65535)),
        ("xn--bcher-kva.example.org", ("xn--bcher-kva.example.org", None)),
        ("127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("[::1]", ("[::1]", None)),
        ("[::1]:8080", ("[::1]", 8080)),
        ("[2001:DB8:0:0:0:0:0:1]:443", ("[2001:db8::1]", 443)),
        ("[::ffff:192.0.2.1]", ("[::ffff:c000:201]", None)),
    ],
)
def test_valid_hosts_parse_to_a_normal_form(host: str, parsed: tuple[str, int | None]) -> None:
    assert parse_host(host) == parsed


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "EXAMPLE.COM",
        "example.com.",
        "example.com:8080",
        "example.com:80",
        "example.org",
        "www.example.org",
        "a.b.example.org:8443",
        "WWW.Example.ORG.",
    ],
)
def test_trusted_spellings_are_trusted(host: str) -> None:
    assert TRUST.allows(host)


@pytest.mark.parametrize("host", ["evil.com", "notexample.com", "example.com.evil.com", "badexample.org", "org"])
def test_other_hosts_are_not(host: str) -> None:
    assert not TRUST.allows(host)


def test_ipv6_and_idn_entries() -> None:
    trust = HostTrust(["[::1]", "Bücher.Example", ".пример.рф", "127.0.0.1"])
    assert trust.allows("[::1]:8080")
    assert trust.allows("[0:0::1]")
    assert not trust.allows("[::2]")
    assert trust.allows("xn--bcher-kva.example")
    assert trust.allows("www.xn--e1afmkfd.xn--p1ai")
    assert not trust.allows("bücher.example")
    assert trust.allows("127.0.0.1:8000")
    assert not trust.allows("127.0.0.2")
    assert not trust.allows(None)


@pytest.mark.parametrize(
    "entry",
    ["example.com:8080", "http://example.com", "example.com/", "evil.com/.example.org", "", "*.example.com", "[::1", ".[::1]", 5],
)
def test_bad_trusted_host_entries_are_refused(entry: Any) -> None:
    if entry == "":
        assert HostTrust([entry]).trusted == ()  # blank entries are skipped
        return
    with pytest.raises(ConfigError, match="trusted_hosts"):
        HostTrust([entry])


def test_a_bare_string_or_none_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"not the string 'example.com': write trusted_hosts=\['example.com'\]"):
        Hub(trusted_hosts="example.com", plugins=make_plugins(autoload=False))
    with pytest.raises(ConfigError, match=r"^trusted_hosts must be a list of host names, not None$"):
        Hub(trusted_hosts=None, plugins=make_plugins(autoload=False))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://example.com", Origin("https", "example.com", "")),
        ("https://Example.COM:443/site/", Origin("https", "example.com", "/site")),
        ("http://example.com:80", Origin("http", "example.com", "")),
        ("http://example.com:8080/a/b", Origin("http", "example.com:8080", "/a/b")),
        ("https://[::1]:8443/", Origin("https", "[::1]:8443", "")),
        ("https://example.com./", Origin("https", "example.com", "")),
    ],
)
def test_public_url_parses_with_the_same_parser(url: str, origin: Origin) -> None:
    assert parse_public_url(url) == origin


@pytest.mark.parametrize(
    "url",
    [
        "example.com",
        "ftp://example.com",
        "https://",
        "https://example.com:@evil.com",
        "https://user@example.com",
        "https://example.com:x@evil.com/",
        "https://evil.com\\.example.org",
        "https://evil.com;.example.org",
        "https://example.com:0",
        "https://example.com:99999",
        "https://example.com?x=1",
        "https://example.com/#top",
        "https://example.com/a b",
        "https://[::1",
        "https://bücher.example",
    ],
)
def test_bad_public_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="public_url"):
        parse_public_url(url)


def test_absolute_urls_never_point_at_a_hostile_host() -> None:
    """End to end through the hub: the request Host is used only when it parses and is trusted."""
    from test_hub import MiniApp, make_hub

    hub = make_hub(trusted_hosts=["example.com", ".example.org"])
    app = MiniApp("new", {"home": "/"})
    hub.mount("/new", app)
    app.on_request = lambda environ: hub.url_for("new:home", _external=True)
    app.on_request = lambda environ: hub.origin(environ)
    for host in HOSTILE:
        with pytest.raises(UntrustedHostError, match="is not in trusted_hosts"):
            hub.origin({"HTTP_HOST": host, "wsgi.url_scheme": "http"})
        result = call(hub, "/new/", HTTP_HOST=host)  # an app needing the Host: 400, nothing echoed
        assert (result.code, result.body) == (400, b"Bad Request: untrusted Host\n"), host
    app.on_request = lambda environ: hub.url_for("new:home", _external=True)
    assert call(hub, "/new/", HTTP_HOST="WWW.Example.org.:8080").text == "new:home http://www.example.org:8080/new/"
    public = make_hub(trusted_hosts=["example.com"], public_url="https://example.com")
    public.mount("/new", app)
    app.on_request = lambda environ: public.url_for("new:home", _external=True)
    assert call(public, "/new/", HTTP_HOST="example.com:@evil.com").text == "new:home https://example.com/new/"
    assert wsgihub.find_hub() is None


# -- one Host, many spellings: the hub and every adapter's own check agree ----------------------------
SPELLING_TRUST = ["example.com", ".example.org", "[::1]", "[2001:DB8::abcd]"]
#: Host values and whether a hub trusting :data:`SPELLING_TRUST` trusts them: an address is one
#: host however it is written (compressed or not, leading zeros, upper-case hex, with a port)
SPELLINGS = [
    ("[::1]", True),
    ("[0:0::1]", True),
    ("[0:0:0:0:0:0:0:1]:8080", True),
    ("[::0001]", True),
    ("[0000::1]:80", True),
    ("[2001:db8::abcd]", True),
    ("[2001:DB8::ABCD]", True),
    ("[2001:0db8:0:0::abcd]:443", True),
    ("EXAMPLE.COM", True),
    ("example.com.", True),
    ("Www.Example.Org:8080", True),
    ("[::2]", False),
    ("[::ffff:127.0.0.1]", False),  # an IPv4-mapped address is another address
    ("[::1%25eth0]", False),  # a zone id names an interface of this machine
    ("[::1]x", False),
    ("[0:0::1", False),
    ("[::1].example.org", False),
    ("[v1.fe]", False),
    ("a..example.org", False),  # passed Werkzeug's '.example.org' entry as text
    ("my_host.example.org", False),  # '_' is in no host name (test_host_names.py)
    ("evil.com", False),
]


@pytest.mark.parametrize(("host", "trusted"), SPELLINGS)
def test_an_address_is_one_trusted_host_in_every_spelling(host: str, trusted: bool) -> None:
    assert HostTrust(SPELLING_TRUST).allows(host) is trusted


def _flask_view() -> Any:
    flask = pytest.importorskip("flask")
    pytest.importorskip("wsgihub_flask")
    if "TRUSTED_HOSTS" not in flask.Flask.default_config:
        pytest.skip("Flask < 3.1 has no TRUSTED_HOSTS")
    app = flask.Flask("spellings")
    app.add_url_rule("/p", "p", lambda: "ok")
    return app


def _werkzeug_view() -> Any:
    routing = pytest.importorskip("werkzeug.routing")
    wrappers = pytest.importorskip("werkzeug.wrappers")
    pytest.importorskip("wsgihub_werkzeug")

    class App:
        url_map = routing.Map([routing.Rule("/p", endpoint="p")])

        def __call__(self, environ: Any, start_response: Any) -> Any:
            self.url_map.bind_to_environ(environ).match()
            return wrappers.Response("ok")(environ, start_response)

    return App()


def _pyramid_view() -> Any:
    config_module = pytest.importorskip("pyramid.config")
    response = pytest.importorskip("pyramid.response")
    pytest.importorskip("wsgihub_pyramid")
    config = config_module.Configurator()
    config.add_route("p", "/p")
    config.add_view(lambda request: response.Response("ok"), route_name="p")
    return config.make_wsgi_app()


@pytest.mark.parametrize("make_app", [_flask_view, _werkzeug_view, _pyramid_view], ids=["flask", "werkzeug", "pyramid"])
def test_every_adapters_host_check_answers_as_the_hub_does(make_app: Any) -> None:
    """Flask and Werkzeug (the hub's HostCheck in front) and Pyramid (the hub's guard) answer 200
    to every spelling the hub trusts and 400 to the rest (Flask's TRUSTED_HOSTS compared text)."""
    hub = Hub(trusted_hosts=SPELLING_TRUST)
    hub.mount("/m", make_app())
    answers = {host: call(hub, "/m/p", HTTP_HOST=host).code for host, _ in SPELLINGS}
    assert answers == {host: 200 if trusted else 400 for host, trusted in SPELLINGS}
