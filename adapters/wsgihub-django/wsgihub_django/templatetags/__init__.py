"""Django template libraries shipped by wsgihub-django (``{% load wsgihub %}``)."""
