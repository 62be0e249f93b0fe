"""docs/api.md, the list of public names, cannot go stale.

The page has one ``### `module``` section per module, each a table whose first column
holds the names (relative to the section's module, or dotted from ``wsgihub``).  These
tests check that every listed name imports, that every module declaring ``__all__`` has
a section listing all of it, and that every link on the page reaches a file and heading.
``__all__`` is read from the source (``ast``), so modules that need an extra (uvicorn,
granian) are held to the page even where the extra is not installed; their names are
imported only where it is.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGE = DOCS / "api.md"
PACKAGE = ROOT / "wsgihub"

#: Modules whose import needs an optional dependency: their names resolve only where it is installed.
EXTRAS = {
    "wsgihub.servers.uvicorn": "uvicorn",
    "wsgihub.servers.uvicorn_workers": "uvicorn_worker",
    "wsgihub.servers.granian": "granian",
}

_SECTION = re.compile(r"^### `(wsgihub[\w.]*)`\s*$")
_NAME = re.compile(r"`([\w.]+)`")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^(```|~~~)")


def page_sections(text: str) -> dict[str, list[str]]:
    """``{section module: [dotted names listed in it]}``; the core table files under ``""``.

    A name in a row's first cell is dotted from ``wsgihub`` when it starts so, else it is
    relative to the section's module.  A module with two sections gets both lists.
    """
    sections: dict[str, list[str]] = {}
    module = ""
    for line in text.splitlines():
        heading = _SECTION.match(line)
        if heading:
            module = heading.group(1)
            sections.setdefault(module, [])
            continue
        if line.startswith("## "):
            module = ""
            continue
        if not line.startswith("| `"):
            continue
        first_cell = line.split("|")[1]
        for name in _NAME.findall(first_cell):
            absolute = name == "wsgihub" or name.startswith("wsgihub.")
            if not absolute and not module:
                raise AssertionError(f"docs/api.md: {name!r} is listed outside a module section")
            sections.setdefault(module, []).append(name if absolute else f"{module}.{name}")
    return sections


SECTIONS = page_sections(PAGE.read_text(encoding="utf-8"))


def module_path(module: str) -> Path:
    """The source file of ``module`` (a module of the wsgihub package), found without importing it."""
    relative = Path(*module.split(".")[1:])
    package = PACKAGE / relative / "__init__.py"
    return package if package.exists() else (PACKAGE / relative).with_suffix(".py")


def declared_all(module: str) -> list[str] | None:
    """The names ``module`` puts in its ``__all__`` (a literal in its source), or ``None``: it has none."""
    tree = ast.parse(module_path(module).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            names: list[str] = ast.literal_eval(node.value)
            return names
    return None


def package_modules() -> list[str]:
    """Every module of the wsgihub package, by name, from the files (nothing imported)."""
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def needs_extra(dotted: str) -> str | None:
    """The optional distribution ``dotted`` needs, if it is in one of :data:`EXTRAS`' modules."""
    for module, extra in EXTRAS.items():
        if dotted == module or dotted.startswith(module + "."):
            return extra
    return None


def resolve(dotted: str) -> Any:
    """Import the longest module prefix of ``dotted`` and look the rest up as attributes.

    An attribute that only instances have counts when the class declares it (a dataclass
    field: ``FrontStack.app``) or its source assigns ``self.<name>`` (``Hub.partyline``).
    """
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        module_name = ".".join(parts[:split])
        try:
            obj: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            missing = error.name or ""
            if missing.startswith("wsgihub") and (module_name + ".").startswith(missing + "."):
                continue  # not a module: the rest are attributes
            raise
        break
    else:
        raise AssertionError(f"{dotted}: no module to start from")
    for attr in parts[split:]:
        if hasattr(obj, attr):
            obj = getattr(obj, attr)
        elif inspect.isclass(obj) and (
            any(attr in inspect.get_annotations(cls) for cls in obj.__mro__)
            or re.search(rf"\bself\.{attr}\s*[:=]", inspect.getsource(obj))
        ):
            obj = None  # an instance attribute: nothing further to look up
        else:
            raise AssertionError(f"docs/api.md lists {dotted}, but {attr!r} is not there")
    return obj


@pytest.mark.parametrize("section", sorted(SECTIONS), ids=lambda s: s or "core")
def test_every_listed_name_imports(section: str) -> None:
    extra = needs_extra(section)
    if extra is not None and importlib.util.find_spec(extra) is None:
        pytest.skip(f"{section} needs {extra}, which is not installed here")
    assert SECTIONS[section], f"docs/api.md: the section for {section} lists no name"
    for dotted in SECTIONS[section]:
        resolve(dotted)


def test_every_module_with_all_has_a_section_listing_all_of_it() -> None:
    gaps = []
    for module in package_modules():
        names = declared_all(module)
        if not names:
            continue
        listed = set(SECTIONS.get(module, []))
        if module not in SECTIONS:
            gaps.append(f"{module}: no section")
            continue
        missing = [name for name in names if f"{module}.{name}" not in listed]
        if missing:
            gaps.append(f"{module}: {', '.join(missing)} not listed")
    assert not gaps, "docs/api.md is behind the code's __all__ lists:\n" + "\n".join(gaps)


def test_sections_are_modules_of_the_package() -> None:
    modules = set(package_modules())
    strays = [section for section in SECTIONS if section and section not in modules]
    assert not strays, f"docs/api.md has sections for modules that do not exist: {strays}"


def anchors(path: Path) -> set[str]:
    """The heading anchors GitHub makes for ``path`` (headings inside code fences do not count)."""
    found = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def test_every_link_reaches_a_page_and_heading() -> None:
    broken = []
    for target in sorted(set(_LINK.findall(PAGE.read_text(encoding="utf-8")))):
        if "://" in target:
            continue
        file, _, anchor = target.partition("#")
        path = DOCS / file if file else PAGE
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and anchor not in anchors(path):
            broken.append(f"{target}: no such heading")
    assert not broken, "docs/api.md has broken links:\n" + "\n".join(broken)


def test_the_page_reader_finds_names_in_tables_only() -> None:
    text = "## Group\n\n### `wsgihub.urls`\n\n| `HostTrust`, `wsgihub.Hub.mount` | x `Origin` | [a](a.md) |\nprose `HostCheck`\n"
    assert page_sections(text) == {"wsgihub.urls": ["wsgihub.urls.HostTrust", "wsgihub.Hub.mount"]}
