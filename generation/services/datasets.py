"""Dataset uploads: hostile-file handling, de-duplication, labels from class folders, limits, lineage hash.

The request does only bounded work (`dataset_create`): sizes, the zip directory and the image headers are
checked, the raw files are stored under the dataset's `upload/` folder and the dataset is created `processing`
with a `DatasetProcessing` job. The job (`dataset_processing_work`, generation.tasks) decodes, validates and
re-encodes every image in memory (core.uploads); only when at least one image is usable and every limit holds
are images written and the dataset made `ready`, otherwise it is `failed` with the reason and no image is kept.
The raw upload is deleted either way.
"""

from __future__ import annotations

import hashlib
import io
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import torch
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image as PILImage

from core.errors import AtelierError, Conflict, InvalidInput, PayloadTooLarge, PaymentRequired
from core.jobs import FINISHED_STATES, JobContext, PermanentJobError, job_enqueue, run_job
from core.media import MediaIntegrityError, media_cache, media_is_remote, media_local_path
from core.uploads import ALLOWED_FORMATS, CleanImage, image_clean, zip_list_images, zip_open, zip_read_images
from generation import conf, lineage, locks
from generation.errors import GenerationError
from generation.gan.data import (
    DatasetError,
    PreparedDataset,
    dataset_hash,
    load_image,
    load_prepared_dataset,
    save_prepared_dataset,
)
from generation.gan.periodicity import SCORED_SIDE, sample_indices
from generation.gan.periodicity import dataset_periodicity as image_set_periodicity
from generation.metering import get_meter
from generation.models import Dataset, DatasetImage, DatasetProcessing, DatasetState

logger = logging.getLogger("atelier.generation.datasets")

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
UNLABELLED_CLASS = "images"  # the engine's class name for a dataset without class folders
SPOOL_IN_MEMORY = 4 * 1024 * 1024  # a staged upload larger than this goes to a temporary file
PROCESSING_ERROR = GenerationError.PROCESSING_ERROR


class Upload(Protocol):
    name: str
    size: int

    def read(self) -> bytes: ...


@dataclass(frozen=True)
class _Candidate:
    name: str
    label: str
    raw: bytes


@dataclass(frozen=True)
class _Accepted:
    name: str
    label: str
    image: CleanImage


@dataclass
class DatasetUpload:
    dataset: Dataset
    rejected: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)


@dataclass
class _Report:
    rejected: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, list]:
        return {"rejected": self.rejected, "duplicates": self.duplicates}


def _is_zip(raw: bytes, name: str) -> bool:
    return raw.startswith(ZIP_MAGIC) or name.lower().endswith(".zip")


def _reason(exc: AtelierError, name: str) -> str:
    detail = str(exc.detail)
    return detail[len(name) + 2 :] if detail.startswith(f"{name}: ") else detail


def _upload_name(upload: Any) -> str:
    return str(getattr(upload, "name", None) or "upload")[:255]


def _check_declared(files: Sequence[Any], *, max_bytes: int) -> None:
    declared = sum(int(getattr(upload, "size", 0) or 0) for upload in files)
    if declared > max_bytes:
        raise PayloadTooLarge(f"The upload is {declared} bytes; the limit is {max_bytes}.", limit=max_bytes)


def _too_many_files(count: int, max_files: int) -> InvalidInput:
    return InvalidInput(
        f"The upload holds {count} files; the limit is {max_files}.",
        field="files",
        code=GenerationError.TOO_MANY_IMAGES,
        limit=max_files,
    )


def _over_bytes(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The upload is over the {max_bytes}-byte limit.", limit=max_bytes)


def _over_pixels(cap: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The upload's images come to more than {cap} pixels in all; send fewer or smaller images.",
        code=GenerationError.TOO_MANY_PIXELS,
        limit=cap,
    )


# --- the request: bounded checks and the raw files ---------------------------------------------------------


def _spool(upload: Any, *, limit: int) -> IO[bytes]:
    """The upload's bytes in a temporary file, refused (413) past `limit` bytes whatever it declared."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (closed by the caller)
    chunks = upload.chunks() if hasattr(upload, "chunks") else [upload.read()]
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            spool.close()
            raise _over_bytes(limit)
        spool.write(chunk)
    spool.seek(0)
    return spool


def _header_pixels_of(handle: IO[bytes]) -> int:
    """Width x height from an image header (no decoding); 0 when unreadable (the job explains why)."""
    try:
        with PILImage.open(handle, formats=ALLOWED_FORMATS) as probe:
            width, height = probe.size
    except Exception:  # any unreadable header is image_clean's to explain, in the job
        return 0
    return width * height


def _header_pixels(raw: bytes) -> int:
    return _header_pixels_of(io.BytesIO(raw))


@dataclass(frozen=True)
class _Staged:
    name: str
    spool: IO[bytes]


def _stage(files: Sequence[Any], *, max_bytes: int, max_files: int) -> list[_Staged]:
    """Spool every upload (capped) and check what can be checked without decoding: the zip directory (file
    count, declared total size), the file count and the image headers' pixel total."""
    staged: list[_Staged] = []
    try:
        used, count = 0, 0
        headers: list[tuple[str, Callable[[], int]]] = []  # (label, pixels) once labels are all known
        for upload in files:
            name = _upload_name(upload)
            spool = _spool(upload, limit=max_bytes - used)
            staged.append(_Staged(name, spool))
            if _is_zip(spool.read(4), name):
                spool.seek(0)
                archive = zip_open(spool)
                listing = zip_list_images(archive=archive, max_files=max_files, max_total_bytes=max_bytes - used)
                used += sum(entry.info.file_size for entry in listing.entries)
                count += len(listing.entries)
                headers += [
                    (entry.label, lambda archive=archive, info=entry.info: _zip_member_pixels(archive, info))
                    for entry in listing.entries
                ]
            else:
                spool.seek(0, io.SEEK_END)
                used += spool.tell()
                count += 1
                headers.append(("", lambda spool=spool: _spooled_pixels(spool)))
            if used > max_bytes:
                raise _over_bytes(max_bytes)
        if count > max_files:
            raise _too_many_files(count, max_files)
        labelled = any(label for label, _ in headers)
        cap, pixels = conf.get("GENERATION_DATASET_MAX_DECODED_PIXELS"), 0
        for label, header in headers:
            if labelled and not label:
                continue  # the job rejects it without decoding
            pixels += header()
            if pixels > cap:
                raise _over_pixels(cap)
    except BaseException:
        for item in staged:
            item.spool.close()
        raise
    for item in staged:
        item.spool.seek(0)
    return staged


def _zip_member_pixels(archive: Any, info: Any) -> int:
    try:
        with archive.open(info) as member:
            return _header_pixels_of(member)
    except Exception:  # a corrupt entry is the job's to report
        return 0


def _spooled_pixels(spool: IO[bytes]) -> int:
    spool.seek(0)
    return _header_pixels_of(spool)


def dataset_create(*, owner: Any, name: str, files: Sequence[Upload], contents_public: bool = False) -> DatasetUpload:
    """Accept an upload of one zip (class folders become labels) or several images: a `processing` dataset
    whose job decodes it. Only bounded checks run here; the per-file report comes with the job's verdict. Its
    provenance record (the lineage hook, once ready) shows only its hashes unless `contents_public`."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Give the dataset a name.", field="name")
    if not files:
        raise InvalidInput("Send one zip archive or one or more images.", field="files")
    max_bytes = conf.get("GENERATION_DATASET_MAX_BYTES")
    _check_declared(files, max_bytes=max_bytes)
    staged = _stage(files, max_bytes=max_bytes, max_files=conf.get("GENERATION_DATASET_MAX_IMAGES"))
    dataset = Dataset(
        owner=owner,
        name=name[:200],
        state=DatasetState.PROCESSING,
        contents_public=bool(contents_public),
        upload_report=_Report().as_dict(),
    )  # empty until the job's verdict
    written: list[str] = []
    try:
        uploads = []
        for index, item in enumerate(staged):
            stored = default_storage.save(f"{dataset.storage_prefix}/upload/{index}", File(item.spool))
            written.append(stored)
            uploads.append({"name": item.name, "file": stored})
        with transaction.atomic():
            dataset.save()
            job = DatasetProcessing.objects.create(dataset=dataset, uploads=uploads)
            job_enqueue(job=job)
    except BaseException:
        for stored in written:
            default_storage.delete(stored)
        raise
    finally:
        for item in staged:
            item.spool.close()
    return DatasetUpload(dataset=dataset)


# --- the job: decode, de-duplicate, re-encode, write -------------------------------------------------------


@dataclass(frozen=True)
class _StoredUpload:
    name: str
    file: str
    limit: int

    def read(self) -> bytes:
        with default_storage.open(self.file, "rb") as handle:
            return handle.read(self.limit + 1)  # past the limit is all we need to know


def _read_candidates(files: Sequence[Upload], *, max_bytes: int, max_files: int, report: _Report) -> list[_Candidate]:
    candidates: list[_Candidate] = []
    used = 0
    for upload in files:
        name = _upload_name(upload)
        raw = upload.read()
        if _is_zip(raw, name):
            contents = zip_read_images(raw=raw, max_files=max_files, max_total_bytes=max_bytes - used)
            used += sum(len(member.data) for member in contents.members)
            report.rejected += [{"name": item["name"], "reason": item["reason"]} for item in contents.skipped]
            candidates += [_Candidate(member.name, member.label, member.data) for member in contents.members]
        else:
            used += len(raw)
            candidates.append(_Candidate(name, "", raw))
        if used > max_bytes:  # declared sizes are the client's word; this is what we read
            raise _over_bytes(max_bytes)
    if len(candidates) > max_files:
        raise _too_many_files(len(candidates), max_files)
    return candidates


def _clean(candidates: list[_Candidate], report: _Report, *, heartbeat: Callable[[], None]) -> list[_Accepted]:
    """Validate each file; drop exact duplicates (same upload bytes or same pixels after re-encoding). The
    upload as a whole may decode at most GENERATION_DATASET_MAX_DECODED_PIXELS (checked from the headers)."""
    labelled = any(candidate.label for candidate in candidates)
    decoded, decode_cap = 0, conf.get("GENERATION_DATASET_MAX_DECODED_PIXELS")
    accepted: list[_Accepted] = []
    seen: dict[str, str] = {}
    for candidate in candidates:
        heartbeat()
        if labelled and not candidate.label:
            report.rejected.append(
                {
                    "name": candidate.name,
                    "reason": "outside the class folders: with class folders, every image must be in one",
                }
            )
            continue
        original_sha = hashlib.sha256(candidate.raw).hexdigest()
        if original_sha in seen:
            report.duplicates.append({"name": candidate.name, "duplicate_of": seen[original_sha]})
            continue
        decoded += _header_pixels(candidate.raw)
        if decoded > decode_cap:
            raise _over_pixels(decode_cap)
        try:
            image = image_clean(
                raw=candidate.raw,
                name=candidate.name,
                max_bytes=conf.get("GENERATION_IMAGE_MAX_BYTES"),
                max_pixels=conf.get("GENERATION_IMAGE_MAX_PIXELS"),
            )
        except AtelierError as exc:
            report.rejected.append({"name": candidate.name, "reason": _reason(exc, candidate.name)})
            continue
        except Exception:  # a decoder failure core.uploads did not anticipate is still this file's problem
            logger.exception("unexpected error decoding %r", candidate.name)
            report.rejected.append({"name": candidate.name, "reason": "the image could not be decoded"})
            continue
        if image.sha256 in seen:
            report.duplicates.append({"name": candidate.name, "duplicate_of": seen[image.sha256]})
            continue
        seen[original_sha] = seen[image.sha256] = candidate.name
        accepted.append(_Accepted(candidate.name, candidate.label, image))
    return accepted


def _check_limits(*, owner: Any, accepted: list[_Accepted]) -> None:
    site_max = conf.get("GENERATION_DATASET_MAX_IMAGES")
    if len(accepted) > site_max:
        raise InvalidInput(
            f"The dataset has {len(accepted)} images; the limit is {site_max}.",
            field="files",
            code=GenerationError.TOO_MANY_IMAGES,
            limit=site_max,
        )
    limits = get_meter().limits(user=owner)
    if limits.max_dataset_images is not None and len(accepted) > limits.max_dataset_images:
        raise PaymentRequired(
            f"The dataset has {len(accepted)} images; your plan allows {limits.max_dataset_images}.",
            code=GenerationError.PLAN_LIMIT_EXCEEDED,
            limit_name="max_dataset_images",
            limit=limits.max_dataset_images,
        )
    total = sum(len(item.image.data) for item in accepted)
    if limits.max_dataset_bytes is not None and total > limits.max_dataset_bytes:
        raise PaymentRequired(
            f"The dataset is {total} bytes; your plan allows {limits.max_dataset_bytes}.",
            code=GenerationError.PLAN_LIMIT_EXCEEDED,
            limit_name="max_dataset_bytes",
            limit=limits.max_dataset_bytes,
        )


def _write(*, dataset: Dataset, accepted: list[_Accepted], report: _Report) -> None:
    written: list[str] = []
    try:
        rows = []
        for item in accepted:
            target = f"{dataset.storage_prefix}/{item.image.sha256}.png"
            if default_storage.exists(target):  # left by an attempt that died before its rows were saved
                default_storage.delete(target)
            stored = default_storage.save(target, ContentFile(item.image.data))
            written.append(stored)
            rows.append(
                DatasetImage(
                    file=stored,
                    sha256=item.image.sha256,
                    original_sha256=item.image.original_sha256,
                    original_name=item.name[:255],
                    label=item.label,
                    width=item.image.width,
                    height=item.image.height,
                    size_bytes=len(item.image.data),
                )
            )
        with transaction.atomic():
            locked = locks.lock_dataset_if_any(dataset.pk)
            if locked is None or locked.state != DatasetState.PROCESSING:
                raise PermanentJobError(f"dataset {dataset.public_id} was deleted or settled meanwhile")
            locked.image_count = len(rows)
            locked.total_bytes = sum(row.size_bytes for row in rows)
            locked.dataset_hash = dataset_hash(row.sha256 for row in rows)
            locked.class_names = sorted({item.label for item in accepted} - {""})
            locked.upload_report = report.as_dict()
            locked.state = DatasetState.READY
            locked.save()
            for row in rows:
                row.dataset = locked
            DatasetImage.objects.bulk_create(rows)
            lineage.dataset_recorded(dataset=locked)
    except BaseException:
        for stored in written:
            default_storage.delete(stored)
        raise


def _dataset_fail(*, dataset_pk: int, code: str, reason: str, report: dict | None = None) -> bool:
    with transaction.atomic():
        locked = locks.lock_dataset_if_any(dataset_pk)
        if locked is None or locked.state != DatasetState.PROCESSING:
            return False
        locked.state, locked.failure_code, locked.failure_reason = DatasetState.FAILED, code, reason[:2000]
        if report is not None:
            locked.upload_report = report
        locked.save()
    return True


def dataset_processing_work(job: DatasetProcessing, context: JobContext) -> None:
    """Decode, de-duplicate, re-encode and write an upload's images; the dataset becomes ready, or failed with
    the reason (no usable image, a limit) and its per-file report. Bad input fails the job for good."""
    dataset = Dataset.objects.select_related("owner").get(pk=job.dataset_id)
    if dataset.state != DatasetState.PROCESSING:
        return
    max_bytes = conf.get("GENERATION_DATASET_MAX_BYTES")
    files = [_StoredUpload(name=item["name"], file=item["file"], limit=max_bytes) for item in job.uploads]
    report = _Report()
    try:
        candidates = _read_candidates(
            files, max_bytes=max_bytes, max_files=conf.get("GENERATION_DATASET_MAX_IMAGES"), report=report
        )
        accepted = _clean(candidates, report, heartbeat=context.heartbeat)
        if not accepted:
            raise InvalidInput(
                "None of the uploaded files is a usable image.", field="files", code=GenerationError.NO_USABLE_IMAGES
            )
        _check_limits(owner=dataset.owner, accepted=accepted)
    except AtelierError as exc:
        _dataset_fail(dataset_pk=dataset.pk, code=exc.code, reason=str(exc.detail), report=report.as_dict())
        raise PermanentJobError(f"{exc.code}: {exc.detail}") from None
    _write(dataset=dataset, accepted=accepted, report=report)


def dataset_processing_settle(*, job_pk: int) -> bool:
    """Once the job has finished: the raw upload goes, and a dataset whose job gave up (or was cancelled)
    without a verdict is failed."""
    job = DatasetProcessing.objects.filter(pk=job_pk).first()
    if job is None or job.state not in FINISHED_STATES:
        return False
    failed = _dataset_fail(
        dataset_pk=job.dataset_id, code=PROCESSING_ERROR, reason="The upload could not be processed; upload it again."
    )
    if not job.uploads:
        return failed
    for item in job.uploads:
        default_storage.delete(item["file"])
    DatasetProcessing.objects.filter(pk=job.pk).update(uploads=[])
    return True


def dataset_process_now(*, dataset: Dataset) -> Dataset:
    """Run a dataset's processing job in this process (management commands, the demo): not for requests."""
    job = DatasetProcessing.objects.get(dataset=dataset)
    run_job(model=DatasetProcessing, pk=job.pk, work=dataset_processing_work)
    dataset_processing_settle(job_pk=job.pk)
    dataset.refresh_from_db()
    return dataset


def dataset_ready_check(*, dataset: Dataset) -> None:
    """409 dataset_not_ready unless the dataset's upload has been processed successfully."""
    if dataset.state != DatasetState.READY:
        raise Conflict(
            f"The dataset is {dataset.state}; only a ready dataset can be trained on.",
            code=GenerationError.DATASET_NOT_READY,
            state=dataset.state,
        )


def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset no training run uses (409 otherwise), with its files."""
    with transaction.atomic():
        locked = locks.lock_dataset(dataset.pk)
        runs = locked.training_runs.count()
        if runs:
            raise Conflict(
                f"The dataset is used by {runs} training run(s); it cannot be deleted.",
                code=GenerationError.DATASET_IN_USE,
                training_runs=runs,
            )
        names = list(locked.images.values_list("file", flat=True))
        processing = DatasetProcessing.objects.filter(dataset=locked).first()
        names += [item["file"] for item in processing.uploads] if processing else []  # a raw upload not yet gone
        prefix, public_id = locked.storage_prefix, locked.public_id
        locked.delete()
        transaction.on_commit(lambda: _delete_files(names, prefix, public_id))


def _prepared_path(*, public_id: Any, prefix: str, resolution: int) -> Path:
    """The engine's tensor file: beside the images on the filesystem, in the local cache with a bucket."""
    if media_is_remote():
        return media_cache().derived_path(f"dataset-{public_id}-prepared-{resolution}.pt")
    return Path(default_storage.path(f"{prefix}/prepared-{resolution}.pt"))


def _delete_files(names: list[str], prefix: str, public_id: Any = None) -> None:
    for name in names:
        default_storage.delete(name)
    if media_is_remote():
        for prepared in media_cache().derived_path("").glob(f"dataset-{public_id}-prepared-*.pt"):
            prepared.unlink(missing_ok=True)
        return
    folder = Path(default_storage.path(prefix))
    for prepared in folder.glob("prepared-*.pt"):
        prepared.unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def dataset_class_names(*, dataset: Dataset) -> tuple[str, ...]:
    """The engine's class names: the class folders, or one class for a dataset without them."""
    return tuple(dataset.class_names) or (UNLABELLED_CLASS,)


def dataset_periodicity(*, dataset: Dataset) -> float | None:
    """The images' periodicity score (generation.gan.periodicity), measured once on up to SAMPLE of them at
    SCORED_SIDE px and kept on the row (a dataset's images never change, so neither does its score). None, and
    nothing kept, when an image cannot be read now: the plan then goes without periodic maps."""
    if dataset.periodicity is not None:
        return dataset.periodicity
    names = list(dataset.images.order_by("sha256").values_list("file", "sha256"))
    try:
        arrays = [
            load_image(media_local_path(name=names[i][0], sha256=names[i][1]), resolution=SCORED_SIDE)
            for i in sample_indices(len(names))
        ]
    except (DatasetError, MediaIntegrityError, OSError) as error:
        logger.warning("periodicity of dataset %s not measured: %s", dataset.public_id, error)
        return None
    score = image_set_periodicity(np.stack(arrays)) if arrays else 0.0
    Dataset.objects.filter(pk=dataset.pk, periodicity__isnull=True).update(periodicity=score)
    dataset.periodicity = score
    return score


def dataset_prepared_path(*, dataset: Dataset, resolution: int) -> Path:
    """Where `dataset_prepare` keeps the tensor file (the multi-process trainer reads it from there)."""
    return _prepared_path(public_id=dataset.public_id, prefix=dataset.storage_prefix, resolution=resolution)


def dataset_prepare(*, dataset: Dataset, resolution: int) -> PreparedDataset:
    """The dataset as the engine's tensor file at `resolution`, built on first use and reused after."""
    path = dataset_prepared_path(dataset=dataset, resolution=resolution)
    if path.exists():
        try:
            prepared = load_prepared_dataset(path)
            if prepared.dataset_hash == dataset.dataset_hash:
                if media_is_remote():
                    media_cache().touch(path)
                return prepared
        except DatasetError:
            logger.warning("rebuilding unreadable prepared dataset %s", path)
    class_names = dataset_class_names(dataset=dataset)
    images = list(dataset.images.order_by("label", "sha256"))
    # one image at a time: each is read as soon as it is local, so eviction under the cache's bound cannot race it
    arrays = [
        load_image(media_local_path(name=image.file.name, sha256=image.sha256), resolution=resolution)
        for image in images
    ]
    labels = [class_names.index(image.label) if image.label else 0 for image in images]
    prepared = PreparedDataset(
        images=torch.from_numpy(np.stack(arrays)),  # [N, 3, R, R] uint8
        labels=torch.tensor(labels, dtype=torch.int64),
        class_names=class_names,
        dataset_hash=dataset.dataset_hash,
        resolution=resolution,
    )
    save_prepared_dataset(prepared, path)
    if media_is_remote():
        media_cache().evict(keep=path)
    return prepared
