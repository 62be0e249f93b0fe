"""The pegboard: dispatch by path segments, prefixes, phases, lifecycle."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wsgi_helpers import call, echo_app, make_environ

from wsgihub import MountError, Pegboard, PegboardApplication
from wsgihub.board import normalize_prefix
from wsgihub.compat.werkzeug import DispatcherMiddleware
from wsgihub.compose import Component
from wsgihub.contrib.cascade import Cascade


@pytest.fixture
def board() -> PegboardApplication:
    return PegboardApplication({"/": echo_app("root"), "/new": echo_app("new"), "/new/api/v1": echo_app("api")})


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "root |/"),
        ("", "root |"),
        ("/blog/3/", "root |/blog/3/"),
        ("/new", "new /new|"),
        ("/new/", "new /new|/"),
        ("/new/users/5", "new /new|/users/5"),
        ("/newer", "root |/newer"),
        ("/new/api", "new /new|/api"),
        ("/new/api/v1", "api /new/api/v1|"),
        ("/new/api/v1/x/y", "api /new/api/v1|/x/y"),
        ("/new/api/v10", "new /new|/api/v10"),
        ("//new", "root |//new"),
    ],
)
def test_longest_prefix_on_segment_boundary(board: PegboardApplication, path: str, expected: str) -> None:
    assert call(board, path).text == expected


def test_script_name_above_the_board_is_kept(board: PegboardApplication) -> None:
    result = call(board, "/new/x", script_name="/site")
    assert result.text == "new /site/new|/x"


def test_unmatched_path_without_root_is_a_bare_404() -> None:
    board = PegboardApplication({"/secret-admin": echo_app("admin")})
    result = call(board, "/nothing/here")
    assert result.code == 404
    assert b"secret" not in result.body and b"admin" not in result.body


def test_environ_carries_board_and_peg(board: PegboardApplication) -> None:
    result = call(board, "/new/api/v1/q")
    assert result.environ["pegboard.board"] is board
    assert result.environ["pegboard.peg"] is board.peg("new.api.v1")


@pytest.mark.parametrize(
    ("prefix", "normal"),
    [("", ""), ("/", ""), ("new", "/new"), ("/new/", "/new"), ("/a/b-c_d.e~f/", "/a/b-c_d.e~f")],
)
def test_prefix_normalisation(prefix: str, normal: str) -> None:
    assert normalize_prefix(prefix) == normal


@pytest.mark.parametrize("prefix", ["/caf\u00e9", "/a b", "/a//b", "/a/../b", "/./x", "/100%", "/a?b", "/x#y"])
def test_prefixes_outside_unreserved_ascii_are_refused(prefix: str) -> None:
    board = Pegboard()
    with pytest.raises(MountError) as err:
        board.mount(prefix, echo_app("x"), name="bad")
    message = str(err.value)
    assert "'bad'" in message and "\n" not in message
    assert board.pegs() == []


def test_duplicates_and_invalid_names_are_refused(board: PegboardApplication) -> None:
    with pytest.raises(MountError, match="prefix '/new' is taken by mount 'new'"):
        board.mount("/new/", echo_app("again"), name="other")
    with pytest.raises(MountError, match="name is taken"):
        board.mount("/elsewhere", echo_app("again"), name="new")
    with pytest.raises(MountError, match="invalid name"):
        board.mount("/elsewhere", echo_app("again"), name="has:colon")
    with pytest.raises(MountError, match="not a WSGI callable"):
        board.mount("/elsewhere", "not an app", name="str")  # type: ignore[arg-type]
    assert "elsewhere" not in board and "other" not in board
    assert call(board, "/elsewhere").text == "root |/elsewhere"


def test_nested_mounts_and_unmount(board: PegboardApplication) -> None:
    new = board.peg("new")
    child = new.mount("/deep", echo_app("deep"), name="deep")
    assert child.prefix == "/new/deep" and child.parent is new
    assert board.peg("new.api.v1").parent is new
    assert {p.name for p in new.children} == {"deep", "new.api.v1"}
    assert call(board, "/new/deep/x").text == "deep /new/deep|/x"
    board.unmount("new")
    assert call(board, "/new/deep/x").text == "deep /new/deep|/x"
    assert call(board, "/new/x").text == "root |/new/x"
    assert board.peg("deep").parent is board.peg("root")


def test_contexts_are_shared_per_peg_and_board(board: PegboardApplication) -> None:
    board.context["site"] = "s"
    board.peg("new").context["db"] = "d"
    result = call(board, "/new/x")
    assert result.environ["pegboard.peg"].context == {"db": "d"}
    assert result.environ["pegboard.board"].context == {"site": "s"}


path_segments = st.lists(st.sampled_from(["", "a", "b", "new", "api", "v1", "x%20y", "caf\u00e9"]), max_size=6)


@settings(max_examples=300, deadline=None)
@given(path=path_segments.map(lambda s: "/" + "/".join(s)), above=st.sampled_from(["", "/site", "/a/b"]))
def test_script_name_plus_path_info_is_what_arrived(path: str, above: str) -> None:
    board = PegboardApplication(
        {"/": echo_app("root"), "/a": echo_app("a"), "/a/b": echo_app("ab"), "/new/api": echo_app("api")}
    )
    environ = make_environ(path, script_name=above)
    board(environ, lambda *a: (lambda d: None))
    assert environ["SCRIPT_NAME"] + environ["PATH_INFO"] == above + path
    matched = environ["SCRIPT_NAME"][len(above) :]
    assert matched == environ["pegboard.peg"].prefix
    assert environ["PATH_INFO"] == "" or environ["PATH_INFO"].startswith("/")


class Guard:
    """A pegboard-aware component with every phase hook, recording calls."""

    def __init__(self, name: str, log: list[str], deny: bool = False) -> None:
        self.name, self.log, self.deny = name, log, deny

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.log.append(f"call {self.name}")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return LoggingBody([b"body of ", self.name.encode()], self.log)

    def __before__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.log.append(f"before {self.name}")
        if self.deny and environ["PATH_INFO"].endswith("/private"):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"denied by " + self.name.encode()]
        return None

    def __compose__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.log.append(f"compose {self.name}")
        response = environ["pegboard.response"]
        start_response(response.status, response.headers + [("X-Composed-By", self.name)])
        return [b"[", *response.body, b"]"]

    def __cleanup__(self, environ: dict[str, Any]) -> None:
        self.log.append(f"cleanup {self.name}")

    def __setup__(self, peg: Any) -> None:
        self.log.append(f"setup {self.name}")

    def __teardown__(self, peg: Any) -> None:
        self.log.append(f"teardown {self.name}")


class LoggingBody(list):  # type: ignore[type-arg]
    def __init__(self, chunks: list[bytes], log: list[str]) -> None:
        super().__init__(chunks)
        self.log = log

    def close(self) -> None:
        self.log.append("body closed")


def test_phases_run_in_order() -> None:
    log: list[str] = []
    board = PegboardApplication({"/": Guard("root", log), "/a": Guard("a", log), "/a/b": Guard("b", log)})
    result = call(board, "/a/b/page")
    assert log == [
        "before root", "before a", "before b",
        "call b",
        "compose b",
        "body closed",  # b's own body, replaced by compose b
        "compose a", "compose root",
        "cleanup b", "cleanup a", "cleanup root",
    ]  # fmt: skip
    assert result.body == b"[[[body of b]]]"
    assert [v for k, v in result.headers if k == "X-Composed-By"] == ["b", "a", "root"]


def test_before_may_answer_early_and_cleanup_still_runs() -> None:
    log: list[str] = []
    board = PegboardApplication({"/": Guard("root", log, deny=True), "/a": Guard("a", log)})
    result = call(board, "/a/private")
    assert result.code == 403 and result.body == b"denied by root"
    assert "call a" not in log and log[-2:] == ["cleanup a", "cleanup root"]


def test_cleanup_runs_when_the_app_raises() -> None:
    log: list[str] = []

    class Broken(Guard):
        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            raise RuntimeError("boom")

    board = PegboardApplication({"/": Guard("root", log), "/x": Broken("x", log)})
    with pytest.raises(RuntimeError, match="boom"):
        call(board, "/x/y")
    assert log[-2:] == ["cleanup x", "cleanup root"]


def test_cleanup_runs_when_the_client_disconnects() -> None:
    log: list[str] = []

    class Streaming(Guard):
        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            start_response("200 OK", [])
            return LoggingBody([b"1", b"2", b"3"], self.log)

        __compose__ = None  # type: ignore[assignment]

    board = PegboardApplication({"/": Streaming("s", log)})
    body = board(make_environ("/"), lambda *a: None)
    iterator = iter(body)
    next(iterator)
    body.close()  # what a server does when the client goes away mid-response
    assert log[-2:] == ["body closed", "cleanup s"]


def test_plain_wsgi_apps_get_only_call() -> None:
    app = echo_app("plain")
    board = PegboardApplication({"/": app})
    assert board.peg("root").handler is app


def test_lifecycle_propagates_parents_to_children() -> None:
    log: list[str] = []
    board = PegboardApplication({"/a/b": Guard("ab", log), "/": Guard("root", log), "/a": Guard("a", log), "/z": Guard("z", log)})
    board.setup()
    assert log == ["setup root", "setup a", "setup z", "setup ab"]
    log.clear()
    board.teardown()
    assert log == ["teardown root", "teardown a", "teardown z", "teardown ab"]


def test_mounting_while_serving_from_other_threads() -> None:
    board = PegboardApplication({"/": echo_app("root")})
    errors: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            text = call(board, "/m3/x").text
            if text not in ("root |/m3/x", "m3 /m3|/x"):
                errors.append(text)

    threads = [threading.Thread(target=serve) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(200):
        board.mount(f"/m{i}", echo_app(f"m{i}"))
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert call(board, "/m3/x").text == "m3 /m3|/x"


def test_dispatcher_middleware_drop_in() -> None:
    app = DispatcherMiddleware(echo_app("front"), {"/backend": echo_app("back"), "/backend/deep": echo_app("deep")})
    assert call(app, "/backend/x").text == "back /backend|/x"
    assert call(app, "/backend/deep").text == "deep /backend/deep|"
    assert call(app, "/backendx").text == "front |/backendx"
    assert call(app, "/x", script_name="/s").text == "front /s|/x"
    assert set(app.mounts) == {"/backend", "/backend/deep"}


def test_cascade_tries_until_not_404() -> None:
    calls: list[str] = []

    def only(path: str, name: str) -> Any:
        def app(environ: dict[str, Any], start_response: Any) -> Any:
            calls.append(name)
            environ["touched"] = name
            if environ["PATH_INFO"] != path:
                start_response("404 Not Found", [])
                return [b"no"]
            body = environ["wsgi.input"].read()
            start_response("200 OK", [])
            return [name.encode(), b":", body]

        return app

    site = Cascade([only("/a", "A"), only("/b", "B"), only("/c", "C")])
    assert call(site, "/b", "POST", CONTENT_LENGTH="4", **{"wsgi.input": __import__("io").BytesIO(b"data")}).body == b"B:data"
    assert calls == ["A", "B"]
    calls.clear()
    result = call(site, "/zzz")
    assert result.code == 404 and calls == ["A", "B", "C"]
    assert result.environ["touched"] == "C"


class BrokenIterBody:
    """A response body whose ``__iter__`` raises (PEP 3333: it must still be closed)."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def __iter__(self) -> Any:
        raise RuntimeError("iter failed")

    def close(self) -> None:
        self.log.append("closed")


def test_a_body_whose_iter_raises_is_closed_on_the_compose_path() -> None:
    log: list[str] = []

    class Composer:
        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            return BrokenIterBody(log)  # start_response not called yet: the board pulls a chunk

        def __compose__(self, environ: dict[str, Any], start_response: Any) -> Any:
            return None

    board = PegboardApplication({"/": Composer()})
    with pytest.raises(RuntimeError, match="iter failed"):
        call(board, "/")
    assert log == ["closed"]


def test_a_body_whose_iter_raises_is_closed_by_the_cascade() -> None:
    log: list[str] = []
    site = Cascade([lambda environ, start_response: BrokenIterBody(log), echo_app("last")])
    with pytest.raises(RuntimeError, match="iter failed"):
        call(site, "/")
    assert log == ["closed"]


def test_plain_named_hooks_on_pegboard_aware_components() -> None:
    log: list[str] = []

    class Aware(Component):
        def __init__(self, name: str) -> None:
            self.name = name

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            start_response("200 OK", [])
            return [self.name.encode()]

        def cleanup(self, environ: dict[str, Any]) -> None:
            log.append(f"cleanup {self.name}")

        def setup(self, peg: Any) -> None:
            log.append(f"setup {peg.name}")

        def teardown(self, peg: Any) -> None:
            log.append(f"teardown {peg.name}")

    class Unaware:
        """Has methods of those names but never said it is pegboard-aware: left alone."""

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            start_response("200 OK", [])
            return [b"unaware"]

        def cleanup(self, environ: Any) -> None:
            log.append("WRONG cleanup")

        def setup(self, peg: Any) -> None:
            log.append("WRONG setup")

        def teardown(self, peg: Any) -> None:
            log.append("WRONG teardown")

    board = PegboardApplication({"/": Aware("root"), "/a": Aware("a"), "/u": Unaware()})
    board.setup()
    assert call(board, "/a/x").body == b"a"
    assert call(board, "/u/x").body == b"unaware"
    board.teardown()
    assert log == ["setup root", "setup a", "cleanup a", "cleanup root", "cleanup root", "teardown root", "teardown a"]
    assert board.peg("u").handler is not board.peg("u").app  # root's cleanup still wraps /u


def test_graft_names_and_compatibility_aliases() -> None:
    board = PegboardApplication({"/": echo_app("root")})
    first = board.graft(echo_app("g1"), over="root")
    second = board.graft_peg(echo_app("g2"), over=board.peg("root"))  # the old name still works
    assert [first.name, second.name] == ["root.graft1", "root.graft2"]
    assert first.over is second.over is board.peg("root") and first.is_graft
    assert board.peg("root").grafts == [first, second] and not board.peg("root").is_graft
    with pytest.raises(MountError, match="cannot graft onto graft 'root.graft1'; graft onto 'root'"):
        board.graft(echo_app("g3"), over="root.graft1")
