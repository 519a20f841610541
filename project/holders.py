"""Who holds a push claim: a process named so that its death can be proven on its host.

A holder is "<host>|<pid>|<start time>". On the same host, a process with that pid and start
time either runs or is gone for good (a pid reused later has another start time), so a claim of
a gone process can be released at once. A holder on another host cannot be checked from here:
`is_gone` then answers False and the claim keeps its lease.
"""

from __future__ import annotations

import functools
import os
import socket

import psutil

_SEPARATOR = "|"


@functools.cache
def _host() -> str:
    # Containers may share a host name; their pid namespaces tell their process tables apart.
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}/{namespace}"


def _started(process: psutil.Process) -> str:
    return f"{process.create_time():.2f}"


def current() -> str:
    """This process as a claim holder."""
    process = psutil.Process()
    return _SEPARATOR.join((_host(), str(process.pid), _started(process)))


def is_gone(holder: str) -> bool:
    """True only when `holder` ran on this host and runs no more; False when unsure."""
    try:
        host, pid, started = holder.rsplit(_SEPARATOR, 2)
        pid_number = int(pid)
    except ValueError:
        return False
    if host != _host():
        return False
    try:
        process = psutil.Process(pid_number)
        return _started(process) != started or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:  # ZombieProcess too: killed, just not reaped yet
        return True
    except (psutil.AccessDenied, ValueError):
        return False


def release_dead_claims(claimed, **fields: object) -> list[tuple[int, str]]:  # noqa: ANN001
    """Frees the claims (`claimed_by`, `claimed_until`) of the rows of a queryset whose holder is
    provably gone, also setting `fields`; returns the (id, holder) pairs it freed.

    A row is freed only while that holder still has it: a claim taken anew meanwhile belongs to
    a live process. A live holder, or one on another host, keeps its claim until its lease ends.
    """
    released = []
    for pk, holder in list(claimed.exclude(claimed_by="").values_list("pk", "claimed_by")):
        if is_gone(holder) and claimed.model.objects.filter(pk=pk, claimed_by=holder).update(
            claimed_by="", claimed_until=None, **fields
        ):
            released.append((pk, holder))
    return released
