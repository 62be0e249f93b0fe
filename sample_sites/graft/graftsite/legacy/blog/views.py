"""Blog views."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

import wsgihub

from .models import Post


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "blog/index.html", {"posts": Post.objects.select_related("author")})


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(Post.objects.select_related("author"), pk=pk)
    return render(request, "blog/detail.html", {"post": post})


def author(request: HttpRequest, pk: int) -> HttpResponse:
    """The old author page now lives in Flask: redirect there (``new:user``)."""
    post = get_object_or_404(Post, pk=pk)
    return redirect(wsgihub.url_for("new:user", uid=post.author_id))
