"""Configuration like pserve, gunicorn and uvicorn (issue 11 §6).

Every serve option comes, in this order of precedence, from the command
line, its ``WSGIHUB_<OPTION>`` environment variable, the site file's
``[server:main]`` or its default; ``wsgihub serve site.ini name=value``
fills the site file's ``%(name)s``; gunicorn's own config file (``-c``) and
``GUNICORN_CMD_ARGS`` are honoured under gunicorn.  ``--print-config``
shows each option, its value and its source.  A bad value anywhere is one
line naming its source, exit 2.  The serve tests run the real command in a
subprocess on port 0.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import requests

from wsgihub.errors import ConfigError
from wsgihub.serve import (
    FROM_COMMAND_LINE,
    FROM_DEFAULT,
    ServeOptions,
    options_markdown,
    resolve_options,
    serve_options,
)

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_apps._process import ServeProcess, run_serve

DOCS = Path(__file__).resolve().parent.parent / "docs"

#: An app factory module for the site files below (written next to them).
APPS = """
    import os

    def echo(global_conf, greeting="hello", **local):
        def app(environ, start_response):
            body = f"{greeting} from {os.getpid()}".encode()
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
            return [body]
        return app
"""


def write_site(tmp_path: Path, server: str = "", app: str = "", defaults: str = "") -> Path:
    (tmp_path / "cfg_apps.py").write_text(textwrap.dedent(APPS), encoding="utf-8")
    text = (
        f"[DEFAULT]\n{defaults}\n\n"
        "[composite:main]\nuse = egg:wsgihub#hub\n/ = echo\n\n"
        f"[app:echo]\nuse = call:cfg_apps:echo\n{app}\n\n"
        f"[server:main]\n{server}\n"
    )
    site = tmp_path / "site.ini"
    site.write_text(text, encoding="utf-8")
    return site


def sample_text(option: Any) -> str:
    """A valid value for ``option`` as text, different from its default."""
    samples = {
        "host": "0.0.0.0",
        "port": "8123",
        "pid_file": "/tmp/wsgihub-test.pid",
        "health_path": "/healthz",
        "inspect": "/_hub",
        "inspect_allow_ips": "10.0.0.0/8",
        "log_format": "json",
        "access_log": "-",
        "request_id_header": "X-Trace-ID",
        "verbosity": "2",
        "forwarded_allow_ips": "10.0.0.1",
        "server": "gunicorn",
    }
    if option.name in samples:
        return samples[option.name]
    if option.kind is bool:
        return "true"
    if option.kind is int:
        return "3"
    if option.kind is float:
        return "2.5"
    raise AssertionError(f"no sample value for option {option.name} ({option.kind}); add one")


def in_table(name: str) -> bool:
    return any(o.name == name for o in serve_options())


# -- precedence --------------------------------------------------------------------------------
def test_command_line_beats_environment_beats_site_file_beats_default(tmp_path: Path) -> None:
    site = write_site(tmp_path, server="port = 7001\nthreads = 6\ndrain_timeout = 3\nhost = 127.0.0.2")
    options, sources = resolve_options(
        str(site),
        given={"port": 7003},
        environ={"WSGIHUB_PORT": "7002", "WSGIHUB_THREADS": "7"},
    )
    assert (options.port, sources["port"]) == (7003, FROM_COMMAND_LINE)
    assert (options.threads, sources["threads"]) == (7, "WSGIHUB_THREADS")
    assert (options.drain_timeout, sources["drain_timeout"]) == (3.0, f"{site} [server:main]")
    assert (options.host, sources["host"]) == ("127.0.0.2", f"{site} [server:main]")
    assert (options.workers, sources["workers"]) == (None, FROM_DEFAULT)


def test_every_option_has_an_environment_variable_and_a_site_file_key(tmp_path: Path) -> None:
    skip = {"print_config", "gunicorn_config", "log_config"}
    if importlib.util.find_spec("opentelemetry") is None:
        skip.add("otel")  # turning it on is refused where the otel extra is missing (the core env)
    table = [o for o in serve_options() if o.name not in skip]
    environ = {o.env_var: sample_text(o) for o in table}
    options, sources = resolve_options(None, ["/a=live_apps.echo:app_a"], environ=environ)
    for option in table:
        assert option.env_var == "WSGIHUB_" + option.name.upper()
        assert sources[option.name] == option.env_var
        assert getattr(options, option.name) == option.read(sample_text(option), "test")

    site = write_site(tmp_path, server="\n".join(f"{o.site_key} = {sample_text(o)}" for o in table))
    options, sources = resolve_options(str(site), environ={})
    for option in table:
        assert sources[option.name] == f"{site} [server:main]"
        assert getattr(options, option.name) == option.read(sample_text(option), "test")


def test_an_empty_variable_counts_as_unset(tmp_path: Path) -> None:
    site = write_site(tmp_path, server="port = 7001")
    options, sources = resolve_options(str(site), environ={"WSGIHUB_PORT": ""})
    assert (options.port, sources["port"]) == (7001, f"{site} [server:main]")


def test_server_section_takes_use_egg_wsgihub_main_or_none_and_dashed_names(tmp_path: Path) -> None:
    site = write_site(tmp_path, server="use = egg:wsgihub#main\ndrain-timeout = 4")
    options, _ = resolve_options(str(site), environ={})
    assert options.drain_timeout == 4.0


# -- one-line errors naming the source ----------------------------------------------------------
@pytest.mark.parametrize(
    ("environ", "server", "message"),
    [
        ({"WSGIHUB_PORT": "abc"}, "", "WSGIHUB_PORT=abc: expected a whole number"),
        ({"WSGIHUB_PORT": "70000"}, "", "WSGIHUB_PORT=70000: expected 0..65535 (0 picks a free port)"),
        ({"WSGIHUB_RELOAD": "maybe"}, "", "WSGIHUB_RELOAD=maybe: expected true or false"),
        ({"WSGIHUB_HEALTH_PATH": "healthz"}, "", "WSGIHUB_HEALTH_PATH=healthz: expected a path starting with '/'"),
        ({"WSGIHUB_INSPECT_ALLOW_IPS": "localhost"}, "", "WSGIHUB_INSPECT_ALLOW_IPS=localhost: 'localhost' is not"),
        ({}, "port = abc", "site.ini [server:main] port: expected a whole number (got 'abc')"),
        ({}, "threads = 0", "site.ini [server:main] threads: expected 1 or more (got '0')"),
        ({}, "drain_timeout = -1", "site.ini [server:main] drain_timeout: expected 0 seconds or more (got '-1')"),
        ({}, "colour = red", "site.ini [server:main] colour: unknown option (options: host, port,"),
        ({}, "use = egg:waitress#main", "site.ini [server:main] use: wsgihub serve reads this section itself"),
        ({}, "port = %(http_port)s", "site.ini [server:main] port: %(http_port)s is not defined (give it as http_port=VALUE"),
    ],
)
def test_a_bad_value_is_one_line_naming_its_source(
    tmp_path: Path, environ: dict[str, str], server: str, message: str
) -> None:
    site = write_site(tmp_path, server=server)
    with pytest.raises(ConfigError) as info:
        resolve_options(str(site), environ=environ)
    text = str(info.value)
    assert "\n" not in text
    assert text.replace(str(tmp_path) + os.sep, "").startswith(message), text


def test_cli_bad_values_exit_2_with_one_line(tmp_path: Path) -> None:
    site = write_site(tmp_path, server="port = abc")
    result = run_serve([str(site), "--print-config"])
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"wsgihub: error: {site} [server:main] port: expected a whole number (got 'abc')\n"

    os.environ["WSGIHUB_THREADS"] = "lots"
    try:
        result = run_serve([str(site), "--port", "0", "--print-config"])
    finally:
        del os.environ["WSGIHUB_THREADS"]
    assert (result.returncode, result.stderr) == (2, "wsgihub: error: WSGIHUB_THREADS=lots: expected a whole number\n")


def test_an_option_given_elsewhere_does_not_need_the_site_files_value(tmp_path: Path) -> None:
    """``port = %(http_port)s`` without http_port is fine while --port decides."""
    site = write_site(tmp_path, server="port = %(http_port)s")
    options, sources = resolve_options(str(site), given={"port": 0}, environ={})
    assert (options.port, sources["port"]) == (0, FROM_COMMAND_LINE)


# -- --print-config ------------------------------------------------------------------------------
def test_print_config_shows_value_and_source_and_exits_0(tmp_path: Path) -> None:
    site = write_site(tmp_path, server="port = %(http_port)s\nthreads = 6", defaults="base = x")
    env = {"WSGIHUB_DRAIN_TIMEOUT": "2.5"}
    os.environ.update(env)
    try:
        result = run_serve([str(site), "http_port=9123", "--host", "0.0.0.0", "--print-config"])
    finally:
        for key in env:
            del os.environ[key]
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in result.stdout.splitlines() if line.strip()}
    assert rows["host"] == ["0.0.0.0", "command line"]
    assert rows["port"] == ["9123", f"{site} [server:main]"]
    assert rows["threads"] == ["6", f"{site} [server:main]"]
    assert rows["drain_timeout"] == ["2.5", "WSGIHUB_DRAIN_TIMEOUT"]
    assert rows["workers"] == ["-", "default"]
    assert set(rows) >= {o.name for o in serve_options()}
    assert "precedence: command line > WSGIHUB_* environment > site file [server:main] > default" in result.stdout
    assert "Serving on" not in result.stdout  # nothing was served


# -- pserve-style variables ---------------------------------------------------------------------------
@pytest.mark.live
def test_name_value_variables_fill_the_site_file_as_pserve_does(tmp_path: Path) -> None:
    site = write_site(tmp_path, server="port = %(http_port)s", app="greeting = %(word)s")
    with ServeProcess([str(site), "http_port=0", "word=bonjour"], pythonpath=[tmp_path]) as served:
        url = served.url()
        assert requests.get(url + "/", timeout=5).text.startswith("bonjour from ")


@pytest.mark.live
def test_variables_reach_every_gunicorn_worker(tmp_path: Path) -> None:
    site = write_site(tmp_path, app="greeting = %(word)s")
    with ServeProcess(
        [str(site), "word=hallo", "--port", "0", "--workers", "2"], pythonpath=[tmp_path]
    ) as served:
        url = served.url()
        assert requests.get(url + "/", timeout=5).text.startswith("hallo from ")


def test_variables_need_a_site_file() -> None:
    result = run_serve(["--mount", "/=live_apps.echo:app_a", "--print-config"])
    assert result.returncode == 0  # no variables: fine
    result = run_serve(["live_apps.echo:app_a", "x=1", "--print-config"])
    assert result.returncode == 2
    assert result.stderr == "wsgihub: error: x=1: NAME=VALUE variables need a site file (site.ini) to fill in\n"


# -- the site file serves --------------------------------------------------------------------------
@pytest.mark.live
def test_server_section_sets_what_is_served(tmp_path: Path) -> None:
    site = write_site(tmp_path, server="use = egg:wsgihub#main\nport = 0\nhealth_path = /healthz\nthreads = 2")
    with ServeProcess([str(site)], pythonpath=[tmp_path]) as served:
        url = served.url()
        assert requests.get(url + "/healthz", timeout=5).json()["status"] == "ok"


@pytest.mark.live
def test_environment_variable_sets_what_is_served(tmp_path: Path) -> None:
    site = write_site(tmp_path, server="port = 0")
    os.environ["WSGIHUB_HEALTH_PATH"] = "/-/ready"
    try:
        served = ServeProcess([str(site)], pythonpath=[tmp_path])
    finally:
        del os.environ["WSGIHUB_HEALTH_PATH"]
    with served:
        url = served.url()
        assert requests.get(url + "/-/ready", timeout=5).json()["status"] == "ok"


# -- gunicorn's own configuration ------------------------------------------------------------------
GUNICORN_CONF = """
    workers = 2
    timeout = 17

    def post_fork(server, worker):
        print("MARKER user post_fork ran", flush=True)

    def when_ready(server):
        print("MARKER user when_ready ran", flush=True)
"""


def _pids(url: str, count: int) -> set[str]:
    """The worker pids that answered ``count`` requests, each on a new connection."""
    return {
        requests.get(url + "/", timeout=5, headers={"Connection": "close"}).text.split()[-1]
        for _ in range(count)
    }


@pytest.mark.live
def test_gunicorn_config_file_is_honoured_and_its_hooks_run_after_ours(tmp_path: Path) -> None:
    site = write_site(tmp_path, server="port = 0")
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text(textwrap.dedent(GUNICORN_CONF), encoding="utf-8")
    with ServeProcess([str(site), "-c", str(conf)], pythonpath=[tmp_path]) as served:  # -c implies gunicorn
        url = served.url()
        served.wait_for_line("MARKER user when_ready ran")
        served.wait_for_lines("MARKER user post_fork ran", 2)
        assert requests.get(url + "/", timeout=5).status_code == 200
    # wsgihub's own --workers wins over the file's
    with ServeProcess(
        [str(site), "--gunicorn-config", str(conf), "--workers", "1"], pythonpath=[tmp_path]
    ) as served:
        url = served.url()
        served.wait_for_line("MARKER user post_fork ran")
        assert len(_pids(url, 6)) == 1


@pytest.mark.live
def test_gunicorn_cmd_args_are_honoured_with_workers(tmp_path: Path) -> None:
    """``--max-requests 1``: every worker serves one request, so the pids change."""
    site = write_site(tmp_path, server="port = 0")
    os.environ["GUNICORN_CMD_ARGS"] = "--max-requests 1"
    try:
        served = ServeProcess([str(site), "--workers", "1"], pythonpath=[tmp_path])
    finally:
        del os.environ["GUNICORN_CMD_ARGS"]
    with served:
        url = served.url()
        assert len(_pids(url, 3)) == 3


@pytest.mark.parametrize(
    ("conf", "env", "message"),
    [
        ("workers = 'many'\n", None, "gunicorn.conf.py: workers = 'many': "),
        ("raise RuntimeError('broken\\nconfig')\n", None, "gunicorn.conf.py: RuntimeError: broken config"),
        (None, "--no-such-flag", "GUNICORN_CMD_ARGS=--no-such-flag: gunicorn does not know --no-such-flag"),
        (None, "--workers x", "GUNICORN_CMD_ARGS=--workers x: argument -w/--workers: invalid"),
    ],
)
def test_bad_gunicorn_configuration_is_one_line_exit_2(
    tmp_path: Path, conf: str | None, env: str | None, message: str
) -> None:
    site = write_site(tmp_path, server="port = 0")
    args = [str(site), "--workers", "1"]
    if conf is not None:
        (tmp_path / "gunicorn.conf.py").write_text(conf, encoding="utf-8")
        args += ["-c", str(tmp_path / "gunicorn.conf.py")]
    if env is not None:
        os.environ["GUNICORN_CMD_ARGS"] = env
    try:
        result = run_serve(args)
    finally:
        os.environ.pop("GUNICORN_CMD_ARGS", None)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].replace(str(tmp_path) + os.sep, "").startswith("wsgihub: error: " + message), lines


def test_gunicorn_config_must_exist() -> None:
    result = run_serve(["--mount", "/=live_apps.echo:app_a", "-c", "/no/such/gunicorn.conf.py"])
    assert (result.returncode, result.stderr) == (
        2,
        (
            "wsgihub: error: --gunicorn-config /no/such/gunicorn.conf.py: no such file "
            "(a gunicorn config file, e.g. gunicorn.conf.py)\n"
        ),
    )


# -- the docs ---------------------------------------------------------------------------------------
def test_docs_list_every_option_with_its_variable_and_site_file_key() -> None:
    """docs/cli.md holds the table the option table generates (regenerate with options_markdown())."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert options_markdown() in text, (
        "docs/cli.md's option table is out of date; paste the output of\n"
        "python -c 'from wsgihub.serve import options_markdown; print(options_markdown())'"
    )
    for option in serve_options():
        assert f"`{option.env_var}`" in text and f"`{option.site_key}`" in text


def test_docs_state_the_precedence() -> None:
    for page in ("cli.md", "deployment.md"):
        text = (DOCS / page).read_text(encoding="utf-8")
        assert re.search(r"command line\W+>\W+(`?WSGIHUB_\*`? )?environment\W+>\W+site file", text), page


def test_reload_hand_off_keeps_variables_and_sources() -> None:
    options = ServeOptions(
        site="site.ini", variables={"http_port": "1"}, sources={"port": FROM_COMMAND_LINE}
    )
    again = ServeOptions.from_json(options.to_json())
    assert again.variables == {"http_port": "1"} and again.sources == {"port": FROM_COMMAND_LINE}


# -- pserve ------------------------------------------------------------------------------------------
@pytest.mark.live
def test_pserve_serves_the_same_server_section(tmp_path: Path) -> None:
    """``use = egg:wsgihub#main``: pserve hands the loaded site to wsgihub's server runner."""
    import shutil
    import signal
    import subprocess
    import threading

    pserve = shutil.which("pserve", path=os.path.dirname(sys.executable))  # this environment's own
    if pserve is None:
        pytest.skip("pserve not installed here (pip install pyramid; the integration envs have it)")
    site = write_site(tmp_path, server="use = egg:wsgihub#main\nport = 0\nhealth_path = /healthz\nthreads = 2")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(Path(__file__).parent)]))
    process = subprocess.Popen(
        [pserve, str(site)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env
    )
    watchdog = threading.Timer(30, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        url = ""
        for line in process.stdout:
            if line.startswith("Serving on "):
                url = line.split()[-1]
                break
        assert url, process.stderr.read() if process.stderr else ""
        assert requests.get(url + "/healthz", timeout=5).json()["status"] == "ok"
        assert requests.get(url + "/", timeout=5).text.startswith("hello from ")
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        watchdog.cancel()
        process.kill()
        process.wait(5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    site.write_text(site.read_text().replace("threads = 2", "workers = 2"), encoding="utf-8")
    result = subprocess.run(
        [pserve, str(site)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=30, check=False
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"wsgihub: error: {site} [server:main] workers: only 'wsgihub serve {site}' can do this, not pserve\n"
    )


def test_wsgihub_debug_shows_tracebacks_as_debug_does() -> None:
    os.environ["WSGIHUB_DEBUG"] = "1"
    try:
        result = run_serve(["--mount", "/=live_apps.no_such_module:app"])
    finally:
        del os.environ["WSGIHUB_DEBUG"]
    assert result.returncode != 0
    assert "Traceback (most recent call last)" in result.stderr
    assert "no_such_module" in result.stderr
