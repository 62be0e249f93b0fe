"""URLs of the legacy project (mount ``legacy``: ``legacy:home``, ``legacy:blog:detail``...)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("blog/", include("graftsite.legacy.blog.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/profile/", views.profile, name="profile"),
    path("admin/", admin.site.urls),
    # Static files (/static/...) are served by the hub's Django mount (site.ini:
    # static = insecure, as runserver --insecure: a sample site has no front-end server).
    # Browsers ask for /favicon.ico on pages that name no icon (the API's JSON).
    path(
        "favicon.ico",
        RedirectView.as_view(url="/static/legacy/favicon.svg", permanent=True),
        name="favicon",
    ),
]
