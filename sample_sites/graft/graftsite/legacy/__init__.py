"""The legacy Django project: a blog, login through ``django.contrib.auth``, the admin.

Settings module ``graftsite.legacy.settings``.  Its templates link into the
Flask part with ``{% load wsgihub %}{% hub_url "new:..." %}`` and some of
its views redirect there with :func:`wsgihub.url_for`; apart from that it is
an ordinary Django project that knows nothing about the apps beside it.
"""
