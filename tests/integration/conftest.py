"""Cross-framework tests: need Flask, Django, Pyramid, Werkzeug and all four adapters.

They run in the integration tox envs; elsewhere (the core env has no
framework) the directory is not collected.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

NEEDED = ("flask", "django", "pyramid", "werkzeug", "wsgihub_flask", "wsgihub_django", "wsgihub_pyramid", "wsgihub_werkzeug")
missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
collect_ignore_glob = ["test_*.py"] if missing else []

sys.path.insert(0, str(Path(__file__).parent))
