"""``wsgihub serve corpus_django.site:site``: the project at ``/dj``, an echo app at ``/a``."""

import os

import wsgihub


def site() -> wsgihub.Hub:
    os.environ["DJANGO_SETTINGS_MODULE"] = "corpus_django.settings"  # whatever the parent had
    import corpus_site
    from django.core.wsgi import get_wsgi_application

    hub = wsgihub.Hub(trusted_hosts=["example.com"])
    hub.mount("/dj", get_wsgi_application(), name="dj")
    hub.mount("/a", corpus_site.echo("a"))
    return hub
