"""The Django adapter passes wsgihub's adapter conformance suite (wsgihub.testing.conformance).

Django runs one project per process, so every app the suite makes is the
``djsite_legacy`` project (``distinct_apps = False``), and its routes
carry no methods (``methods=None``, no refused method).
"""

from __future__ import annotations

from typing import Any

from django.core.wsgi import get_wsgi_application
from django.urls import get_script_prefix

from wsgihub.testing.conformance import AdapterConformance, RouteCase


class TestDjangoConformance(AdapterConformance):
    framework = "django"
    route = RouteCase(
        endpoint="blog:detail",
        rule="blog/<int:pk>/",
        values={"pk": 3},
        path="/blog/3/",
        missing="pk",
        bad={"pk": "abc"},
        methods=None,
        refused_method=None,
    )
    cookies = frozenset({"sessionid", "csrftoken"})
    distinct_apps = False

    def make_app(self) -> Any:
        return get_wsgi_application()

    def framework_state(self) -> object:
        """Django's script prefix: WSGIHandler sets it and never puts it back."""
        return get_script_prefix()
