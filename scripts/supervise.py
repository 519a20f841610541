"""A small process supervisor: starts services, restarts the ones that die, stops all on a signal.

`make run` uses it through scripts/run.py; `python scripts/supervise.py PROCFILE` runs the
`name: command` lines of a Procfile the same way.

- SIGINT, SIGTERM and SIGHUP are blocked and taken with `sigtimedwait`, never by an asynchronous
  handler: a signal is only noticed where the loop asks for it, so a second one cannot break into
  the clean-up.
- Each child runs in a process group of its own (the terminal's Ctrl-C reaches the supervisor
  alone, which then stops every group, grandchildren included) with default signal dispositions,
  and is SIGKILLed by the kernel (PR_SET_PDEATHSIG) if the supervisor dies without cleaning up.
- A service that exits is restarted after 1, 2, 4... up to 30 seconds; a run that lasted
  `stable_after` seconds resets the delay.
- Stopping sends SIGTERM to each service's main process, then SIGKILL to its whole group after
  `grace` seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
_WATCHED = STOP_SIGNALS | {signal.SIGCHLD}
# Reset in every child: handlers would be reset by exec anyway, but an inherited SIG_IGN (a
# background job's SIGINT, nohup's SIGHUP) would survive it.
_CHILD_DEFAULTS = (*_WATCHED, signal.SIGQUIT)
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


class Stopped(Exception):
    """A stop signal arrived; leaving the `Supervisor` block stops every child."""


@dataclass
class _Child:
    name: str
    argv: list[str]
    restart: bool
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None


def _log(message: str) -> None:
    # After a hang-up the terminal is gone, and a failed write must not cut the clean-up short.
    with contextlib.suppress(OSError):
        print(message, file=sys.stderr, flush=True)


def _ignore(signum: int, frame: object) -> None:
    """Never runs (the signal is blocked); a handler, unlike SIG_IGN, keeps the signal pending."""


def _has_exited(proc: subprocess.Popen[bytes]) -> bool:
    """Whether `proc` has exited, leaving it unreaped: a zombie keeps its pid and group id taken,
    so its group can still be killed safely."""
    return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def _prepare_child(supervisor_pid: int) -> Callable[[], None]:
    def prepare() -> None:  # runs in the child between fork and exec
        for signum in _CHILD_DEFAULTS:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        if _LIBC is not None:
            # Sent when the thread that forked us ends: the supervisor is single-threaded.
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != supervisor_pid:  # it died before prctl took effect
                os._exit(1)

    return prepare


class Supervisor:
    """Use as a context manager: leaving the block (normally, by `Stopped` or by an error) stops
    every child. Only create and use it from the main thread of a single-threaded program."""

    def __init__(
        self,
        *,
        cwd: Path | None = None,
        grace: float = 2.0,
        backoff_cap: float = 30.0,
        stable_after: float = 30.0,
    ) -> None:
        self.cwd = cwd
        self.grace = grace
        self.backoff_cap = backoff_cap
        self.stable_after = stable_after
        self._children: list[_Child] = []
        self._old_mask: set[signal.Signals] = set()

    def __enter__(self) -> Supervisor:
        for signum in _WATCHED:
            signal.signal(signum, _ignore)
        self._old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop_all()
        signal.pthread_sigmask(signal.SIG_SETMASK, self._old_mask)

    def start(self, name: str, argv: list[str]) -> None:
        """Start a service that is restarted whenever it exits."""
        child = _Child(name, argv, restart=True)
        self._children.append(child)
        self._spawn(child)

    def call(self, name: str, argv: list[str]) -> int:
        """Run a command to its end, keeping services alive meanwhile; return its exit code."""
        child = _Child(name, argv, restart=False)
        self._children.append(child)
        proc = self._spawn(child)
        while not _has_exited(proc):
            self._wait(60)
        self._finish(child)
        self._children.remove(child)
        return proc.returncode

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Keep supervising until `predicate()` holds (checked every 0.2 s) or `timeout` ends."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._wait(min(0.2, remaining))
        return True

    def run_forever(self) -> NoReturn:
        while True:
            self._wait(3600)

    def _spawn(self, child: _Child) -> subprocess.Popen[bytes]:
        child.proc = subprocess.Popen(
            child.argv,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            process_group=0,
            preexec_fn=_prepare_child(os.getpid()),  # safe: no other thread could hold a lock
        )
        child.started_at = time.monotonic()
        return child.proc

    def _wait(self, timeout: float) -> None:
        """Sleep until a signal or `timeout`; restart what died. Raises `Stopped`."""
        now = time.monotonic()
        for child in self._children:
            if child.restart_at is not None:
                timeout = min(timeout, child.restart_at - now)
        info = signal.sigtimedwait(_WATCHED, max(0.0, timeout))
        if info is not None and info.si_signo in STOP_SIGNALS:
            _log(f"\nStopping ({signal.Signals(info.si_signo).name})...")
            raise Stopped
        self._reap_and_restart()

    def _reap_and_restart(self) -> None:
        now = time.monotonic()
        for child in self._children:
            if child.restart and child.proc is not None and _has_exited(child.proc):
                code = self._finish(child)
                if now - child.started_at >= self.stable_after:
                    child.failures = 0
                delay = min(self.backoff_cap, 2.0 ** min(child.failures, 16))
                child.failures += 1
                child.proc, child.restart_at = None, now + delay
                _log(f"{child.name} exited with code {code}; restarting in {delay:g} s")
            elif child.restart_at is not None and child.restart_at <= now:
                child.restart_at = None
                self._spawn(child)

    def _finish(self, child: _Child) -> int:
        """Kill what the exited child left in its group, then reap it."""
        assert child.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.proc.pid, signal.SIGKILL)
        return child.proc.wait()

    def _stop_all(self) -> None:
        running = [child for child in self._children if child.proc is not None]
        for child in self._children:
            child.restart_at = None
        for child in running:
            # The main process only: Celery's pool children are stopped by their parent.
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while running and (remaining := deadline - time.monotonic()) > 0:
            info = signal.sigtimedwait(_WATCHED, remaining)
            if info is not None and info.si_signo in STOP_SIGNALS:
                _log(f"Already stopping ({signal.Signals(info.si_signo).name} ignored).")
            running = [child for child in running if not self._finished(child)]
        for child in running:
            _log(f"{child.name} did not stop within {self.grace:g} s; killing it.")
            self._finish(child)
        for child in self._children:
            child.proc = None

    def _finished(self, child: _Child) -> bool:
        assert child.proc is not None
        if not _has_exited(child.proc):
            return False
        self._finish(child)
        return True


def _read_procfile(path: Path) -> Iterator[tuple[str, list[str]]]:
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            yield name.strip(), shlex.split(command)


def main(args: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Run the processes of a Procfile.")
    parser.add_argument("procfile", type=Path)
    parser.add_argument("--grace", type=float, default=2.0, help="seconds to stop before SIGKILL")
    options = parser.parse_args(args)
    try:
        with Supervisor(grace=options.grace) as supervisor:
            for name, argv in _read_procfile(options.procfile):
                supervisor.start(name, argv)
            supervisor.run_forever()
    except Stopped:
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
