"""Tracing (issue 11 §8): ``wsgihub serve --otel``, one span per request named ``mount:endpoint``.

The site below sets up OpenTelemetry's SDK with its ``InMemorySpanExporter``
and mounts, beside a Flask app, a plain app at ``/spans`` that answers the
finished spans as JSON: the test reads what the server process recorded
over HTTP.  Skipped where the ``otel`` extra (and Flask) are not installed;
without OpenTelemetry, ``--otel`` must be a one-line error instead.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import requests

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_apps._process import ServeProcess, run_serve

try:
    HAS_OTEL = importlib.util.find_spec("opentelemetry.instrumentation.wsgi") is not None
except ImportError:  # no opentelemetry package at all
    HAS_OTEL = False
SERVERS = {"waitress": [], "gunicorn": ["--workers", "1"]}

SITE = '''
import json

import flask
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from wsgihub import Hub

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

shop = flask.Flask("shop")


@shop.route("/items/<int:item_id>")
def item(item_id):
    return {"item": item_id}


def spans(environ, start_response):
    """The spans finished so far (this request's own is not finished yet)."""
    body = json.dumps(
        [
            {
                "name": span.name,
                "start": span.start_time,
                "kind": span.kind.name,
                "trace_id": format(span.context.trace_id, "032x"),
                "parent": format(span.parent.span_id, "016x") if span.parent else None,
                "attributes": {k: v for k, v in span.attributes.items() if k.startswith("wsgihub.")},
            }
            for span in exporter.get_finished_spans()
        ]
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def site():
    hub = Hub()
    hub.mount("/shop", shop, name="shop")
    hub.mount("/spans", spans, name="spans")
    return hub
'''


@pytest.fixture
def traced_site(tmp_path: Path) -> Path:
    pytest.importorskip("flask")
    (tmp_path / "traced_site.py").write_text(textwrap.dedent(SITE))
    return tmp_path


@pytest.mark.live
@pytest.mark.skipif(not HAS_OTEL, reason="the otel extra is not installed")
@pytest.mark.parametrize("server", SERVERS)
def test_one_span_per_request_named_mount_endpoint(traced_site: Path, server: str) -> None:
    with ServeProcess(["traced_site:site", "--port", "0", "--otel", *SERVERS[server]], pythonpath=[traced_site]) as proc:
        url = proc.url()
        parent_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        assert requests.get(
            url + "/shop/items/7",
            headers={"traceparent": f"00-{parent_trace}-00f067aa0ba902b7-01", "X-Request-ID": "r-7"},
            timeout=10,
        ).json() == {"item": 7}
        assert requests.get(url + "/shop/nothing-here", timeout=10).status_code == 404
        assert requests.get(url + "/nowhere", timeout=10).status_code == 404
        # A request's span ends when the server closes its body, after the client has the
        # response: the next request can end first, or the span can still be open when /spans
        # is asked. Wait until three are finished (bounded; an earlier /spans request's own span,
        # named "spans", is left out), then take them in starting order.
        deadline = time.monotonic() + 10
        while True:
            found: list[dict[str, Any]] = [
                span for span in requests.get(url + "/spans", timeout=10).json() if span["name"] != "spans"
            ]
            if len(found) >= 3 or time.monotonic() > deadline:
                break
    found.sort(key=lambda span: span["start"])
    assert [span["name"] for span in found] == ["shop:item", "shop", "GET /nowhere"]
    first = found[0]
    assert first["kind"] == "SERVER"
    assert first["trace_id"] == parent_trace  # the incoming trace context is continued
    assert first["parent"] == "00f067aa0ba902b7"
    assert first["attributes"] == {
        "wsgihub.mount": "shop",
        "wsgihub.endpoint": "item",
        "wsgihub.request_id": "r-7",
    }
    assert found[1]["attributes"]["wsgihub.mount"] == "shop"  # a 404 in the mount: no endpoint
    assert "wsgihub.endpoint" not in found[1]["attributes"]


@pytest.mark.skipif(HAS_OTEL, reason="OpenTelemetry is installed here")
def test_otel_without_opentelemetry_is_one_line() -> None:
    done = run_serve(["--mount", "/a=live_apps.echo:app_a", "--port", "0", "--otel"])
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "--otel" in done.stderr
    assert "pip install opentelemetry-sdk opentelemetry-instrumentation-wsgi" in done.stderr
