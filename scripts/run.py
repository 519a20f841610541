"""`make run`: prepares the database and starts every process of the product in the foreground.

daphne (HTTP + websockets), a Celery worker, Celery beat and, when no XINGCHEN_API_KEY is set, the
bundled Xingchen simulator. Ctrl-C (or SIGTERM) stops all of them; so does any one of them dying.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def start(name: str, argv: list[str]) -> tuple[str, subprocess.Popen[bytes]]:
    # Own session: Ctrl-C reaches only this supervisor, which then stops each child's whole group.
    return name, subprocess.Popen(argv, cwd=ROOT, start_new_session=True)


def wait_for(url: str, deadline_s: float) -> bool:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def stop_all(children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    # Each main process first: Celery then shuts its pool down warmly, finishing or requeueing
    # the jobs in hand. Whatever is left of a group after that is killed.
    for _, proc in children:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 15
    for _, proc in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    manage("migrate", "--noinput")
    manage("recover_interrupted")
    manage("ensure_admin")

    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        if settings.XINGCHEN_USES_SIMULATOR:
            port = str(settings.XINGCHEN_SIMULATOR_PORT)
            children.append(
                start(
                    "simulator",
                    [
                        PY,
                        "-m",
                        "platforms.xingchen.simulator",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        port,
                        "--data-dir",
                        str(settings.DATA_DIR / "simulator"),
                        "--api-key",
                        settings.XINGCHEN_API_KEY,
                        "--public-url",
                        f"http://127.0.0.1:{port}",
                    ],
                )
            )
            if not wait_for(f"{settings.XINGCHEN_BASE_URL}/_simulator/health", 30):
                print("The Xingchen simulator did not start.", file=sys.stderr)
                return 1
        manage("seed_demo")
        beat_schedule = str(settings.DATA_DIR / "celerybeat-schedule")
        children += [
            start(
                "worker",
                [
                    PY,
                    "-m",
                    "celery",
                    "-A",
                    "project",
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    "2",
                ],
            ),
            start(
                "beat",
                [
                    PY,
                    "-m",
                    "celery",
                    "-A",
                    "project",
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    beat_schedule,
                ],
            ),
            start(
                "daphne",
                [
                    PY,
                    "-m",
                    "daphne",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(settings.PORT),
                    "project.asgi:application",
                ],
            ),
        ]
        if wait_for(f"http://127.0.0.1:{settings.PORT}/accounts/login/", 60):
            print(
                f"\n  Persona Studio is running at http://localhost:{settings.PORT}/"
                "  (Ctrl-C stops everything)\n",
                flush=True,
            )
        while True:
            for name, proc in children:
                if proc.poll() is not None:
                    print(f"{name} exited with code {proc.returncode}; stopping.", file=sys.stderr)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
        return 0
    finally:
        stop_all(children)


if __name__ == "__main__":
    sys.exit(main())
