"""Drop-in replacements for neighbouring projects' modules, backed by wsgihub.

- :mod:`wsgihub.compat.wsgi_party`: the ``wsgi_party`` module.
- :mod:`wsgihub.compat.werkzeug`: Werkzeug's ``DispatcherMiddleware``.
"""


def __getattr__(name: str) -> object:
    """``wsgihub.compat.wsgi_party`` and ``.werkzeug`` imported on first use."""
    if name in ("wsgi_party", "werkzeug"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'wsgihub.compat' has no attribute {name!r}")
