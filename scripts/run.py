"""`make run`: prepares the database and starts every process of the product in the foreground.

daphne (HTTP + websockets), a Celery worker, Celery beat and the bundled simulator of each chat
platform that has no credentials set (Xingchen, DMS, Lingma), under scripts/supervise.py: one that
dies is restarted, and Ctrl-C, SIGTERM or SIGHUP stop all of them within a few seconds.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

from django.conf import settings
from supervise import Stopped, Supervisor

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Celery's warm shutdown takes 4-6 s on the filesystem broker even when idle (its polling loop
# sleeps out two 2 s drains), so the worker is killed after this grace. Nothing is lost: a push it
# had taken stays a pending row in the database and goes out again when a worker next starts.
STOP_GRACE = 2.0


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


def _simulators() -> dict[str, tuple[list[str], str]]:
    """name -> (command, health URL) of the simulators standing in for unconfigured platforms."""
    simulators: dict[str, tuple[list[str], str]] = {}
    if settings.XINGCHEN_USES_SIMULATOR:
        port = str(settings.XINGCHEN_SIMULATOR_PORT)
        argv = [
            *[PY, "-m", "platforms.xingchen.simulator", "--host", "127.0.0.1", "--port", port],
            *["--data-dir", str(settings.DATA_DIR / "simulator")],
            *["--api-key", settings.XINGCHEN_API_KEY, "--public-url", f"http://127.0.0.1:{port}"],
        ]
        simulators["simulator"] = (argv, settings.XINGCHEN_BASE_URL)
    if settings.DMS_ENABLED and settings.DMS_USES_SIMULATOR:
        port = str(settings.DMS_SIMULATOR_PORT)
        argv = [
            *[PY, "-m", "platforms.dms.simulator", "--host", "127.0.0.1", "--port", port],
            *["--data-dir", str(settings.DATA_DIR / "dms-simulator")],
            *["--access-key-id", settings.DMS_ACCESS_KEY_ID],
            *["--access-key-secret", settings.DMS_ACCESS_KEY_SECRET],
            *["--instance-id", str(settings.DMS_INSTANCE_ID)],
        ]
        simulators["dms-simulator"] = (argv, settings.DMS_ENDPOINT)
    if settings.LINGMA_ENABLED and settings.LINGMA_USES_SIMULATOR:
        port = str(settings.LINGMA_SIMULATOR_PORT)
        argv = [
            *[PY, "-m", "platforms.lingma.simulator", "--host", "127.0.0.1", "--port", port],
            *["--data-dir", str(settings.DATA_DIR / "lingma-simulator")],
            *["--token", settings.LINGMA_TOKEN],
            *["--organization-id", settings.LINGMA_ORGANIZATION_ID],
        ]
        simulators["lingma-simulator"] = (argv, settings.LINGMA_BASE_URL)
    return simulators


def _services() -> dict[str, list[str]]:
    celery = [PY, "-m", "celery", "-A", "project"]
    schedule = str(settings.DATA_DIR / "celerybeat-schedule")
    daphne = [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(settings.PORT)]
    return {
        "worker": [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2"],
        "beat": [*celery, "beat", "--loglevel", "INFO", "--schedule", schedule],
        "daphne": [*daphne, "project.asgi:application"],
    }


def _run(supervisor: Supervisor) -> int:
    for step in (["migrate", "--noinput"], ["recover_interrupted"], ["ensure_admin"]):
        if supervisor.call(step[0], [PY, "manage.py", *step]) != 0:
            return 1
    simulators = _simulators()
    for name, (argv, _) in simulators.items():
        supervisor.start(name, argv)
    for name, (_, base_url) in simulators.items():
        health = f"{base_url}/_simulator/health"
        if not supervisor.wait_until(lambda health=health: _answers(health), 30):
            print(f"The {name} did not start.", file=sys.stderr)
            return 1
    if supervisor.call("seed_demo", [PY, "manage.py", "seed_demo"]) != 0:
        return 1
    for name, argv in _services().items():
        supervisor.start(name, argv)
    login = f"http://127.0.0.1:{settings.PORT}/accounts/login/"
    if supervisor.wait_until(lambda: _answers(login), 60):
        print(
            f"\n  Persona Studio is running at http://localhost:{settings.PORT}/"
            "  (Ctrl-C stops everything)\n",
            flush=True,
        )
    supervisor.run_forever()


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    sys.path.insert(0, str(ROOT))  # for project.settings, read (not set up) on first use
    try:
        with Supervisor(cwd=ROOT, grace=STOP_GRACE) as supervisor:
            return _run(supervisor)
    except Stopped:
        return 0


if __name__ == "__main__":
    sys.exit(main())
