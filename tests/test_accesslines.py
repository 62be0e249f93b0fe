"""wsgihub.accesslines compiled (mypyc) against its own Python source: the same lines.

A wheel built by ``scripts/build-wheels.sh`` holds the module twice: compiled
(what is imported) and as ``accesslines.py`` beside it.  Here the source is
loaded as a module of its own and both are given the same batches -- drawn
by hypothesis: values of every kind a request can leave, times across
seconds, durations from none to huge.

The ``compiled`` tox env installs that wheel and sets ``WSGIHUB_TEST_COMPILED=1``;
where the module runs as Python (an editable install) there is nothing
compiled to compare, and these tests say so as a skip.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsgihub import accesslines

#: What the environment says the module must be (``None``: not said).
EXPECTED = os.environ.get("WSGIHUB_TEST_COMPILED")

needs_compiled = pytest.mark.skipif(
    not accesslines.COMPILED, reason="wsgihub.accesslines runs as Python here: nothing compiled to compare"
)


def test_the_module_is_compiled_where_the_environment_says_so() -> None:
    if EXPECTED is None:
        pytest.skip("WSGIHUB_TEST_COMPILED is not set (the compiled tox env sets it)")
    assert accesslines.COMPILED is (EXPECTED == "1"), accesslines.__file__


@pytest.fixture(scope="module")
def source() -> ModuleType:
    """``accesslines.py`` beside the compiled module, loaded as a module of its own."""
    path = Path(accesslines.__file__).with_name("accesslines.py")
    spec = importlib.util.spec_from_file_location("wsgihub._accesslines_source", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    assert module.COMPILED is False
    return module


_text = st.text(max_size=12) | st.sampled_from(["GET", "/a", "", "127.0.0.1"])
_maybe_text = st.none() | _text
#: One request's values as a batch holds them (the part key's items repeat, as a site's do).
_values = st.tuples(
    st.sampled_from(["GET", "POST", "HEAD"]),
    st.sampled_from(["", "/new"]),
    st.sampled_from(["/", "/users/5", "/caf\u00e9"]),
    st.sampled_from(["127.0.0.1", "", "::1"]),
    st.sampled_from([None, "localhost:8000"]),
    st.sampled_from(["/users/5", "/x y"]),
    st.sampled_from([None, "200 OK", "404 Not Found", "500"]),
    st.sampled_from([0, 1, 2]),
    st.floats(min_value=0.0, max_value=4e9, allow_nan=False),
    st.floats(min_value=-1.0, max_value=1e6, allow_nan=False),
    st.sampled_from([None, 0, 13, 99999, 2**70]),
    _maybe_text,
)


def _columns(key: Any) -> tuple[str, str]:
    return (f" {key[3]} {key[0]} {key[5]} {key[6]} ", f"m{key[7]} e ")


def _json_columns(key: Any) -> tuple[str, str, str]:
    return (f'", "method": "{key[0]}", "bytes": ', f', "peg": {key[7]}, "request_id": ', "}\n")


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(
    requests=st.lists(_values, min_size=1, max_size=40),
    offset=st.floats(min_value=-1e6, max_value=1e9, allow_nan=False),
)
def test_batches_make_the_same_lines(source: ModuleType, requests: list[tuple[Any, ...]], offset: float) -> None:
    batch: list[Any] = []
    for values in requests:
        ended = values[8] + values[9]  # a duration from -1 s to 11 days
        batch.extend((*values[:9], ended, *values[10:]))
    offset = abs(offset)  # a time.time() is not negative
    for name, columns in (("text_lines", _columns), ("json_lines", _json_columns)):
        compiled = getattr(accesslines, name)(batch, offset, accesslines.Clock(), {}, columns)
        python = getattr(source, name)(batch, offset, source.Clock(), {}, columns)
        assert compiled == python


@needs_compiled
@settings(max_examples=200, deadline=None)
@given(when=st.floats(min_value=0.0, max_value=4e9, allow_nan=False))
def test_the_clock_gives_the_same_time(source: ModuleType, when: float) -> None:
    assert accesslines.Clock().format(when) == source.Clock().format(when)
