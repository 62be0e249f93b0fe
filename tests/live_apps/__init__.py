"""Small sites and apps that the live tests serve in real processes.

The tests put ``tests/`` on ``PYTHONPATH`` and name them ``live_apps.echo:app_a``.
"""
