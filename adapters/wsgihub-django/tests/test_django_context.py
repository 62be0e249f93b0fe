"""request_context: a real Django request, sessions and users, and transactions that survive."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.db import connection, transaction
from django.test import Client
from django.urls import get_script_prefix, reverse, set_script_prefix
from webtest import TestApp

import wsgihub


@pytest.fixture(autouse=True)
def _clean_state() -> Any:
    before = get_script_prefix()
    yield
    set_script_prefix(before)
    Group.objects.filter(name__contains="-").delete()


def _session_cookie(username: str) -> str:
    user, _ = User.objects.get_or_create(username=username)
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def test_enters_as_a_django_request(hub: wsgihub.Hub) -> None:
    set_script_prefix("/outside/")
    with hub.request_context("legacy", path="/blog/3/") as request:
        assert isinstance(request, WSGIRequest)
        assert request.path == "/legacy/blog/3/"
        assert request.path_info == "/blog/3/"
        assert request.META["SCRIPT_NAME"] == "/legacy"
        assert get_script_prefix() == "/legacy/"
        assert reverse("blog:detail", kwargs={"pk": 1}) == "/legacy/blog/1/"  # Django's own helper
        assert wsgihub.url_for("new:user", uid=2) == "/new/users/2"  # the hub is current inside
        assert isinstance(request.user, AnonymousUser)
        assert request.session.session_key is None
    assert get_script_prefix() == "/outside/"


def test_prefix_is_restored_when_the_block_raises(hub: wsgihub.Hub) -> None:
    set_script_prefix("/outside/")
    with pytest.raises(RuntimeError), hub.request_context("legacy2"):
        assert get_script_prefix() == "/legacy2/"
        raise RuntimeError("boom")
    assert get_script_prefix() == "/outside/"


def test_logged_in_session_cookie_gives_the_user(hub: wsgihub.Hub) -> None:
    environ = {"HTTP_COOKIE": _session_cookie("alice")}
    with hub.request_context("legacy", environ, path="/me/") as request:
        assert request.user.is_authenticated
        assert request.user.username == "alice"
        assert request.session["_auth_user_id"] == str(request.user.pk)


def test_flask_view_sees_the_django_user_over_http(hub: wsgihub.Hub) -> None:
    app = TestApp(hub)
    assert app.get("/new/whoami").text == "anonymous"
    assert app.post("/legacy/login/bob/").text == "logged in"  # Django sets its session cookie
    assert app.get("/legacy/me/").text == "bob"
    assert app.get("/new/whoami").text == "bob"  # Flask reads it through request_context


def test_nested_contexts_inside_a_django_transaction_keep_it(hub: wsgihub.Hub) -> None:
    # the Django view opens transaction.atomic(), then request contexts of another mount
    body = TestApp(hub).get("/legacy/atomic/?mount=legacy2").text
    assert body == "alive=True count=2 inside=1 seen=False//legacy2/"
    assert not Group.objects.filter(name__startswith="atomic-").exists()  # the view rolled back


def test_outermost_context_inside_a_transaction_keeps_it(hub: wsgihub.Hub) -> None:
    # a Flask view (no Django request around) opens atomic(), then Django's request context
    assert TestApp(hub).post("/new/atomic").text == "alive=True count=2"


def test_the_trap_is_real() -> None:
    """What the contexts avoid: Django's request_finished inside atomic() breaks the transaction."""
    with (
        pytest.raises(Exception, match="closed database|current transaction"),
        transaction.atomic(),
    ):
        Group.objects.create(name="trap-before")
        signals.request_finished.send(sender=WSGIHandler)
        Group.objects.create(name="trap-after")
    assert not Group.objects.filter(name__startswith="trap-").exists()


def test_outermost_context_does_django_request_lifecycle(hub: wsgihub.Hub) -> None:
    events: list[str] = []

    def started(sender: Any, **kwargs: Any) -> None:
        events.append("started " + kwargs["environ"]["SCRIPT_NAME"])

    def finished(sender: Any, **kwargs: Any) -> None:
        events.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        with hub.request_context("legacy"):
            Group.objects.count()
            with hub.request_context("legacy2"):
                Group.objects.count()
            assert connection.connection is not None  # the inner exit closed nothing
            assert events == ["started /legacy"]
        assert events == ["started /legacy", "finished"]
        assert connection.connection is None  # close_old_connections ran (CONN_MAX_AGE = 0)
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)


def test_context_inside_a_served_django_request_does_no_lifecycle(hub: wsgihub.Hub) -> None:
    events: list[str] = []

    def started(sender: Any, **kwargs: Any) -> None:
        events.append("started " + kwargs["environ"]["SCRIPT_NAME"])

    signals.request_started.connect(started)
    try:
        TestApp(hub).get("/legacy/atomic/?mount=legacy2")
    finally:
        signals.request_started.disconnect(started)
    assert events == ["started /legacy"]  # Django's own, none from the nested contexts


def test_adapter_stop_closes_connections_but_not_inside_a_transaction(hub: wsgihub.Hub) -> None:
    adapter = hub.peg("legacy").adapter
    assert adapter is not None
    Group.objects.count()
    assert connection.connection is not None
    adapter.stop()
    assert connection.connection is None
    with transaction.atomic():
        Group.objects.create(name="stop-inside")
        adapter.stop()
        assert connection.connection is not None and not connection.needs_rollback
        Group.objects.create(name="stop-after")
        transaction.set_rollback(True)


def test_hub_stop_closes_connections(hub: wsgihub.Hub) -> None:
    pytest.importorskip("wsgihub.bus", reason="the hub's bus is not written yet")
    hub.start()
    Group.objects.count()
    assert connection.connection is not None
    hub.stop()
    assert connection.connection is None
