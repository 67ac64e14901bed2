"""Generation jobs: creation (validation, quota in the same transaction), the micro-batched work a `gpu`
worker runs, image storage, cancellation, settlement, and bit-exact regeneration from an image's record.

Micro-batching: the task that starts a small job also claims other queued small jobs for the same model
version (up to GENERATION_MICROBATCH_MAX_IMAGES images and _MAX_JOBS jobs), runs their latents through
onnxruntime together in batches of GENERATION_BATCH_SIZE rows, then writes each job its own images. The
claimed jobs' own tasks find them taken and skip. Every row of a batch is computed independently of the
others, so an image is the same whichever batch it was drawn in (regenerate_image_bytes checks exactly that).
"""

from __future__ import annotations

import hashlib
import io
import secrets
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image

from core.errors import InvalidInput, InvalidTransition, NotFound
from core.events import event_emit
from core.jobs import (
    FINISHED_STATES,
    JobCancelled,
    JobContext,
    JobState,
    PermanentJobError,
    job_cancel,
    job_enqueue,
    job_fail,
    job_heartbeat,
    job_mark_cancelled,
    job_retry,
    job_start,
    job_succeed,
)
from generation import conf, locks, runtime
from generation.gan.noise import MAX_SEED, interpolate, latents_for_seeds
from generation.metering import GENERATION, get_meter
from generation.models import GeneratedImage, GenerationJob, ModelVersion

RANDOM_SEED_BOUND = MAX_SEED + 1  # server-chosen seeds: any valid seed (short enough to type back in)


def _reference(job: GenerationJob) -> str:
    return f"generation_job:{job.public_id}"


# --- creation ----------------------------------------------------------------------------------------------


def _check_seed(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise InvalidInput(f"{name} must be an integer between 0 and {MAX_SEED}.", field=name)
    return value


def _resolve_images(
    *, count: int | None, seeds: Sequence[int] | None, interpolation: dict[str, Any] | None
) -> tuple[int, list[int], dict[str, int] | None]:
    max_count = conf.get("GENERATION_MAX_COUNT")
    if interpolation is not None:
        if seeds:
            raise InvalidInput("Give seeds or an interpolation, not both.", field="seeds")
        unknown = sorted(set(interpolation) - {"seed_a", "seed_b", "steps"})
        if unknown:
            raise InvalidInput(f"Unknown interpolation keys: {', '.join(unknown)}.", field="interpolation")
        seed_a = _check_seed(interpolation.get("seed_a"), "interpolation.seed_a")
        seed_b = _check_seed(interpolation.get("seed_b"), "interpolation.seed_b")
        steps = interpolation.get("steps")
        if isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= max_count:
            raise InvalidInput(
                f"interpolation.steps must be an integer between 2 and {max_count}.",
                field="interpolation.steps",
                limit=max_count,
            )
        if count is not None and count != steps:
            raise InvalidInput("count must equal interpolation.steps (or be left out).", field="count")
        return steps, [], {"seed_a": seed_a, "seed_b": seed_b, "steps": steps}
    if seeds:
        seeds = [_check_seed(seed, f"seeds.{index}") for index, seed in enumerate(seeds)]
        if count is not None and count != len(seeds):
            raise InvalidInput("count must equal the number of seeds (or be left out).", field="count")
        count = len(seeds)
    count = 1 if count is None else count
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= max_count:
        raise InvalidInput(f"count must be between 1 and {max_count}.", field="count", limit=max_count)
    seeds = list(seeds) if seeds else [secrets.randbelow(RANDOM_SEED_BOUND) for _ in range(count)]
    return count, seeds, None


def generation_job_create(
    *,
    user: Any,
    model_version: ModelVersion,
    count: int | None = None,
    seeds: Sequence[int] | None = None,
    truncation: float = 1.0,
    class_label: int | None = None,
    interpolation: dict[str, Any] | None = None,
) -> GenerationJob:
    """Queue `count` images (or one per seed, or an interpolation) from the user's model version, spending
    `count` generation units in the same transaction."""
    if model_version.owner_id != user.pk:
        raise NotFound("No such model.")
    count, seeds, interpolation = _resolve_images(count=count, seeds=seeds, interpolation=interpolation)
    if isinstance(truncation, bool) or not isinstance(truncation, (int, float)) or not 0.0 <= truncation <= 1.0:
        raise InvalidInput("truncation must be between 0 and 1.", field="truncation")
    if class_label is not None:
        if not model_version.conditional:
            raise InvalidInput("This model is unconditional: it takes no class label.", field="class_label")
        if not 0 <= class_label < model_version.num_classes:
            raise InvalidInput(
                f"class_label must be between 0 and {model_version.num_classes - 1}.", field="class_label"
            )
    with transaction.atomic():
        job = GenerationJob.objects.create(
            owner=user,
            model_version=model_version,
            count=count,
            seeds=seeds,
            truncation=float(truncation),
            class_label=class_label,
            interpolation=interpolation,
        )
        get_meter().consume(user=user, kind=GENERATION, units=count, reference=_reference(job))
        job_enqueue(job=job)
    return job


def generation_job_cancel(*, job: GenerationJob) -> GenerationJob:
    """A queued job stops at once (all units back); a running one after its current batch (unused units back)."""
    with transaction.atomic():
        locked = locks.lock_generation_job(job.pk)
        if locked.is_finished:
            raise InvalidTransition(entity="generation job", state=locked.state, action="cancel")
        job_cancel(job=locked)
        generation_job_settle(job_pk=locked.pk)
    return GenerationJob.objects.get(pk=job.pk)


def generation_job_settle(*, job_pk: int) -> bool:
    """Record a finished job's side effects once: refund of units it did not deliver, and its event."""
    with transaction.atomic():
        job = locks.lock_generation_job(job_pk, related=("owner",))
        if job.state not in FINISHED_STATES or job.settled_at is not None:
            return False
        if job.state in (JobState.FAILED, JobState.CANCELLED):
            unused = job.count - job.produced
            if unused:
                get_meter().refund(user=job.owner, kind=GENERATION, units=unused, reference=_reference(job))
            job.units_refunded = unused
            payload = {"generation_job": str(job.public_id), "produced": job.produced, "count": job.count}
            if job.state == JobState.FAILED:
                payload["error"] = job.last_error[:2000]
            event_emit(type=f"generation.{job.state}", user=job.owner, payload=payload)
        job.settled_at = timezone.now()
        job.save(update_fields=["units_refunded", "settled_at", "updated_at"])
    return True


# --- latents and encoding: shared by the work and by regeneration ------------------------------------------


def _effective_label(model_version: ModelVersion, class_label: int | None, seed: int) -> int | None:
    """A conditional model draws the requested class, else class (seed mod K), as the sample CLI does."""
    if not model_version.conditional:
        return None
    return class_label if class_label is not None else seed % model_version.num_classes


def encode_png(pixels: np.ndarray) -> bytes:
    """[H, W, 3] uint8 -> PNG bytes (deterministic: same pixels, same bytes)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def encode_preview(pixels: np.ndarray) -> bytes:
    image = Image.fromarray(pixels, "RGB")
    size = conf.get("GENERATION_PREVIEW_SIZE")
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=80, method=4)
    return buffer.getvalue()


@dataclass
class _Member:
    """One job of a batch: its latents, what it has produced, whether it stopped."""

    job: GenerationJob
    primary: bool
    latents: np.ndarray = field(repr=False)  # [count, latent_dim] float32
    labels: np.ndarray | None = field(repr=False)  # [count] int64
    produced: int = 0
    cancelled: bool = False

    @classmethod
    def of(cls, job: GenerationJob, *, primary: bool) -> _Member:
        version = job.model_version
        if job.interpolation:
            spec = job.interpolation
            latents = interpolate(
                spec["seed_a"], spec["seed_b"], spec["steps"], latent_dim=version.latent_dim, truncation=job.truncation
            )
            label_seeds = [spec["seed_a"]] * job.count
        else:
            latents = latents_for_seeds(job.seeds, version.latent_dim, job.truncation)
            label_seeds = list(job.seeds)
        labels = None
        if version.conditional:
            labels = np.array(
                [_effective_label(version, job.class_label, seed) for seed in label_seeds], dtype=np.int64
            )
        return cls(job=job, primary=primary, latents=latents, labels=labels, produced=job.produced)


# --- the work ----------------------------------------------------------------------------------------------


def _claim_peers(job: GenerationJob) -> list[GenerationJob]:
    budget = conf.get("GENERATION_MICROBATCH_MAX_IMAGES") - (job.count - job.produced)
    max_jobs = conf.get("GENERATION_MICROBATCH_MAX_JOBS")
    if budget <= 0 or max_jobs <= 1:
        return []
    candidates = (
        GenerationJob.objects.filter(
            model_version_id=job.model_version_id, state=JobState.QUEUED, cancel_requested=False
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))
        .exclude(pk=job.pk)
        .order_by("pk")
        .values_list("pk", "count", "produced")[: max_jobs * 4]
    )
    peers: list[GenerationJob] = []
    for pk, count, produced in candidates:
        if count - produced > budget:
            continue
        claimed = job_start(model=GenerationJob, pk=pk)  # a conditional UPDATE: one worker wins each job
        if claimed is None:
            continue
        peers.append(claimed)
        budget -= count - produced
        if budget <= 0 or len(peers) + 1 >= max_jobs:
            break
    return peers


def _save_exact(name: str, data: bytes) -> str:
    if default_storage.exists(name):  # written by an attempt that died before recording it
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(data))


def _store(member: _Member, start: int, pixels: np.ndarray, provider: str) -> None:
    """Write images start.. of `member` (files first, then rows and the produced count in one transaction)."""
    job, version = member.job, member.job.model_version
    rows, written = [], []
    try:
        for offset, image in enumerate(pixels):
            index = start + offset
            base = f"generation/images/{job.public_id}/{index:05d}"
            original = _save_exact(f"{base}.png", png := encode_png(image))
            written.append(original)
            preview = _save_exact(f"{base}-preview.webp", encode_preview(image))
            written.append(preview)
            seed = None if job.interpolation else job.seeds[index]
            rows.append(
                GeneratedImage(
                    owner_id=job.owner_id,
                    job=job,
                    model_version=version,
                    index=index,
                    seed=seed,
                    interpolation={**job.interpolation, "step": index} if job.interpolation else None,
                    truncation=job.truncation,
                    class_label=None if member.labels is None else int(member.labels[index]),
                    provider=provider,
                    original=original,
                    preview=preview,
                    sha256=hashlib.sha256(png).hexdigest(),
                    width=image.shape[1],
                    height=image.shape[0],
                )
            )
        with transaction.atomic():
            GeneratedImage.objects.bulk_create(rows)
            GenerationJob.objects.filter(pk=job.pk).update(produced=start + len(rows))
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise
    member.produced = start + len(rows)


def _heartbeat(member: _Member, context: JobContext) -> None:
    try:
        if member.primary:
            context.heartbeat(force=True, produced=member.produced)
        else:
            job_heartbeat(job=member.job, produced=member.produced)
    except JobCancelled:
        member.cancelled = True


def _run_batches(members: list[_Member], model: runtime.LoadedModel) -> Iterator[_Member]:
    """Draw every member's missing images, GENERATION_BATCH_SIZE rows per onnxruntime call across members;
    yields each member after storing its share of a batch (so the caller can heartbeat it)."""
    batch_size = conf.get("GENERATION_BATCH_SIZE")
    while True:
        rows: list[tuple[_Member, int]] = []
        for member in members:
            if member.cancelled:
                continue
            start = member.produced
            take = min(member.job.count - start, batch_size - len(rows))
            rows += [(member, index) for index in range(start, start + take)]
            if len(rows) >= batch_size:
                break
        if not rows:
            return
        z = np.stack([member.latents[index] for member, index in rows])  # [B, latent]
        labels = None
        if members[0].labels is not None:
            labels = np.array([member.labels[index] for member, index in rows], dtype=np.int64)  # [B]
        images = model.generate(z, labels)  # [B, H, W, 3] uint8
        offset = 0
        for member in members:
            mine = [index for owner, index in rows if owner is member]
            if not mine:
                continue
            _store(member, mine[0], images[offset : offset + len(mine)], model.provider)
            offset += len(mine)
            yield member


def _succeed(member: _Member, provider: str) -> None:
    with transaction.atomic():
        job_succeed(job=member.job, produced=member.produced, provider=provider, settled_at=timezone.now())
        if member.job.state == JobState.SUCCEEDED:
            event_emit(
                type="generation.succeeded",
                user=member.job.owner,
                payload={
                    "generation_job": str(member.job.public_id),
                    "model_version": str(member.job.model_version.public_id),
                    "count": member.job.count,
                    "provider": provider,
                },
            )


def _fail_peers(peers: list[_Member], error: str, *, retryable: bool) -> None:
    for peer in peers:
        job_fail(job=peer.job, error=error, retryable=retryable)
        generation_job_settle(job_pk=peer.job.pk)


def generation_jobs_work(job: GenerationJob, context: JobContext) -> None:
    """Serve `job` and the small queued jobs of the same model version it can take along, in shared batches."""
    claimed = _claim_peers(job)
    everyone = [job, *claimed]
    GenerationJob.objects.filter(pk__in=[each.pk for each in everyone]).update(
        batch_id=uuid.uuid4(), batch_jobs=len(everyone)
    )
    members = [_Member.of(job, primary=True)] + [_Member.of(peer, primary=False) for peer in claimed]
    peers = members[1:]
    try:
        model = runtime.session_for(model_version=job.model_version)
    except runtime.GpuRequired as exc:
        _fail_peers(peers, str(exc), retryable=False)
        raise PermanentJobError(str(exc)) from None
    except Exception as exc:
        _fail_peers(peers, f"cannot load the model: {exc}", retryable=True)
        raise
    provider = model.provider
    GenerationJob.objects.filter(pk__in=[member.job.pk for member in members]).update(provider=provider)
    ModelVersion.objects.filter(pk=job.model_version_id).update(last_provider=provider)
    try:
        for member in _run_batches(members, model):
            _heartbeat(member, context)
    except Exception as exc:
        _fail_peers([peer for peer in peers if not peer.cancelled], f"{type(exc).__name__}: {exc}", retryable=True)
        raise
    for peer in peers:
        if peer.cancelled:
            job_mark_cancelled(job=peer.job)
            generation_job_settle(job_pk=peer.job.pk)
        else:
            _succeed(peer, provider)
    if members[0].cancelled:
        raise JobCancelled(f"generation job {job.public_id} was cancelled")
    _succeed(members[0], provider)


# --- regeneration ------------------------------------------------------------------------------------------


def regenerate_image_bytes(*, image: GeneratedImage) -> bytes:
    """The image's PNG drawn again from its record alone (seed or interpolation step, truncation, class)."""
    version = image.model_version
    if image.interpolation:
        spec = image.interpolation
        z = interpolate(
            spec["seed_a"], spec["seed_b"], spec["steps"], latent_dim=version.latent_dim, truncation=image.truncation
        )[spec["step"] : spec["step"] + 1]
    else:
        z = latents_for_seeds([image.seed], version.latent_dim, image.truncation)
    labels = None if image.class_label is None else np.array([image.class_label], dtype=np.int64)
    return encode_png(runtime.session_for(model_version=version).generate(z, labels)[0])


def generation_job_retry(*, job: GenerationJob) -> GenerationJob:
    """Requeue a failed or cancelled job (staff action); it produces the images it had not delivered."""
    with transaction.atomic():
        retried = job_retry(job=job)
        if retried.state == JobState.QUEUED:
            GenerationJob.objects.filter(pk=job.pk).update(settled_at=None)
    return GenerationJob.objects.get(pk=job.pk)
