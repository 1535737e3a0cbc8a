"""Seed demo data, start the whole stack, drive demo orders, report (and check)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from operations import demo_drive
from operations.demo import DEMO_PASSWORD, DEMO_USERS, demo_seed
from operations.stack import stack_running


class Command(BaseCommand):
    help = (
        "Start the portal, a Celery worker, beat and the ERP/WMS/TMS simulators, "
        "drive demo orders through the whole chain, and print what happened."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=60)
        parser.add_argument("--hub-port", type=int, default=8000)
        parser.add_argument("--timeout", type=float, default=600)
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit non-zero on any shortfall and stop the stack afterwards.",
        )
        parser.add_argument(
            "--x12-dir",
            default="",
            help="Folder of X12 files to drop (default: setting).",
        )

    def handle(self, *args: object, **options: object) -> None:
        demo_seed()
        x12_dir = (
            Path(options["x12_dir"])
            if options["x12_dir"]
            else demo_drive.default_x12_dir()
        )
        x12_files = (
            sum(1 for p in x12_dir.iterdir() if p.is_file()) if x12_dir.is_dir() else 0
        )
        prefix = f"SO-{int(time.time()) % 100000:05d}-"
        plan = demo_drive.demo_plan(count=options["orders"], prefix=prefix)
        env = {
            **os.environ,
            "WAYBILL_SIM_BASE_PORT": str(settings.WAYBILL_SIM_BASE_PORT),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
        log_dir = Path(settings.VAR_DIR) / "logs"
        # SIGTERM (a service manager, `kill`) unwinds like Ctrl-C, so the
        # stack stops its processes instead of leaving them orphaned.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        run_started = timezone.now()
        with stack_running(
            hub_port=options["hub_port"],
            sim_base_port=settings.WAYBILL_SIM_BASE_PORT,
            env=env,
            log_dir=log_dir,
            supervise=True,
        ) as stack:
            self.stdout.write(f"stack up: portal {stack.hub_url}/  logs in {log_dir}")
            demo_drive.demo_drive(
                stack=stack,
                plan=plan,
                x12_dir=x12_dir if x12_files else None,
                out=self.stdout,
            )
            settled = demo_drive.wait_until_settled(
                plan=plan, x12_files=x12_files, timeout=options["timeout"]
            )
            shortfalls = demo_drive.demo_shortfalls(plan=plan, x12_files=x12_files)
            shortfalls += demo_drive.simulator_shortfalls(stack, since=run_started)
            self.stdout.write(demo_drive.demo_summary(plan=plan, since=run_started))
            self._report(stack.hub_url, settled=settled, shortfalls=shortfalls)
            if options["check"]:
                if shortfalls:
                    raise CommandError(
                        "demo check failed:\n  " + "\n  ".join(shortfalls)
                    )
                self.stdout.write(self.style.SUCCESS("demo check passed"))
                return
            self.stdout.write("Press Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                self.stdout.write("stopping")

    def _report(self, hub_url: str, *, settled: bool, shortfalls: list[str]) -> None:
        self.stdout.write("")
        self.stdout.write(f"Portal:   {hub_url}/")
        self.stdout.write(f"Admin:    {hub_url}/admin/  (ops / {DEMO_PASSWORD})")
        users = ", ".join(
            f"{name} ({account})" for name, (account, _) in DEMO_USERS.items()
        )
        self.stdout.write(f"Logins:   {users}; password {DEMO_PASSWORD}")
        if shortfalls:
            self.stdout.write(
                self.style.WARNING("Shortfalls:\n  " + "\n  ".join(shortfalls))
            )
        elif settled:
            self.stdout.write(
                self.style.SUCCESS("Every demo order reached its final state.")
            )


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
