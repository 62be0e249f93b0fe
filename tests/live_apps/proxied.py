"""A site for the proxy and load-balancer tests: ``live_apps.proxied:site``.

One :class:`~wsgihub.testing.ReferenceApp` at ``/app`` whose pages answer
``app:ENDPOINT SCRIPT_NAME|PATH_INFO {json}``, the JSON saying what the
request looked like after the front layers (client address, scheme, host,
the outer prefix, the TCP peer) and the absolute URL the hub builds for
``app:page`` -- what a user's link would carry behind the proxy.
``public.example`` and loopback are the trusted hosts.
"""

from __future__ import annotations

import json
import os
from typing import Any

import wsgihub
from wsgihub.errors import UntrustedHostError
from wsgihub.testing.reference import ReferenceApp, reference_hub

from .echo import slow

TRUSTED_HOSTS = ["public.example", "127.0.0.1"]


def _report(environ: dict[str, Any]) -> str:
    try:
        link = wsgihub.url_for("app:page", n=1, _external=True)
    except UntrustedHostError:
        link = None
    return json.dumps(
        {
            "pid": os.getpid(),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "peer": environ.get("wsgihub.proxy.peer"),
            "scheme": environ.get("wsgi.url_scheme"),
            "host": environ.get("HTTP_HOST"),
            "script_name": environ.get("SCRIPT_NAME"),
            "link": link,
            "headers": sorted(k for k in environ if k.startswith(("HTTP_X_FORWARDED", "HTTP_FORWARDED"))),
        }
    )


def site() -> wsgihub.Hub:
    """The hub: ``/app/`` and ``/app/pages/<n>`` report the request; ``/slow/?seconds=N`` sleeps."""
    hub = reference_hub(trusted_hosts=TRUSTED_HOSTS)
    app = ReferenceApp("app", {"index": "/", "page": "/pages/<int:n>"})
    app.on_request = _report
    hub.mount("/app", app, name="app")
    hub.mount("/slow", slow, name="slow")
    return hub
