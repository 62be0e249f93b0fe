"""wsgihub's testing kit: what the built-in adapters' tests use, for any adapter's.

- :func:`call`, :func:`make_environ`, :class:`Result`, :func:`echo_app`:
  call a WSGI app in-process as a server would (:mod:`.client`);
- :func:`serving` / :class:`LiveServer`: a real waitress server on
  ``127.0.0.1`` port 0, driven by the process bus (:mod:`.live`); the
  ``live_server`` pytest fixture in :mod:`wsgihub.testing.fixtures`;
- :func:`write_site`: a site file mounting one app through an adapter's
  factory (:mod:`.sites`; the ``module_folder`` fixture writes the module
  it names); :func:`console_script`: the installed ``wsgihub`` command;
- :class:`ReferenceApp`, :class:`ReferenceAdapter`, :class:`ReferencePlugin`,
  :func:`reference_hub`: a tiny framework and its adapter (:mod:`.reference`);
- :mod:`wsgihub.testing.conformance`: the adapter conformance suite, a
  pytest base class an adapter's tests subclass (it imports pytest, so it is
  not imported from here).

Importing ``wsgihub.testing`` imports neither pytest nor any web framework.
See ``docs/plugins.md``, "Testing an adapter".
"""

from __future__ import annotations

from .client import Result, call, echo_app, make_environ
from .live import LiveServer, serving
from .reference import (
    ReferenceAdapter,
    ReferenceApp,
    ReferencePlugin,
    current_request,
    reference_hub,
)
from .sites import console_script, write_site

__all__ = [
    "LiveServer",
    "ReferenceAdapter",
    "ReferenceApp",
    "ReferencePlugin",
    "Result",
    "call",
    "console_script",
    "current_request",
    "echo_app",
    "make_environ",
    "reference_hub",
    "serving",
    "write_site",
]
