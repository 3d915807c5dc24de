"""`learntrace serve`: the production web server (gunicorn) and the background worker, together.

Ctrl-C or SIGTERM stops both; if either one dies, the other is stopped too, so
that a half-running learntrace is never left behind.
"""

import shutil
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from learntrace.env import child_environment, env, envint


class Command(BaseCommand):
    help = "Run the web server and the background worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=env("HOST") or "127.0.0.1")
        parser.add_argument("--port", type=int, default=envint("PORT", 8000))
        parser.add_argument("--web-workers", type=int, default=envint("WEB_CONCURRENCY", 2))
        parser.add_argument("--no-worker", action="store_true", help="Serve pages only (workers run elsewhere).")

    def handle(self, *args, host, port, web_workers, no_worker, **options):
        commands = [[
            sys.executable, "-m", "gunicorn", "learntrace.wsgi:application",
            "--bind", f"{host}:{port}", "--workers", str(web_workers),
            "--timeout", "120", "--graceful-timeout", "10",
        ]]
        if not no_worker:
            commands.append([sys.executable, "-m", "learntrace", "run_huey"])
        processes = [subprocess.Popen(command, env=self.environment()) for command in commands]
        self.stdout.write(self.style.SUCCESS(f"learntrace is serving on http://{host}:{port}/ (Ctrl-C stops it)"))

        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        try:
            while not stopping:
                for process in processes:
                    if process.poll() is not None:
                        exit_code = process.returncode or 0
                        stopping = True
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
        if exit_code:
            sys.exit(exit_code)

    @staticmethod
    def environment() -> dict[str, str]:
        """The web workers count requests into one folder, so that a scrape of any of them sums them all
        (health/metrics.py); it is emptied at each start, as the counters start again from zero."""
        if settings.PROMETHEUS_MULTIPROC_DIR:
            return child_environment()
        folder = settings.DATA_DIR / "prometheus"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return child_environment(PROMETHEUS_MULTIPROC_DIR=str(folder))
