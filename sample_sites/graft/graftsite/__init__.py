"""graftsite: wsgihub's sample site.

A legacy Django project (:mod:`graftsite.legacy`) mounted at ``/``, a new
Flask app (:mod:`graftsite.new`) grafted over it so that its routes take
over those URLs one at a time, and a Pyramid JSON API (:mod:`graftsite.api`)
mounted at ``/api``.  The site is declared in ``site.ini`` and, the same, in
Python in :mod:`graftsite.site`; ``python -m graftsite.run`` serves it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SITE_INI"]

#: The PasteDeploy site file of the sample site.
SITE_INI: Path = Path(__file__).with_name("site.ini")
