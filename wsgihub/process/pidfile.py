"""Write the process id to a file while the site runs, and refuse to run twice.

::

    PIDFile(bus, "/run/site.pid").subscribe()
    bus.start()   # writes the pid; raises BusError if another live process holds the file
    bus.exit()    # removes the file (only if it still holds our pid)

A file left behind by a process that no longer exists (a crash, ``kill -9``)
is *stale*: it is replaced, with a log line.  A file holding the pid of a live
process stops the start with a one-line :class:`wsgihub.errors.BusError` that
names the file and the other pid.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import TYPE_CHECKING

from ..errors import BusError
from .plugins import SimplePlugin

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = ["PIDFile", "pid_alive", "read_pid"]


def read_pid(path: str | os.PathLike[str]) -> int | None:
    """The pid stored in ``path``, or ``None`` if it is missing, empty or garbage."""
    try:
        with open(path, encoding="ascii", errors="replace") as file:
            text = file.read(64).strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists (even one owned by another user)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill() would terminate it there
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to someone else
        return True
    return True


def _windows_pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


class PIDFile(SimplePlugin):
    """Maintain a PID file: written on ``start``, removed on ``exit``.

    The file appears atomically (written aside, then hard-linked into place),
    so two processes starting at once cannot both win.
    """

    def __init__(self, bus: Bus, pidfile: str | os.PathLike[str]) -> None:
        super().__init__(bus)
        self.pidfile = os.fspath(pidfile)
        self.finalized = False

    def start(self) -> None:
        """Claim the PID file, or raise :class:`BusError` if a live process has it."""
        pid = os.getpid()
        if self.finalized and read_pid(self.pidfile) == pid:
            self.bus.log(f"PID {pid!r} already written to {self.pidfile!r}.")
            return
        for _attempt in range(3):
            if self._link_new():
                break
            other = read_pid(self.pidfile)
            if other == pid:
                break
            if other is not None and pid_alive(other):
                raise BusError(
                    f"PID file {self.pidfile} is held by running process {other}; "
                    "stop that process or remove the file"
                )
            self.bus.log(
                f"Replacing stale PID file {self.pidfile!r} "
                f"(process {other if other is not None else '?'} is gone)."
            )
            try:
                os.remove(self.pidfile)
            except FileNotFoundError:
                pass
        else:
            raise BusError(f"PID file {self.pidfile} could not be claimed (keeps changing)")
        self.bus.log(f"PID {pid!r} written to {self.pidfile!r}.")
        self.finalized = True

    start.priority = 70  # type: ignore[attr-defined]

    def _link_new(self) -> bool:
        """Create the file holding our pid; False if a file is already there."""
        directory = os.path.dirname(os.path.abspath(self.pidfile))
        fd, tmp = tempfile.mkstemp(prefix=".pid-", dir=directory)
        try:
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
            os.close(fd)
            try:
                os.link(tmp, self.pidfile)
            except FileExistsError:
                return False
            return True
        finally:
            os.unlink(tmp)

    def exit(self) -> None:
        """Remove the file, if it still names this process."""
        if read_pid(self.pidfile) != os.getpid():
            return
        try:
            os.remove(self.pidfile)
        except OSError:
            return
        self.bus.log(f"PID file removed: {self.pidfile!r}.")
        self.finalized = False
