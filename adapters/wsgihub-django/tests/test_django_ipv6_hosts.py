"""Django sees an IPv6 Host in the spelling its ALLOWED_HOSTS are written in.

Django compares ``ALLOWED_HOSTS`` as text: ``[::1]`` does not allow a
client's ``[0:0::1]``, although both name one address and the hub trusts
both.  The adapter hands Django every IPv6 literal Host in compressed form
(RFC 5952, as the hub compares and writes them), so ``[::1]`` in
``ALLOWED_HOSTS`` allows every spelling of it, and the hub, Django and
absolute URLs agree.  Served by waitress on loopback, Host sent as given.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path
from djsite_testing import make_hub

import wsgihub
from wsgihub import MountWarning
from wsgihub.testing import serving


def where(request: HttpRequest) -> HttpResponse:
    hub_url = wsgihub.url_for("v6:where", _external=True)
    return HttpResponse(f"{request.get_host()} {request.build_absolute_uri()} {hub_url}")


urlpatterns = [path("where", where, name="where")]


@pytest.fixture
def allowed() -> Iterator[None]:
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["[::1]", "[2001:db8::1]", "example.com"]):
        yield


@pytest.mark.usefixtures("allowed")
@pytest.mark.parametrize(
    ("host", "seen"),
    [
        ("[::1]", "[::1]"),
        ("[0:0::1]", "[::1]"),
        ("[0:0:0:0:0:0:0:1]:8080", "[::1]:8080"),
        ("[::0001]", "[::1]"),
        ("[2001:DB8:0::1]", "[2001:db8::1]"),
        ("example.com", "example.com"),
    ],
)
def test_every_spelling_of_a_trusted_address_reaches_django_as_allowed(host: str, seen: str) -> None:
    from django.core.handlers.wsgi import WSGIHandler

    hub = make_hub(trusted_hosts=["[::1]", "[2001:db8::1]", "example.com"])
    hub.mount("/v6", WSGIHandler(), name="v6")
    with serving(hub) as server:
        result = server.get("/v6/where", headers={"Host": host})
    assert result.code == 200, result.body
    assert result.text == f"{seen} http://{seen}/v6/where http://{seen}/v6/where"


@pytest.mark.usefixtures("allowed")
@pytest.mark.parametrize("host", ["[::2]", "[0:0::2]", "[::1%25eth0]", "evil.com"])
def test_other_addresses_are_still_djangos_400(host: str) -> None:
    from django.core.handlers.wsgi import WSGIHandler

    hub = make_hub(trusted_hosts=["[::1]"])
    hub.mount("/v6", WSGIHandler(), name="v6")
    with serving(hub) as server:
        assert server.get("/v6/where", headers={"Host": host}).code == 400


@pytest.mark.usefixtures("allowed")
def test_an_allowed_hosts_entry_in_another_spelling_is_a_mount_warning() -> None:
    from django.core.handlers.wsgi import WSGIHandler

    with override_settings(ALLOWED_HOSTS=["[0:0::1]", "[::2]", "example.com"]):
        hub = make_hub()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hub.mount("/v6", WSGIHandler(), name="v6")
    found = [str(w.message) for w in caught if issubclass(w.category, MountWarning)]
    expected = (
        "mount 'v6': ALLOWED_HOSTS entry '[0:0::1]' allows no request: the hub hands Django "
        "IPv6 hosts in compressed form; write '[::1]'"
    )
    assert found == [expected]
