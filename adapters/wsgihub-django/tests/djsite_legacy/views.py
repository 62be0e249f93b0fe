"""Views that use the hub from inside Django."""

import wsgihub_django
from django.contrib.auth import login
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.views.decorators.csrf import csrf_exempt

import wsgihub


def home(request):
    return HttpResponse("legacy home")


def blog_index(request):
    return HttpResponse("blog index")


def detail(request, pk, slug=None):
    return HttpResponse(f"post {pk} {slug or ''}".strip())


def tag(request, tag):
    return HttpResponse(f"tag {tag}")


def archive(request, year=None, *args):
    return HttpResponse(f"archive {year}")


def to_new(request):
    """A Django view linking into the Flask app with wsgihub.url_for and hub_url."""
    return HttpResponse(
        f"{wsgihub.url_for('new:user', uid=5)} {wsgihub_django.hub_url('new:user', uid=6)} {reverse('blog:index')}"
    )


def links(request):
    return render(request, "legacy/links.html", {"uid": 5})


def atomic(request):
    """Enter another Django mount's request context inside a transaction; it must survive."""
    hub = request.environ["wsgihub.hub"]
    other = request.GET.get("mount", "legacy2")
    with transaction.atomic():
        Group.objects.create(name="atomic-before")
        with hub.request_context(other, path="/me/") as inner:
            with hub.request_context(other) as innermost:
                seen = f"{inner.user.is_authenticated}/{innermost.path}"
            count_inside = Group.objects.filter(name__startswith="atomic-").count()
        Group.objects.create(name="atomic-after")
        alive = connection.in_atomic_block and not connection.needs_rollback
        count = Group.objects.filter(name__startswith="atomic-").count()
        transaction.set_rollback(True)  # leave the database as it was
    return HttpResponse(f"alive={alive} count={count} inside={count_inside} seen={seen}")


@csrf_exempt
def login_as(request, username):
    user, _ = User.objects.get_or_create(username=username)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponse("logged in")


def me(request):
    return HttpResponse(request.user.username or "anonymous")


def prefix(request):
    return HttpResponse(f"{get_script_prefix()} {reverse('home')}")
