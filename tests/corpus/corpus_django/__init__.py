"""A one-view Django project for the corpus's Django rows (served in a process of its own).

``ALLOWED_HOSTS = ["*"]`` on purpose: Django lets every Host through, so what
happens to a hostile one is up to the hub (``trusted_hosts``) and the adapter.
"""
