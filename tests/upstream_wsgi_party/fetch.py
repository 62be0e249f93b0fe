"""Fetch wsgi_party 0.1b1's sdist and extract its own test suite (tests.py).

Usage: python tests/upstream_wsgi_party/fetch.py DEST_DIR

The upstream tests are never committed here: they are taken from the
package registry at test time, so what runs is exactly what upstream ships.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SDIST = "wsgi-party==0.1b1"


def main(dest: str) -> int:
    target = Path(dest)
    target.mkdir(parents=True, exist_ok=True)
    if (target / "tests.py").exists():
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", SDIST, "-d", tmp],
            check=True,
        )
        archive = next(Path(tmp).glob("wsgi_party-*"))
        with tarfile.open(archive) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("/tests.py"))
            extracted = tar.extractfile(member)
            assert extracted is not None
            (target / "tests.py").write_bytes(extracted.read())
    print(f"wsgi_party upstream tests in {target / 'tests.py'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
