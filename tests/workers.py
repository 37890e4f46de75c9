"""Celery worker processes that tests start, kill and replace themselves (crash and fault
drills), on a private queue and sharing the test database and files."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings


def start_worker(queue: str, log: Path, **extra_env) -> subprocess.Popen:
    """A ``celery worker`` on ``queue``, started and ready; its output appends to ``log``."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="cms.settings.test",
        NGUON_TEST_VAR_DIR=os.environ["NGUON_TEST_VAR_DIR"],
        NGUON_WORKER_DB_NAME=str(db["NAME"]),
        **extra_env,
    )
    out = open(log, "ab")  # noqa: SIM115 - closed in stop_worker
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cms", "worker", "--pool", "solo", "-Q", queue,
         "--loglevel", "INFO", "--without-heartbeat", "--without-gossip", "--without-mingle",
         "-n", f"{queue}-{uuid.uuid4().hex[:6]}@%h"],
        cwd=Path(settings.BASE_DIR), env=env, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    proc._log_file = out
    deadline = time.monotonic() + 90
    while b"ready." not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("worker did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.2)
    return proc


def stop_worker(proc: subprocess.Popen) -> None:
    """Stop a worker (TERM, then KILL after 20 s) and close its log."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc._log_file.close()
