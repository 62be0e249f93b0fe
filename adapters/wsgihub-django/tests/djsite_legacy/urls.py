from django.urls import include, path, re_path

from djsite_legacy import views

urlpatterns = [
    path("", views.home, name="home"),
    path("blog/", include("djsite_legacy.blog.urls")),
    path("news/", include("djsite_legacy.blog.urls", namespace="news")),
    path("unnamed/", views.home),
    re_path(r"^archive/(?P<year>[0-9]{4})/$", views.archive, name="archive"),
    re_path(r"^positional/([0-9]+)/$", views.archive, name="positional"),
    path("to-new/", views.to_new, name="to_new"),
    path("links/", views.links, name="links"),
    path("atomic/", views.atomic, name="atomic"),
    path("login/<str:username>/", views.login_as, name="login"),
    path("me/", views.me, name="me"),
    path("prefix/", views.prefix, name="prefix"),
]
