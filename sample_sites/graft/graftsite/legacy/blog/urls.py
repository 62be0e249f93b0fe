"""Blog URLs: ``blog:index``, ``blog:detail``, ``blog:author`` (``legacy:blog:...`` on the hub)."""

from django.urls import path

from . import views

app_name = "blog"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/author/", views.author, name="author"),
]
