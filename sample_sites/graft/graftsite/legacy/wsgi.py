"""The legacy project's WSGI application, as Django's ``startproject`` writes it.

``site.ini`` loads the project through the Django adapter's factory
(``use = egg:wsgihub-django#app``); :mod:`graftsite.site` mounts this.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "graftsite.legacy.settings")

application = get_wsgi_application()
