"""Site files for a test: an adapter's app factory used the way a site file uses it.

::

    from wsgihub.testing import write_site

    site = write_site(tmp_path, "egg:wsgihub-flask#app", "app = mysite:create_app\n")
    hub = wsgihub.load(str(site))          # the hub mounts the app at /new, mount 'new'

Writing the module the factory names into a folder on ``sys.path`` is the
``module_folder`` pytest fixture's job (:mod:`wsgihub.testing.fixtures`).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

__all__ = ["write_site"]


def write_site(
    directory: Path | str, use: str, settings: str = "", *, prefix: str = "/new", name: str = "new"
) -> Path:
    """Write ``directory/site.ini``, a hub with one mount, and return its path.

    The hub (``[composite:main]``, ``use = egg:wsgihub#hub``) mounts section
    ``[app:NAME]`` at ``prefix``; that section says ``use = USE`` followed
    by ``settings`` (dedented, so a test may indent them).  One mount is
    what an adapter's factory test needs: the errors it checks name the
    file, the section and the key.
    """
    path = Path(directory) / "site.ini"
    path.write_text(
        f"[composite:main]\nuse = egg:wsgihub#hub\n{prefix} = {name}\n\n[app:{name}]\nuse = {use}\n"
        + textwrap.dedent(settings)
    )
    return path
