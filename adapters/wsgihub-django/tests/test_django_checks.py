"""Checks: FORCE_SCRIPT_NAME against the mount, relative STATIC_URL, cookies for the collision check."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from djsite_testing import make_hub
from webtest import TestApp

import wsgihub
from wsgihub.adapter import Cookie


def _mount(django_app: Any, prefix: str, **hub_options: Any) -> tuple[wsgihub.Hub, list[str]]:
    hub = make_hub(**hub_options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hub.mount(prefix, django_app, name="legacy")
    return hub, [str(w.message) for w in caught if issubclass(w.category, wsgihub.MountWarning)]


def test_no_problems_by_default(django_app: Any) -> None:
    for prefix in ("/", "/legacy"):
        hub, problems = _mount(django_app, prefix)
        assert problems == []
        assert hub.check() == []


def test_force_script_name_that_disagrees_is_reported(django_app: Any) -> None:
    with override_settings(FORCE_SCRIPT_NAME="/old"):
        hub, problems = _mount(django_app, "/legacy")
        assert problems == [
            (
                "mount 'legacy': FORCE_SCRIPT_NAME is '/old' but the app is mounted at '/legacy'; Django's own "
                "links (reverse(), {% url %}, redirects) will start with '/old' while hub.url_for() uses "
                "'/legacy': set FORCE_SCRIPT_NAME to '/legacy' or remove it"
            )
        ]
        assert hub.check() == problems
        # what the warning is about: Django's links follow FORCE_SCRIPT_NAME, the hub's the mount
        assert TestApp(hub).get("/legacy/prefix/").text == "/old/ /old/"
        assert hub.url_for("legacy:home") == "/legacy/"


@pytest.mark.parametrize(
    ("forced", "prefix", "public_url"),
    [
        ("/legacy", "/legacy", None),
        ("/legacy/", "/legacy", None),
        ("/site/legacy", "/legacy", "https://example.com/site"),
    ],
)
def test_force_script_name_that_agrees_is_fine(
    django_app: Any, forced: str, prefix: str, public_url: str | None
) -> None:
    with override_settings(FORCE_SCRIPT_NAME=forced):
        _hub, problems = _mount(django_app, prefix, public_url=public_url)
        assert problems == []


def test_empty_force_script_name_below_a_prefix_is_reported(django_app: Any) -> None:
    with override_settings(FORCE_SCRIPT_NAME=""):
        assert _mount(django_app, "/")[1] == []
        assert "FORCE_SCRIPT_NAME is ''" in _mount(django_app, "/legacy")[1][0]


def test_relative_static_url_below_a_prefix_is_reported(django_app: Any) -> None:
    with override_settings(STATIC_URL="static/", MEDIA_URL="media/"):
        assert _mount(django_app, "/")[1] == []  # at the root the prefix is always '/'
        _hub, problems = _mount(django_app, "/legacy")
        assert problems == [
            (
                "mount 'legacy': STATIC_URL 'static/' is relative: Django prefixes it with the script prefix "
                "of whatever reads it first and keeps that for the whole process ('/legacy/static/' or "
                "'/static/'); set STATIC_URL = '/legacy/static/'"
            ),
            (
                "mount 'legacy': MEDIA_URL 'media/' is relative: Django prefixes it with the script prefix "
                "of whatever reads it first and keeps that for the whole process ('/legacy/media/' or "
                "'/media/'); set MEDIA_URL = '/legacy/media/'"
            ),
        ]
        # the check itself did not read (and so freeze) the setting
        assert "STATIC_URL" not in settings.__dict__
    with override_settings(STATIC_URL="https://cdn.example.com/static/"):
        assert _mount(django_app, "/legacy")[1] == []


def test_cookies(django_app: Any) -> None:
    hub, _ = _mount(django_app, "/legacy")
    adapter = hub.peg("legacy").adapter
    assert adapter is not None
    assert list(adapter.cookies()) == [
        Cookie("sessionid", "/", None, "session"),
        Cookie("csrftoken", "/", None, "csrf"),
    ]
    with override_settings(
        SESSION_COOKIE_NAME="legacy_session",
        SESSION_COOKIE_PATH="/legacy",
        SESSION_COOKIE_DOMAIN=".example.com",
        CSRF_USE_SESSIONS=True,
    ):
        assert list(adapter.cookies()) == [
            Cookie("legacy_session", "/legacy", ".example.com", "session")
        ]
    with override_settings(MIDDLEWARE=["django.middleware.common.CommonMiddleware"]):
        assert list(adapter.cookies()) == []


def test_cookie_collision_with_a_flask_app_is_reported(django_app: Any) -> None:
    from djsite_flask_new import create_app

    hub = make_hub()
    hub.mount("/legacy", django_app, name="legacy")
    flask_app = create_app()
    flask_app.config["SESSION_COOKIE_NAME"] = "sessionid"
    with pytest.warns(wsgihub.MountWarning) as caught:
        hub.mount("/new", flask_app, name="new")
    assert [str(w.message) for w in caught] == [
        (
            "mounts 'legacy' and 'new' both set a session cookie named 'sessionid' (Path=/ and Path=/): "
            "each will wipe the other's; give one of them another cookie name"
        )
    ]


def test_a_login_cookie_that_does_not_reach_a_mount_is_reported(django_app: Any) -> None:
    """W004: the Django login's session cookie path must cover the mounts that ask who is logged in."""
    from djsite_flask_new import create_app

    hub = make_hub()
    hub.mount("/legacy", django_app, name="legacy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wsgihub.MountWarning)
        hub.mount("/new", create_app(), name="new")
        hub.mount("/legacy/inner", create_app(), name="inner")
        hub.graft(create_app(), over="legacy", name="grafted")
    assert [f for f in hub.findings() if f.id == "W004"] == []  # SESSION_COOKIE_PATH '/' reaches every mount
    with override_settings(SESSION_COOKIE_PATH="/legacy"):
        found = [f for f in hub.findings() if f.id == "W004"]
        assert [(f.level, f.mounts) for f in found] == [("warning", ("legacy", "new"))]
        assert found[0].message == (
            "mount 'new' at '/new' never gets the login cookie 'sessionid' of mount 'legacy' (Path=/legacy): "
            "who is logged in is never known there; give the cookie a path covering both "
            "(Django: SESSION_COOKIE_PATH = '/')"
        )
        assert found[0].message in hub.check()
    with override_settings(SESSION_COOKIE_PATH="/leg"):  # not on a segment boundary: reaches nothing below /legacy
        assert {f.mounts[1] for f in hub.findings() if f.id == "W004"} == {"new", "inner", "grafted"}
    with override_settings(MIDDLEWARE=["django.middleware.common.CommonMiddleware"], SESSION_COOKIE_PATH="/legacy"):
        assert [f for f in hub.findings() if f.id == "W004"] == []  # no session cookie: nothing to reach
