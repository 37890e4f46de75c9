"""Run the web server, a Celery worker and beat together; Ctrl-C stops all of them.

The children run in their own process group, so Ctrl-C in the terminal reaches only this
command, which then stops them with SIGTERM and waits: a clean stop is silent and exits 0
(before, the worker got the terminal's SIGINT too and the stop read "worker exited with 1").
Unless ``WAGTAILADMIN_BASE_URL`` is set, links in notification emails use the address the
server runs on.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


def base_url_for(host: str, port) -> str:
    """The address people reach the server at: a wildcard bind is reached on localhost."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


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
        base_url = base_url_for(host, port)
        env.setdefault("WAGTAILADMIN_BASE_URL", base_url)
        icecast_server = self._icecast(env)
        processes = {}
        for name, cmd in commands.items():
            processes[name] = subprocess.Popen(
                cmd, env=env, cwd=settings.BASE_DIR, start_new_session=True
            )
        self.stdout.write(
            self.style.SUCCESS(f"Portal {base_url}/  ·  admin {base_url}/admin/  ·  Ctrl-C stops")
        )
        if "EMAIL_FILE_PATH" in dir(settings) and settings.EMAIL_BACKEND.endswith(
            "filebased.EmailBackend"
        ):
            self.stdout.write(f"Emails are written to {settings.EMAIL_FILE_PATH}/")
        stopping = False
        failed = None

        def stop(*_args):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    failed = (name, proc.returncode)
                    stopping = True
                    break
            time.sleep(0.2)
        if failed:
            self.stderr.write(f"{failed[0]} exited with {failed[1]}; stopping the others")
        for proc in processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if icecast_server is not None:
            icecast_server.stop()
        if failed:
            raise SystemExit(1)
        self.stdout.write("Stopped.")

    def _icecast(self, env: dict):
        """Live broadcasting: an Icecast of our own when none is configured and icecast2 is
        installed (its URL passed to the web server and the worker); else say it is off."""
        from broadcast.live import icecast

        if settings.ICECAST_URL:
            self.stdout.write(f"Live broadcasting through Icecast at {settings.ICECAST_URL}")
            return None
        if icecast.binary() is None:
            self.stdout.write(
                "Live broadcasting is off: install Debian's icecast2 (apt install icecast2) "
                "or set ICECAST_URL, then start again."
            )
            return None
        server = icecast.IcecastProcess(
            icecast.IcecastConfig(
                port=settings.ICECAST_PORT,
                folder=settings.ICECAST_CONFIG_DIR,
                source_password=settings.ICECAST_SOURCE_PASSWORD,
                admin_password=settings.ICECAST_ADMIN_PASSWORD,
                max_listeners=settings.ICECAST_MAX_LISTENERS,
            )
        )
        try:
            server.start()
        except icecast.IcecastError as exc:
            self.stderr.write(f"Live broadcasting is off: {exc}")
            return None
        env["ICECAST_URL"] = server.url
        from django.db import DatabaseError

        from broadcast.live.relays import relay_specs

        try:
            icecast.reload_relays(settings.ICECAST_CONFIG_DIR, relay_specs())
        except DatabaseError:  # not migrated yet: no relays to give it
            pass
        self.stdout.write(f"Live broadcasting through Icecast at {server.url}")
        return server
