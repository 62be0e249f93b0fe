"""The one-module Django project the benchmarks configure: settings in code, no settings file.

``bench_apps``, ``bench_backends`` and ``graft.py`` each serve a Django project
whose URL conf is their own module; they differ only in the middleware.  This
module imports Django alone (no wsgihub), so a backend process of the proxy
setup still holds only its own framework.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import django
from django.conf import settings


def configure(urlconf: str, middleware: Sequence[str] = ()) -> Any:
    """Configure Django once for the URL conf module ``urlconf``; return a WSGI handler.

    No apps, no database, any Host, ``DEBUG`` off: the least Django needs to
    answer a request, so a benchmark measures the request path.  A process
    where Django is configured already keeps its settings (a second call only
    builds another handler).
    """
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="benchmark-only",
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF=urlconf,
            INSTALLED_APPS=[],
            MIDDLEWARE=list(middleware),
            DATABASES={},
            USE_TZ=True,
        )
        django.setup()
    from django.core.wsgi import get_wsgi_application  # after the settings

    return get_wsgi_application()
