"""The partyline: connect, ask_around, participants, invitations, threads."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from wsgi_helpers import call, echo_app

import wsgihub
from wsgihub import HighAndDry, Hub, NoSuchServiceName, Partyline, PartylineException, hookimpl
from wsgihub.compat import wsgi_party
from wsgihub.errors import HandlerError, InviteError
from wsgihub.plugins import make_plugins


def test_answers_of_every_other_participant_in_connection_order() -> None:
    line = Partyline()
    a, b, c = line.operator("a"), line.operator("b"), line.operator("c")
    a.connect("ping", lambda p: f"a:{p}")
    b.connect("ping", lambda p: f"b:{p}")
    c.connect("ping", lambda p: f"c:{p}")
    assert b.ask_around("ping", 1) == ["a:1", "c:1"]
    assert line.ask_around("ping", 2) == ["a:2", "b:2", "c:2"]


def test_high_and_dry_skips_and_missing_service_raises() -> None:
    line = Partyline()
    line.operator("a").connect("q", lambda p: (_ for _ in ()).throw(HighAndDry()))
    line.operator("b").connect("q", lambda p: "b")
    assert line.ask_around("q", None) == ["b"]
    with pytest.raises(NoSuchServiceName):
        line.ask_around("nobody", None)
    assert Partyline(ignore_missing_services=True).ask_around("nobody", None) == []


def test_a_failing_handler_is_named() -> None:
    line = Partyline()

    def broken(payload: Any) -> Any:
        raise KeyError("inner")

    line.operator("legacy").connect("url", broken)
    with pytest.raises(HandlerError) as err:
        line.ask_around("url", "x")
    assert isinstance(err.value, PartylineException)
    assert "'legacy'" in str(err.value) and "'url'" in str(err.value)
    assert err.value.participant == "legacy" and err.value.service == "url"
    assert isinstance(err.value.__cause__, KeyError)


def test_disconnect() -> None:
    line = Partyline()
    op = line.operator("a")
    handler = lambda p: "a"
    op.connect("s", handler)
    op.disconnect("s", handler)
    assert handler not in op.handlers
    with pytest.raises(NoSuchServiceName):
        line.ask_around("s", None)


def test_concurrent_connect_and_ask() -> None:
    line = Partyline(ignore_missing_services=True)
    errors: list[BaseException] = []
    start = threading.Barrier(9)

    def connector(n: int) -> None:
        start.wait()
        op = line.operator(f"p{n}")
        for i in range(300):
            op.connect("svc", lambda p, n=n, i=i: (n, i))

    def asker() -> None:
        start.wait()
        try:
            for _ in range(300):
                answers = line.ask_around("svc", None)
                assert all(isinstance(a, tuple) for a in answers)
        except BaseException as exc:  # noqa: BLE001  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=connector, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=asker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    answers = line.ask_around("svc", None)
    assert len(answers) == 1200
    for n in range(4):  # each participant's handlers stayed in its own order
        mine = [i for (who, i) in answers if who == n]
        assert mine == list(range(300))


class Recorder:
    """A plugin that joins every app to a 'whoami' service and watches the line."""

    def __init__(self) -> None:
        self.connected: list[tuple[str, str | None]] = []
        self.asked: list[tuple[str, str | None]] = []

    @hookimpl
    def wsgihub_invite(self, hub: Hub, peg: Any, operator: Any) -> None:
        operator.connect("whoami", lambda payload: peg.name)

    @hookimpl
    def wsgihub_connect(self, service: str, participant: str | None) -> None:
        self.connected.append((service, participant))

    @hookimpl
    def wsgihub_ask_around(self, service: str, payload: Any, asker: str | None) -> Any:
        self.asked.append((service, asker))
        return ["plugin answer"] if service == "whoami" else None


def test_every_mount_joins_through_the_invite_hook() -> None:
    recorder = Recorder()
    hub = Hub(plugins=make_plugins(autoload=False, plugins=[recorder]))
    hub.mount("/", echo_app("legacy"), name="legacy")
    new = hub.mount("/new", echo_app("new"))
    assert ("whoami", "legacy") in recorder.connected and ("whoami", "new") in recorder.connected
    assert new.operator is not None
    assert new.operator.ask_around("whoami", None) == ["legacy", "plugin answer"]
    assert hub.partyline.ask_around("whoami", None) == ["legacy", "new", "plugin answer"]
    assert recorder.asked[-1] == ("whoami", None)
    hub.unmount("new")
    assert hub.partyline.ask_around("whoami", None) == ["legacy", "plugin answer"]


def party_app(calls: list[dict[str, Any]], status: str = "200 OK") -> Any:
    """An app written for wsgi_party: it joins when the invite route is called."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/__invite__/" and "partyline" in environ:
            calls.append(environ)
            environ["partyline"].connect("greet", lambda payload: f"hello {payload}")
            start_response(status, [])
            return [b""]
        start_response("200 OK", [])
        return [b"page " + environ["PATH_INFO"].encode()]

    return app


def test_wsgi_party_invite_protocol() -> None:
    calls: list[dict[str, Any]] = []
    hub = Hub(plugins=make_plugins(autoload=False))
    hub.mount("/old", party_app(calls), invite_path="/__invite__/")
    assert len(calls) == 1
    assert calls[0]["SCRIPT_NAME"] == "/old" and calls[0]["PATH_INFO"] == "/__invite__/"
    assert hub.partyline.ask_around("greet", "x") == ["hello x"]
    outside = call(hub, "/old/__invite__/")
    assert outside.code == 404 and len(calls) == 1
    assert call(hub, "/old/page").text == "page /page"


def test_a_failing_invitation_names_the_mount_and_leaves_no_trace() -> None:
    hub = Hub(plugins=make_plugins(autoload=False))
    with pytest.raises(InviteError, match="mount 'old'.*'500 Internal Server Error'"):
        hub.mount("/old", party_app([], "500 Internal Server Error"), name="old", invite_path="/__invite__/")
    assert "old" not in hub
    assert "greet" not in hub.partyline.services()


def test_an_invitation_nobody_answers_is_refused() -> None:
    closed: list[bool] = []

    class Silent(list):  # an empty body whose close() the hub must call
        def close(self) -> None:
            closed.append(True)

    hub = Hub(plugins=make_plugins(autoload=False))
    with pytest.raises(InviteError, match=r"mount 'mute': invitation to '/__invite__/' answered '\(no response\)'"):
        hub.mount("/mute", lambda environ, start_response: Silent(), name="mute", invite_path="/__invite__/")
    assert closed == [True]
    assert "mute" not in hub


def test_wsgi_party_drop_in() -> None:
    calls: list[dict[str, Any]] = []
    party = wsgi_party.WSGIParty(party_app(calls), invites=("/__invite__/",))
    assert len(calls) == 1 and isinstance(calls[0]["partyline"], wsgi_party.PartylineOperator)
    assert party.ask_around("greet", "there") == ["hello there"]
    assert calls[0]["partyline"].ask_around("greet", "me") == []  # never asks itself
    assert call(party, "/x").text == "page /x"
    assert wsgi_party.HighAndDry is wsgihub.HighAndDry
    assert issubclass(wsgi_party.NoSuchServiceName, wsgi_party.PartylineException)
