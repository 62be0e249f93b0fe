"""The legacy Django site: a home page, blog posts, items (which FastAPI takes over), a contact form."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

import wsgihub

#: POSTs Django ran (a POST the graft takes must never reach Django too).
POSTS: list[str] = []


def home(request: HttpRequest) -> HttpResponse:
    page = engines["django"].from_string("legacy home; api: {% hub_url 'api:read_item' item_id=7 %}")
    return HttpResponse(page.render({}, request))


def blog(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse({"django": "blog", "pk": pk, "api": wsgihub.url_for("api:read_item", item_id=pk)})


def item(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse({"django": "item", "pk": pk})


@csrf_exempt
def items(request: HttpRequest) -> JsonResponse:
    POSTS.append(request.method or "")
    return JsonResponse({"django": "items", "method": request.method})


urlpatterns = [
    path("", home, name="home"),
    path("blog/<int:pk>/", blog, name="blog"),
    path("items/<int:pk>", item, name="item"),
    path("items/", items, name="items"),
]
