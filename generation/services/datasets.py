"""Dataset uploads: hostile-file handling, de-duplication, labels from class folders, limits, lineage hash.

Every file is validated and re-encoded in memory first (core.uploads); only when at least one image is usable
and every limit holds are files written and rows created, so a rejected upload leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image as PILImage

from core.errors import AtelierError, Conflict, InvalidInput, PayloadTooLarge, PaymentRequired
from core.media import media_cache, media_is_remote, media_local_path
from core.uploads import CleanImage, image_clean, zip_read_images
from generation import lineage
from generation.gan.data import (
    DatasetError,
    PreparedDataset,
    dataset_hash,
    load_image,
    load_prepared_dataset,
    save_prepared_dataset,
)
from generation.metering import get_meter
from generation.models import Dataset, DatasetImage
from generation.services.conf import setting

logger = logging.getLogger("atelier.generation.datasets")

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
UNLABELLED_CLASS = "images"  # the engine's class name for a dataset without class folders


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


def _is_zip(raw: bytes, name: str) -> bool:
    return raw.startswith(ZIP_MAGIC) or name.lower().endswith(".zip")


def _reason(exc: AtelierError, name: str) -> str:
    detail = str(exc.detail)
    return detail[len(name) + 2:] if detail.startswith(f"{name}: ") else detail


def _read_candidates(files: Sequence[Upload], *, max_bytes: int, max_files: int) -> tuple[list[_Candidate], list]:
    declared = sum(int(getattr(upload, "size", 0) or 0) for upload in files)
    if declared > max_bytes:
        raise PayloadTooLarge(f"The upload is {declared} bytes; the limit is {max_bytes}.", limit=max_bytes)
    candidates: list[_Candidate] = []
    rejected: list[dict[str, str]] = []
    used = 0
    for upload in files:
        name = str(upload.name or "upload")[:255]
        raw = upload.read()
        if _is_zip(raw, name):
            contents = zip_read_images(raw=raw, max_files=max_files, max_total_bytes=max_bytes - used)
            used += sum(len(member.data) for member in contents.members)
            rejected += [{"name": item["name"], "reason": item["reason"]} for item in contents.skipped]
            candidates += [_Candidate(member.name, member.label, member.data) for member in contents.members]
        else:
            used += len(raw)
            candidates.append(_Candidate(name, "", raw))
        if used > max_bytes:  # declared sizes are the client's word; this is what we read
            raise PayloadTooLarge(f"The upload is over the {max_bytes}-byte limit.", limit=max_bytes)
    if len(candidates) > max_files:
        raise InvalidInput(f"The upload holds {len(candidates)} files; the limit is {max_files}.", field="files",
                           code="too_many_images", limit=max_files)
    return candidates, rejected


def _header_pixels(raw: bytes) -> int:
    """Width x height from the image header alone (no decoding); 0 when the header is unreadable (image_clean
    then rejects the file with its reason)."""
    try:
        with PILImage.open(io.BytesIO(raw)) as probe:
            width, height = probe.size
    except Exception:  # any unreadable header is image_clean's to explain
        return 0
    return width * height


def _clean(candidates: list[_Candidate], rejected: list[dict[str, str]]) -> tuple[list[_Accepted], list]:
    """Validate each file; drop exact duplicates (same upload bytes or same pixels after re-encoding). The
    upload as a whole may decode at most GENERATION_DATASET_MAX_DECODED_PIXELS (413 past it, before decoding)."""
    labelled = any(candidate.label for candidate in candidates)
    decoded, decode_cap = 0, setting("GENERATION_DATASET_MAX_DECODED_PIXELS")
    accepted: list[_Accepted] = []
    duplicates: list[dict[str, str]] = []
    seen: dict[str, str] = {}
    for candidate in candidates:
        if labelled and not candidate.label:
            rejected.append({"name": candidate.name, "reason": "outside the class folders: with class folders, "
                                                              "every image must be in one"})
            continue
        original_sha = hashlib.sha256(candidate.raw).hexdigest()
        if original_sha in seen:
            duplicates.append({"name": candidate.name, "duplicate_of": seen[original_sha]})
            continue
        decoded += _header_pixels(candidate.raw)
        if decoded > decode_cap:
            raise PayloadTooLarge(f"The upload's images come to more than {decode_cap} pixels in all; send fewer "
                                  "or smaller images.", code="too_many_pixels", limit=decode_cap)
        try:
            image = image_clean(raw=candidate.raw, name=candidate.name,
                                max_bytes=setting("GENERATION_IMAGE_MAX_BYTES"),
                                max_pixels=setting("GENERATION_IMAGE_MAX_PIXELS"))
        except AtelierError as exc:
            rejected.append({"name": candidate.name, "reason": _reason(exc, candidate.name)})
            continue
        except Exception:  # a decoder failure core.uploads did not anticipate is still this file's problem
            logger.exception("unexpected error decoding %r", candidate.name)
            rejected.append({"name": candidate.name, "reason": "the image could not be decoded"})
            continue
        if image.sha256 in seen:
            duplicates.append({"name": candidate.name, "duplicate_of": seen[image.sha256]})
            continue
        seen[original_sha] = seen[image.sha256] = candidate.name
        accepted.append(_Accepted(candidate.name, candidate.label, image))
    return accepted, duplicates


def _check_limits(*, owner: Any, accepted: list[_Accepted]) -> None:
    site_max = setting("GENERATION_DATASET_MAX_IMAGES")
    if len(accepted) > site_max:
        raise InvalidInput(f"The dataset has {len(accepted)} images; the limit is {site_max}.", field="files",
                           code="too_many_images", limit=site_max)
    limits = get_meter().limits(user=owner)
    if limits.max_dataset_images is not None and len(accepted) > limits.max_dataset_images:
        raise PaymentRequired(
            f"The dataset has {len(accepted)} images; your plan allows {limits.max_dataset_images}.",
            code="plan_limit_exceeded", limit_name="max_dataset_images", limit=limits.max_dataset_images,
        )
    total = sum(len(item.image.data) for item in accepted)
    if limits.max_dataset_bytes is not None and total > limits.max_dataset_bytes:
        raise PaymentRequired(
            f"The dataset is {total} bytes; your plan allows {limits.max_dataset_bytes}.",
            code="plan_limit_exceeded", limit_name="max_dataset_bytes", limit=limits.max_dataset_bytes,
        )


def dataset_create(*, owner: Any, name: str, files: Sequence[Upload], contents_public: bool = False) -> DatasetUpload:
    """Create a dataset from one zip (class folders become labels) or several images. Its provenance record
    (the lineage hook) shows only its hashes unless `contents_public`."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Give the dataset a name.", field="name")
    if not files:
        raise InvalidInput("Send one zip archive or one or more images.", field="files")
    max_files = setting("GENERATION_DATASET_MAX_IMAGES")
    candidates, rejected = _read_candidates(files, max_bytes=setting("GENERATION_DATASET_MAX_BYTES"),
                                            max_files=max_files)
    accepted, duplicates = _clean(candidates, rejected)
    if not accepted:
        raise InvalidInput("None of the uploaded files is a usable image.", field="files", code="no_usable_images",
                           rejected=rejected, duplicates=duplicates)
    _check_limits(owner=owner, accepted=accepted)

    dataset = Dataset(owner=owner, name=name[:200], contents_public=bool(contents_public))
    labels = sorted({item.label for item in accepted} - {""})
    written: list[str] = []
    try:
        rows = []
        for item in accepted:
            stored = default_storage.save(f"{dataset.storage_prefix}/{item.image.sha256}.png",
                                          ContentFile(item.image.data))
            written.append(stored)
            rows.append(DatasetImage(file=stored, sha256=item.image.sha256,
                                     original_sha256=item.image.original_sha256, original_name=item.name[:255],
                                     label=item.label, width=item.image.width, height=item.image.height,
                                     size_bytes=len(item.image.data)))
        with transaction.atomic():
            dataset.image_count = len(rows)
            dataset.total_bytes = sum(row.size_bytes for row in rows)
            dataset.dataset_hash = dataset_hash(row.sha256 for row in rows)
            dataset.class_names = labels
            dataset.upload_report = {"rejected": rejected, "duplicates": duplicates}
            dataset.save()
            for row in rows:
                row.dataset = dataset
            DatasetImage.objects.bulk_create(rows)
            lineage.dataset_recorded(dataset=dataset)
    except BaseException:
        for stored in written:
            default_storage.delete(stored)
        raise
    return DatasetUpload(dataset=dataset, rejected=rejected, duplicates=duplicates)


def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset no training run uses (409 otherwise), with its files."""
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        runs = locked.training_runs.count()
        if runs:
            raise Conflict(f"The dataset is used by {runs} training run(s); it cannot be deleted.",
                           code="dataset_in_use", training_runs=runs)
        names = list(locked.images.values_list("file", flat=True))
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
    arrays = [load_image(media_local_path(name=image.file.name, sha256=image.sha256), resolution=resolution)
              for image in images]
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
