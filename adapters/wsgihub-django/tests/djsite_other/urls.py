from django.http import HttpResponse
from django.urls import path

urlpatterns = [path("", lambda request: HttpResponse("other project"), name="home")]
