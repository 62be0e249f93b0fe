"""The tests' own modules (starlette_apps.py, live_fastapi.py) are importable; Starlette and FastAPI are required here."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
