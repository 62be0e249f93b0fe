from django.urls import include, path

from djsite_legacy import views

app_name = "blog"

tag_patterns = [path("<slug:tag>/", views.tag, name="tag")]

urlpatterns = [
    path("", views.blog_index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/<slug:slug>/", views.detail, name="detail"),
    path("tags/", include((tag_patterns, "tags"))),
]
