from django.urls import path

from xsite import apps

urlpatterns = [
    path("item/<int:n>/", apps.django_item, name="item"),
    path("build", apps.django_build, name="build"),
]
