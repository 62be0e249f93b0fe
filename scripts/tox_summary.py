"""Print each tox env's test counts from tox's result journal (``tox --result-json``).

``tox run-parallel`` shows only OK or FAIL per env; this prints, per env and
per pytest command, pytest's own summary line (``312 passed, 4 skipped in
41.2s``), the last line of the lint tools, the skip reasons a person must act
on (the browser test), the notices ``scripts/test.sh`` gathered, and last the
total as ``total: N passed, N failed, N skipped``.  It never sets the exit
code: ``scripts/test.sh`` exits with tox's.

Usage: python scripts/tox_summary.py JOURNAL.json [NOTICE ...]
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# pytest's closing line, with -q or without: "==== 3 passed, 1 skipped in 2.56s ====".
SUMMARY = re.compile(r"^=*\s*((?:\d+ [a-z]+(?:, )?)+|no tests ran) in [\d.]+s\b")
COUNT = re.compile(r"(\d+) ([a-z]+)")
LOUD_SKIP = re.compile(r"^SKIPPED .*browser test not run.*$", re.MULTILINE)
LINT_TOOLS = ("ruff", "mypy")
# Their verdict lines: ruff's "All checks passed!" / "Found 3 errors.", mypy's "Success: ..." / "Found ...".
LINT_VERDICT = re.compile(r"^(All checks passed|Found \d+ error|Success:)")


def _label(command: list[str]) -> str:
    """``pytest tests --ignore=... -q`` -> ``tests``: the first path it was given."""
    paths = [arg for arg in command[1:] if not arg.startswith("-")]
    return paths[0] if paths else Path(command[0]).name


def _summary_line(output: str) -> str | None:
    for line in reversed(output.splitlines()):
        match = SUMMARY.match(line.strip())
        if match:
            return line.strip().strip("=").strip()
    return None


def report(journal: dict[str, Any], notices: list[str]) -> list[str]:
    """The lines to print for ``journal`` (tox's ``--result-json``) and ``notices``."""
    lines = ["", "test counts per tox env:"]
    total: Counter[str] = Counter()
    failed_envs: list[str] = []
    loud: list[str] = []
    for env, data in journal.get("testenvs", {}).items():
        result = data.get("result")
        if env.startswith(".pkg") or result is None:  # packaging, or not selected to run
            continue
        if result.get("skipped"):
            lines.append(f"  {env}: SKIPPED (no interpreter for it on this machine)")
            continue
        if not result.get("success", False):
            failed_envs.append(env)
        commands = data.get("test", [])
        if not commands:
            lines.append(f"  {env}: FAILED before its tests ran (exit {result.get('exit_code')})")
        printed = len(lines)
        for run in commands:
            command = [str(part) for part in run.get("command", [])]
            tool = Path(command[0]).name if command else ""
            output = run.get("output", "") + run.get("err", "")
            summary = _summary_line(output)
            if summary is not None:
                lines.append(f"  {env} [{_label(command)}]: {summary}")
                if summary != "no tests ran":
                    total.update({word: int(n) for n, word in COUNT.findall(summary)})
                loud += [f"  {env}: {line}" for line in LOUD_SKIP.findall(output)]
            elif tool in LINT_TOOLS:
                said = [x.strip() for x in output.splitlines() if LINT_VERDICT.match(x.strip())]
                verdict = said[-1] if said else f"exited {run.get('retcode')}"
                lines.append(f"  {env} [{tool}]: {verdict}")
            elif run.get("retcode", 0) != 0:
                lines.append(f"  {env} [{tool}]: exited {run.get('retcode')}")
        if commands and len(lines) == printed:  # no test runner in it, and nothing failed
            lines.append(f"  {env}: {'OK' if result.get('success') else 'FAILED'}")
    if loud:
        lines += ["", "tests skipped for want of something on this machine:", *loud]
    if notices:
        lines += ["", "notices:", *(f"  {notice}" for notice in notices)]
    if failed_envs:
        lines += ["", f"failed envs: {', '.join(failed_envs)}"]
    failed = total["failed"] + total["error"] + total["errors"]
    lines += [
        "",
        f"total: {total['passed']} passed, {failed} failed, {total['skipped']} skipped",
    ]
    return lines


def main(argv: list[str]) -> int:
    path, notices = Path(argv[1]), argv[2:]
    try:
        journal = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        print(f"tox_summary: no tox journal to read ({exc})")
        return 1
    print("\n".join(report(journal, notices)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
