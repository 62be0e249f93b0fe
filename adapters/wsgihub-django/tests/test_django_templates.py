"""The native exposure: ``{% load wsgihub %}{% hub_url %}`` and ``wsgihub_django.hub_url``.

The test project has ``"wsgihub_django"`` in INSTALLED_APPS, the documented
way; the zero-config fallback is tested in a fresh process
(test_django_process.py).
"""

from __future__ import annotations

import pytest
import wsgihub_django
from django.template import engines
from django.test import RequestFactory
from djsite_testing import make_hub
from webtest import TestApp

import wsgihub
from wsgihub.errors import UnknownEndpointError


def render(source: str, **context: object) -> str:
    return engines["django"].from_string("{% load wsgihub %}" + source).render(context)


def test_tag_in_a_django_view_served_by_the_hub(hub: wsgihub.Hub) -> None:
    app = TestApp(hub)
    assert app.get("/legacy/links/").text.split() == [
        "new=/new/users/5",
        "own=/legacy/blog/7/?page=2",
        "native=/legacy/blog/7/",
    ]
    # the same project at the root: Django's own {% url %} follows the mount, hub_url names its mount
    assert app.get("/links/").text.split() == [
        "new=/new/users/5",
        "own=/legacy/blog/7/?page=2",
        "native=/blog/7/",
    ]


def test_tag_forms(hub: wsgihub.Hub) -> None:
    assert (
        render('{% hub_url "legacy:blog:detail" pk=1 a=1 b="x y" %}')
        == "/legacy/blog/1/?a=1&amp;b=x+y"
    )
    assert render('{% hub_url "new:user" uid=uid as link %}[{{ link }}]', uid=9) == "[/new/users/9]"
    assert (
        render('{% hub_url endpoint pk=2 _anchor="c" %}', endpoint="root:blog:detail")
        == "/blog/2/#c"
    )


def test_tag_uses_the_hub_of_the_request_being_rendered(hub: wsgihub.Hub) -> None:
    other = make_hub(trusted_hosts=["example.com"])
    other.mount("/elsewhere", hub.peg("legacy").app, name="legacy")
    request = RequestFactory().get("/", HTTP_HOST="example.com")
    request.environ["wsgihub.hub"] = other
    assert render('{% hub_url "legacy:home" %}', request=request) == "/elsewhere/"
    # without a request: the hub that mounted Django last
    assert render('{% hub_url "legacy:home" %}') == "/elsewhere/"


def test_tag_errors_name_the_endpoint(hub: wsgihub.Hub) -> None:
    with pytest.raises(
        UnknownEndpointError, match="cannot build 'legacy:blog:detial'.*did you mean 'blog:detail'"
    ):
        render('{% hub_url "legacy:blog:detial" pk=1 %}')
    with pytest.raises(wsgihub.URLBuildError, match="no mount named 'nwe'"):
        render('{% hub_url "nwe:user" uid=1 %}')


def test_hub_url_function(hub: wsgihub.Hub) -> None:
    assert (
        wsgihub_django.hub_url("new:user", uid=3) == "/new/users/3"
    )  # the mounting hub, outside requests
    assert (
        TestApp(hub).get("/legacy/to-new/").text.split()[1] == "/new/users/6"
    )  # inside a Django view
    assert wsgihub_django.hub_for() is hub
