"""Drop-in replacements for neighbouring projects' modules, backed by wsgihub.

- :mod:`wsgihub.compat.wsgi_party`: the ``wsgi_party`` module.
- :mod:`wsgihub.compat.werkzeug`: Werkzeug's ``DispatcherMiddleware``.
"""
