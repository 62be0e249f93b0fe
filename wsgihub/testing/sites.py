"""Site files and the console script for a test: an app used the way a deployed site uses it.

::

    from wsgihub.testing import write_site

    site = write_site(tmp_path, "egg:wsgihub-flask#app", "app = mysite:create_app\n")
    hub = wsgihub.load(str(site))          # the hub mounts the app at /new, mount 'new'

Writing the module the factory names into the current directory is the
``module_folder`` pytest fixture's job (:mod:`wsgihub.testing.fixtures`).
:func:`console_script` finds the installed ``wsgihub`` command, to run a
site as a user does.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

__all__ = ["console_script", "write_site"]


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


def console_script() -> list[str] | None:
    """The installed ``wsgihub`` console script as a command (``None`` where there is none).

    The one beside this interpreter first (a virtualenv's ``bin``), else
    the one on ``PATH``.  A test that runs a site as a user does wants the
    script rather than ``python -m wsgihub.cli``: the script's
    ``sys.path[0]`` is its own directory, not the current one.
    """
    beside = Path(sys.executable).with_name("wsgihub")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("wsgihub")
    return [found] if found is not None else None
