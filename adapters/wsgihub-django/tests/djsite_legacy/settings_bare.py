"""The test project without wsgihub_django in INSTALLED_APPS (zero-config template library)."""

from djsite_legacy.settings import *

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "wsgihub_django"]
