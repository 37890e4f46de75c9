"""Run the web server, a Celery worker and beat together; Ctrl-C stops all of them."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve portal + admin and run a Celery worker with beat (development and demo)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host, port, **options):
        python = sys.executable
        beat_schedule = str(settings.VAR_DIR / "celerybeat-schedule")
        commands = {
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "cms",
                "worker",
                "-B",
                "-s",
                beat_schedule,
                "-Q",
                ",".join(settings.CELERY_TASK_QUEUES_ALL),
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
            ],
            "web": [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
        }
        env = dict(os.environ)
        processes = {}
        for name, cmd in commands.items():
            processes[name] = subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR)
        self.stdout.write(
            self.style.SUCCESS(
                f"Portal http://{host}:{port}/  ·  admin http://{host}:{port}/admin/"
            )
        )
        stopping = False

        def stop(*_args):
            nonlocal stopping
            if stopping:
                return
            stopping = True
            for proc in processes.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in processes.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping")
                        stop()
                        break
                time.sleep(0.5)
        except KeyboardInterrupt:
            stop()
        deadline = time.monotonic() + 15
        for proc in processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
