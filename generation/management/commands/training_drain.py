"""Drain training for a deploy: ask every running run to pause at its next checkpoint boundary (it stops right
after writing that checkpoint, so no work is lost and it yields within one checkpoint interval), optionally pause
queued runs too, and wait until none runs. `--resume` afterwards queues again every run a drain paused."""

import time

from django.core.management.base import BaseCommand, CommandError

from core.jobs import JobState
from generation import services
from generation.models import TrainingRun


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queued", action="store_true", help="pause queued runs too (no worker takes them)")
        parser.add_argument(
            "--wait",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="wait up to this long for running runs to pause; exit 1 if some still run",
        )
        parser.add_argument("--resume", action="store_true", help="resume every run a drain paused, and stop")

    def handle(self, *args, **options) -> None:
        if options["resume"]:
            self.stdout.write(f"resumed {services.training_runs_undrain()} run(s)")
            return
        counts = services.training_runs_drain(include_queued=options["queued"])
        self.stdout.write(
            f"asked {counts['asked']} running run(s) to pause; paused {counts['paused_queued']} queued run(s)"
        )
        deadline = time.monotonic() + options["wait"]
        running = counts["still_running"]
        while running and time.monotonic() < deadline:
            time.sleep(1.0)
            running = TrainingRun.objects.filter(state=JobState.RUNNING).count()
        if options["wait"] and running:
            raise CommandError(f"{running} run(s) still running after {options['wait']:g} s")
        self.stdout.write(f"{running} run(s) still running")
