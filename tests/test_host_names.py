"""Which host names the hub reads: the ones DNS and the mounted frameworks read (no ``_``).

RFC 3986's reg-name allows ``_`` but a host name (RFC 952/1123, the names
DNS resolves for HTTP) is letters, digits and ``-``; Werkzeug (Flask) and
Django refuse a Host with ``_``.  A hub that trusted one would answer a
request differently depending on which mount it lands on, so the hub
refuses it too: untrusted even for ``*``, one-line ``ConfigError`` in
``trusted_hosts`` and ``public_url``.
"""

from __future__ import annotations

from typing import Any

import pytest
from wsgi_helpers import call

from wsgihub import Hub
from wsgihub.errors import ConfigError
from wsgihub.plugins import make_plugins
from wsgihub.urls import HostTrust, parse_host

UNDERSCORED = ["my_host", "my_host.example.org", "_dmarc.example.org", "a_.example.org", "www.example_org", "_:80"]
#: Names every reader agrees on, for the comparison with the frameworks' own validation.
AGREED = ["example.org", "www.example.org:8080", "a-b.example.org", "127.0.0.1", "[::1]", "xn--bcher-kva.example"]


@pytest.mark.parametrize("host", UNDERSCORED)
def test_a_name_with_an_underscore_does_not_parse_and_is_never_trusted(host: str) -> None:
    assert parse_host(host) is None
    assert not HostTrust(["*"]).allows(host)
    assert not HostTrust([".example.org"]).allows(host)


@pytest.mark.parametrize("host", UNDERSCORED + AGREED)
def test_the_hub_reads_a_host_as_werkzeug_and_django_do(host: str) -> None:
    sansio = pytest.importorskip("werkzeug.sansio.utils")
    django_request = pytest.importorskip("django.http.request")
    werkzeug_reads = sansio.host_is_trusted(host)
    django_reads = django_request.host_validation_re.fullmatch(host.lower()) is not None
    assert (parse_host(host) is not None) is werkzeug_reads is django_reads


@pytest.mark.parametrize("entry", ["my_host", ".my_domain.example", "_dmarc.example.org"])
def test_a_trusted_hosts_entry_with_an_underscore_is_one_config_error(entry: str) -> None:
    with pytest.raises(ConfigError) as caught:
        HostTrust([entry])
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"trusted_hosts: {entry!r}") and "'_'" in message


def test_a_public_url_with_an_underscore_is_one_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^public_url 'https://my_site.example.org/'.*'_'") as caught:
        Hub(public_url="https://my_site.example.org/", plugins=make_plugins(autoload=False))
    assert "\n" not in str(caught.value)


def _external_url_app(hub: Hub) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = hub.origin(environ).url.encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


@pytest.mark.parametrize("trusted", [["*"], [".example.org"]])
def test_a_request_with_an_underscore_host_gets_400_when_an_app_needs_its_host(trusted: list[str]) -> None:
    hub = Hub(trusted_hosts=trusted, plugins=make_plugins(autoload=False))
    hub.mount("/m", _external_url_app(hub))
    result = call(hub, "/m/", HTTP_HOST="my_host.example.org")
    assert (result.code, result.body) == (400, b"Bad Request: untrusted Host\n")
    assert call(hub, "/m/", HTTP_HOST="my-host.example.org").text == "http://my-host.example.org"
