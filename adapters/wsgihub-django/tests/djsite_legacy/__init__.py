"""A small real Django project for the wsgihub-django tests (the "legacy" site)."""
