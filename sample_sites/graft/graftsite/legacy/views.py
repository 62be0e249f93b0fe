"""The legacy project's own pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

import wsgihub

from .blog.models import Post


def home(request: HttpRequest) -> HttpResponse:
    """The home page: links into the blog (Django), the new pages (Flask) and the API (Pyramid)."""
    return render(request, "home.html", {"posts": Post.objects.select_related("author")[:3]})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """Where Django sends a user after login: the profile page is now the Flask ``/whoami``.

    ``wsgihub.url_for`` builds the URL of any mounted app from inside a request
    the hub serves, mount prefix applied.
    """
    return redirect(wsgihub.url_for("new:whoami"))
