"""The test project's URL conf plus Django's own login and logout views (test_django_identity).

``registration/login.html`` lives in the project's template folder.
"""

from django.contrib.auth import views as auth_views
from django.urls import path
from djsite_legacy.urls import urlpatterns as legacy_patterns

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="accounts_login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="accounts_logout"),
    *legacy_patterns,
]
