"""wsgi_party 0.1b1's unittest suite, run unmodified against our drop-in."""

from __future__ import annotations

import unittest
from typing import Any


def test_upstream_suite_passes(upstream_module: Any) -> None:
    module = upstream_module
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    assert suite.countTestCases() == 13, "upstream suite shrank: is this the right sdist?"
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    problems = [f"{test.id()}: {trace}" for test, trace in result.failures + result.errors]
    assert not problems, "\n".join(problems)
    assert result.testsRun == suite.countTestCases()
