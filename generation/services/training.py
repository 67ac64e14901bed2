"""Training runs: creation (config validation, plan caps, one training unit), the resumable work a `gpu`
worker runs, the ONNX export with its parity check, the model version, cancellation and settlement.

With `GENERATION_TRAIN_PROCS` > 1 the work runs the engine's CLI under torchrun (DistributedDataParallel over
that many processes; generation.services.multiprocess) and exports in this process from the checkpoint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidTransition, NotFound
from core.events import event_emit
from core.jobs import (
    FINISHED_STATES,
    JobCancelled,
    JobContext,
    JobState,
    JobYielded,
    PermanentJobError,
    job_cancel,
    job_enqueue,
    job_retry,
    job_succeed,
)
from core.media import media_is_remote, media_local_path, media_save_file, sha256_file
from generation import conf, lineage, locks
from generation.conf import run_directory, run_storage_name
from generation.gan import export as gan_export
from generation.gan import finetune
from generation.gan.config import GANConfig
from generation.gan.data import DatasetError, PreparedDataset
from generation.gan.metrics import compute_metrics, inception_extractor
from generation.gan.noise import latents_for_seeds
from generation.gan.onnx_runner import make_session, run_generator
from generation.gan.trainer import RESUMABLE_CHANGES, Progress, Trainer, load_checkpoint
from generation.metering import TRAINING, get_meter
from generation.models import Dataset, ModelVersion, TrainingRun, TrainingState
from generation.services.datasets import dataset_prepare, dataset_prepared_path, dataset_ready_check
from generation.services.multiprocess import checkpoint_progress, train_in_processes
from generation.services.pausing import training_run_mark_paused
from generation.services.planning import PlannedRun, training_device, training_plan_make

logger = logging.getLogger("atelier.generation.training")

PROGRESS_WRITE_INTERVAL = 1.0  # seconds between progress writes (checkpoints and samples always write)


def _reference(run: TrainingRun) -> str:
    return f"training_run:{run.public_id}"


def training_config_resolve(*, owner: Any, dataset: Dataset, overrides: dict[str, Any] | None) -> GANConfig:
    """Validate `overrides` on the engine's defaults and against the dataset and the owner's plan."""
    return training_plan_make(owner=owner, dataset=dataset, overrides=overrides).config


def training_run_estimate(
    *,
    owner: Any,
    dataset: Dataset,
    preset: str | None = None,
    budget_minutes: float | None = None,
    config: dict[str, Any] | None = None,
) -> PlannedRun:
    """What `training_run_create` would queue, and how fast it would train here; writes nothing."""
    if dataset.owner_id != owner.pk:
        raise NotFound("No such dataset.")
    dataset_ready_check(dataset=dataset)
    return training_plan_make(
        owner=owner, dataset=dataset, preset=preset, budget_minutes=budget_minutes, overrides=config
    )


def training_run_create(
    *,
    owner: Any,
    dataset: Dataset,
    config: dict[str, Any] | None = None,
    preset: str | None = None,
    budget_minutes: float | None = None,
) -> TrainingRun:
    """Queue a training run on `dataset` (planned from a preset and/or a budget, or an explicit config, within
    the owner's plan), spending one training unit in the same transaction."""
    planned = training_run_estimate(
        owner=owner, dataset=dataset, preset=preset, budget_minutes=budget_minutes, config=config
    )
    with transaction.atomic():
        run = TrainingRun.objects.create(
            owner=owner,
            dataset=dataset,
            config=planned.config.to_dict(),
            total_steps=planned.config.steps,
            plan=planned.plan,
            time_limit_seconds=planned.time_limit_seconds,
        )
        get_meter().consume(user=owner, kind=TRAINING, units=1, reference=_reference(run))
        job_enqueue(job=run)
    return run


def training_run_cancel(*, run: TrainingRun) -> TrainingRun:
    """A queued run stops at once; a running one at its next heartbeat (keeping a checkpoint)."""
    with transaction.atomic():
        locked = locks.lock_training_run(run.pk)
        if locked.is_finished:
            raise InvalidTransition(entity="training run", state=locked.state, action="cancel")
        if locked.state == TrainingState.PAUSED:  # nothing works on it: cancelled at once, like a queued run
            TrainingRun.objects.filter(pk=locked.pk).update(
                state=JobState.CANCELLED, cancel_requested=True, finished_at=timezone.now()
            )
        else:
            job_cancel(job=locked)
        training_run_settle(run_pk=locked.pk)
    return TrainingRun.objects.get(pk=run.pk)


def training_run_retry(*, run: TrainingRun) -> TrainingRun:
    """Requeue a failed or cancelled run (staff action); it resumes from its last checkpoint."""
    with transaction.atomic():
        retried = job_retry(job=run)
        if retried.state == JobState.QUEUED:
            TrainingRun.objects.filter(pk=run.pk).update(settled_at=None)
    return TrainingRun.objects.get(pk=run.pk)


def training_run_settle(*, run_pk: int) -> bool:
    """Record a finished run's side effects once: refund and event for a failed or cancelled run."""
    with transaction.atomic():
        run = locks.lock_training_run(run_pk, related=("owner",))
        if run.state not in FINISHED_STATES or run.settled_at is not None:
            return False
        if run.state in (JobState.FAILED, JobState.CANCELLED):
            get_meter().refund(user=run.owner, kind=TRAINING, units=1, reference=_reference(run))
            run.units_refunded = 1
            payload = {"training_run": str(run.public_id), "step": run.step}
            if run.state == JobState.FAILED:
                payload["error"] = run.last_error[:2000]
            event_emit(type=f"training.{run.state}", user=run.owner, payload=payload)
        run.settled_at = timezone.now()
        run.save(update_fields=["units_refunded", "settled_at", "updated_at"])
    return True


# --- the work ----------------------------------------------------------------------------------------------


class _Monitor:
    """The trainer's callbacks: progress rows (throttled) and cancellation through the job heartbeat."""

    def __init__(
        self,
        *,
        context: JobContext,
        directory: Path,
        config: GANConfig,
        time_limit_seconds: float | None = None,
        elapsed_before: float = 0.0,
        stored_checkpoint: str = "",
    ) -> None:
        self.context, self.directory, self.config = context, directory, config
        self.public_id = context.job.public_id
        self.stored_checkpoint = stored_checkpoint  # the bucket's copy the run row names now (remote media)
        self._stored_images: dict[str, float] = {}
        self.stopping = False
        self.pausing = False  # the run was asked to pause, and the trainer was told at a checkpoint boundary
        self.limit_reached = False  # the plan's hard time limit stopped the run (not the user)
        self._last_write = 0.0
        # the limit counts training time of earlier attempts (from the checkpoint) plus this attempt's wall clock
        self._deadline = (
            None if time_limit_seconds is None else (time.monotonic() + max(0.0, time_limit_seconds - elapsed_before))
        )

    def should_stop(self) -> bool:
        if not self.stopping and self._deadline is not None and time.monotonic() >= self._deadline:
            self.stopping = self.limit_reached = True
        if not self.stopping:
            try:
                self.context.heartbeat()
            except JobCancelled:
                self.stopping = True
        return self.stopping

    def should_pause(self) -> bool:
        """Asked at checkpoint boundaries (and by the multi-process loop every few seconds): one query."""
        run = self.context.job
        self.pausing = type(run).objects.filter(pk=run.pk, pause_requested=True).exists()
        return self.pausing

    def on_progress(self, progress: Progress) -> None:
        checkpointed = progress.checkpoint_path is not None and (
            progress.step % self.config.checkpoint_every == 0 or progress.step == progress.total_steps or self.stopping
        )
        sampled = progress.step % self.config.sample_every == 0 or progress.step == progress.total_steps
        now = time.monotonic()
        if not (checkpointed or sampled or self.stopping) and now - self._last_write < PROGRESS_WRITE_INTERVAL:
            return
        self._last_write = now
        fields: dict[str, Any] = {
            "step": progress.step,
            "total_steps": progress.total_steps,
            "losses": {name: float(value) for name, value in progress.losses.items()},
            "images_per_second": float(progress.images_per_second),
            "eta_seconds": None if progress.eta_seconds is None else float(progress.eta_seconds),
            "sample_grid": self._relative(progress.sample_grid_path),
            "loss_curve": self._relative(progress.loss_curve_path),
            "augment_p": None if progress.augment_p is None else float(progress.augment_p),
            "ada_signal": None if progress.ada_signal is None else float(progress.ada_signal),
        }
        previous = None
        if checkpointed:
            fields["checkpoint_step"] = progress.step
        if media_is_remote():
            self._store_images(progress)
            if checkpointed:
                previous = self.stored_checkpoint
                fields.update(self._store_checkpoint(Path(progress.checkpoint_path), progress.step))
        try:
            self.context.heartbeat(**fields)
        except JobCancelled:
            self.stopping = True
        if checkpointed and media_is_remote():
            self._retire(previous=previous, current=fields["checkpoint_file"])

    def _retire(self, *, previous: str | None, current: str) -> None:
        """Delete whichever stored checkpoint the row does not name (the old one, or ours if the claim was lost)."""
        named = TrainingRun.objects.filter(pk=self.context.job.pk).values_list("checkpoint_file", flat=True).first()
        stale = previous if named == current else current
        if stale and stale != named:
            default_storage.delete(stale)

    def _store_checkpoint(self, path: Path, step: int) -> dict[str, str]:
        sha256 = sha256_file(path)
        # not cached: this host keeps latest.pt in the runs folder, and a long run's copies would crowd out models
        name = media_save_file(
            name=run_storage_name(self.public_id, f"checkpoints/step-{step:07d}.pt"),
            path=path,
            sha256=sha256,
            cache=False,
        )
        self.stored_checkpoint = name
        return {"checkpoint_file": name, "checkpoint_sha256": sha256}

    def _store_images(self, progress: Progress) -> None:
        """The latest sample grid and loss curve, for web hosts that cannot see this worker's runs folder."""
        for path in (progress.sample_grid_path, progress.loss_curve_path):
            if path is None or not Path(path).is_file():
                continue
            written = Path(path).stat().st_mtime
            relative = self._relative(path)
            if self._stored_images.get(relative) != written:
                media_save_file(name=run_storage_name(self.public_id, relative), path=Path(path), cache=False)
                self._stored_images[relative] = written

    def _relative(self, path: Path | None) -> str:
        return str(Path(path).relative_to(self.directory)) if path is not None else ""


def _process_count(run: TrainingRun) -> int:
    """Processes for this run: GENERATION_TRAIN_PROCS, except fine-tunes (their parent initialisation and
    frozen blocks live in this process's trainer) which train in one."""
    processes = int(conf.get("GENERATION_TRAIN_PROCS"))
    if processes > 1 and (run.init_from_id is not None or run.fine_tune):
        logger.info("training run %s is a fine-tune: one process", run.public_id)
        return 1
    return max(1, processes)


def _trainer_for(*, run: TrainingRun, config: GANConfig, prepared: PreparedDataset, directory: Path) -> Trainer:
    """A fresh trainer, or one resumed from the run's checkpoint (a worker died or the run was retried)."""
    device = training_device()
    checkpoint: Path | None = directory / "checkpoints" / "latest.pt"
    if media_is_remote():  # the bucket's copy is the run's latest, whichever host wrote it
        checkpoint = _stored_checkpoint(run.checkpoint_file, run.checkpoint_sha256)
    if checkpoint is None or not checkpoint.exists():
        trainer = Trainer(config=config, dataset=prepared, device=device, out_dir=directory)
        if run.init_from_id is not None:  # a fine-tune: start from the parent's checkpoint (read, never written)
            parent_run = run.init_from.training_run
            parent = (
                _stored_checkpoint(parent_run.checkpoint_file, parent_run.checkpoint_sha256)
                or run_directory(parent_run.public_id) / "checkpoints" / "latest.pt"
            )
            finetune.init_from_checkpoint(
                trainer, parent, fresh_discriminator=bool(run.fine_tune.get("fresh_discriminator"))
            )
    else:
        saved = load_checkpoint(checkpoint)["config"]
        wanted = config.to_dict()
        changes = {name: wanted[name] for name in RESUMABLE_CHANGES if saved.get(name) != wanted[name]}
        trainer = Trainer.resume(
            checkpoint_path=checkpoint, dataset=prepared, device=device, out_dir=directory, config_changes=changes
        )
        logger.info("training run %s resumes from step %s", run.public_id, trainer.step)
    if run.fine_tune.get("freeze_d_blocks"):
        finetune.freeze_discriminator_blocks(trainer, int(run.fine_tune["freeze_d_blocks"]))
    return trainer


def _fetch_stored_checkpoint(*, run: TrainingRun, directory: Path) -> None:
    """With remote media, put the bucket's checkpoint (the run's latest, from whichever host) where the
    multi-process CLI resumes from: the runs folder's latest.pt."""
    stored = _stored_checkpoint(run.checkpoint_file, run.checkpoint_sha256)
    local = directory / "checkpoints" / "latest.pt"
    if stored is not None and stored.resolve() != local.resolve():
        local.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stored, local.with_suffix(".tmp"))
        local.with_suffix(".tmp").replace(local)


def _stored_checkpoint(name: str, sha256: str) -> Path | None:
    """A verified local copy of a checkpoint kept in storage, or None when the run has none there."""
    return media_local_path(name=name, sha256=sha256) if name and media_is_remote() else None


def training_run_work(run: TrainingRun, context: JobContext) -> None:
    """Train (resuming from the last checkpoint if there is one), export, check parity, record the model."""
    if run.attempts == 1:
        with transaction.atomic():
            event_emit(
                type="training.started",
                user=run.owner,
                payload={"training_run": str(run.public_id), "dataset": str(run.dataset.public_id)},
            )
    config = GANConfig.from_dict(run.config)
    try:
        prepared = dataset_prepare(dataset=run.dataset, resolution=config.resolution)
    except DatasetError as exc:
        raise PermanentJobError(f"The dataset cannot be used: {exc}") from None
    directory = run_directory(run.public_id)
    processes = _process_count(run)
    trainer = None
    if processes > 1:
        _fetch_stored_checkpoint(run=run, directory=directory)
        start_step, elapsed_before = checkpoint_progress(directory)
    else:
        trainer = _trainer_for(run=run, config=config, prepared=prepared, directory=directory)
        start_step, elapsed_before = trainer.step, trainer.elapsed_seconds
    context.heartbeat(force=True, start_steps=[*run.start_steps, start_step], step=start_step, total_steps=config.steps)
    monitor = _Monitor(
        context=context,
        directory=directory,
        config=config,
        time_limit_seconds=run.time_limit_seconds,
        elapsed_before=elapsed_before,
        stored_checkpoint=run.checkpoint_file,
    )
    if trainer is None:
        result = train_in_processes(
            processes=processes,
            config=config,
            dataset_file=dataset_prepared_path(dataset=run.dataset, resolution=config.resolution),
            directory=directory,
            device=training_device(),
            monitor=monitor,
        )
        if result.reason in ("completed", "time_limit") or monitor.limit_reached:
            run.refresh_from_db(fields=["checkpoint_file", "checkpoint_sha256"])
            trainer = _trainer_for(run=run, config=config, prepared=prepared, directory=directory)  # to export
    else:
        result = trainer.run(
            on_progress=monitor.on_progress, should_stop=monitor.should_stop, should_pause=monitor.should_pause
        )
    if result.reason == "cancelled" and not monitor.limit_reached:
        raise JobCancelled(f"training run {run.public_id} stopped at step {result.step}")
    if result.reason == "paused":
        if monitor.pausing and training_run_mark_paused(run=run, step=result.step):
            logger.info("training run %s paused at step %s", run.public_id, result.step)
            raise JobYielded(f"training run {run.public_id} paused at step {result.step}")
        if monitor.pausing:  # swept or cancelled while pausing: this attempt is over either way
            raise JobCancelled(f"training run {run.public_id} is no longer this worker's")
        raise RuntimeError(f"training stopped early ({result.reason}) at step {result.step}")
    # the steps ran out, or the budget (trainer) or the plan's hard limit (worker) ended it: export what it is
    stop_reason = {"completed": "completed", "time_limit": "budget"}.get(result.reason, "time_limit")
    if result.step < 1:
        raise PermanentJobError("The run reached its time limit before its first training step.")
    if stop_reason != "completed":
        logger.info(
            "training run %s stopped at step %s of %s (%s)", run.public_id, result.step, result.total_steps, stop_reason
        )
    _finish(run=run, trainer=trainer, prepared=prepared, directory=directory, context=context, stop_reason=stop_reason)


def _finish(
    *,
    run: TrainingRun,
    trainer: Trainer,
    prepared: PreparedDataset,
    directory: Path,
    context: JobContext,
    stop_reason: str = "completed",
) -> None:
    onnx_path = directory / "model.onnx"
    trainer.recalibrate_ema()  # its batch-norm statistics for its own weights (a no-op after a checkpoint)
    try:
        exported = gan_export.export_generator(
            generator=trainer.generator_ema,
            config=trainer.config,
            out_path=onnx_path,
            step=trainer.step,
            dataset_hash=trainer.dataset_hash,
            class_names=trainer.class_names,
        )
    except gan_export.ParityError as exc:
        raise PermanentJobError(
            f"The exported ONNX model failed its parity check against torch: {exc} "
            f"(max |diff| {exc.max_abs_diff:.6g}, tolerance {exc.tolerance:g})."
        ) from None
    context.heartbeat(force=True)
    metrics = _metrics(prepared=prepared, onnx_path=onnx_path, config=trainer.config)
    context.heartbeat(force=True)
    payload = onnx_path.read_bytes()
    onnx_sha256 = hashlib.sha256(payload).hexdigest()
    # exactly this name: an attempt that died before recording it may have left one
    stored = media_save_file(name=f"generation/models/{run.public_id}.onnx", path=onnx_path, sha256=onnx_sha256)
    config = trainer.config
    try:
        with transaction.atomic():
            locked = locks.lock_training_run(run.pk, related=("dataset",))
            if locked.cancel_requested:
                raise JobCancelled(f"training run {run.public_id} was cancelled")
            version = ModelVersion.objects.create(
                owner_id=locked.owner_id,
                training_run=locked,
                name=f"{locked.dataset.name} · step {trainer.step}",
                onnx_file=stored,
                onnx_sha256=onnx_sha256,
                onnx_size=len(payload),
                parity_passed=True,
                parity_max_abs_diff=exported.max_abs_diff,
                parity_tolerance=gan_export.PARITY_TOLERANCE,
                metrics=metrics,
                dataset_hash=trainer.dataset_hash,
                config=config.to_dict(),
                step=trainer.step,
                latent_dim=config.latent_dim,
                resolution=config.resolution,
                conditional=config.conditional,
                num_classes=config.num_classes if config.conditional else 0,
                class_names=list(trainer.class_names),
            )
            lineage.model_version_recorded(version=version, dataset=locked.dataset)
            job_succeed(
                job=locked,
                step=trainer.step,
                checkpoint_step=trainer.step,
                settled_at=timezone.now(),
                stop_reason=stop_reason,
                pause_requested=False,
            )
            event_emit(
                type="training.succeeded",
                user=locked.owner,
                payload={
                    "training_run": str(run.public_id),
                    "model_version": str(version.public_id),
                    "step": trainer.step,
                    "dataset_hash": trainer.dataset_hash,
                    "stop_reason": stop_reason,
                },
            )
    except BaseException:
        default_storage.delete(stored)
        raise


def _metrics(*, prepared: PreparedDataset, onnx_path: Path, config: GANConfig) -> dict[str, Any]:
    """FID/KID of the exported model against the training images, or why they are unavailable."""
    extractor = inception_extractor(settings.GENERATION_INCEPTION_WEIGHTS or None)
    if isinstance(extractor, str):
        return {"available": False, "reason": extractor}
    count = min(prepared.num_images, conf.get("GENERATION_METRICS_MAX_IMAGES"))
    real = prepared.images[:count].permute(0, 2, 3, 1).numpy()  # [N, R, R, 3] uint8
    session = make_session(onnx_path)
    labels = np.arange(count, dtype=np.int64) % config.num_classes if config.conditional else None
    fake = run_generator(session, latents_for_seeds(range(count), config.latent_dim), labels)
    return dataclasses.asdict(compute_metrics(real_images=real, fake_images=fake, extractor=extractor))
