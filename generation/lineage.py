"""The lineage hook: generation says "this dataset was finalised" and "this model version was exported", inside
the transaction that wrote the row, and never knows who records it. `GENERATION_LINEAGE_RECORDER` names the
class; the default setting plugs in provenance's (`provenance.lineage.ProvenanceLineage`), which registers a
provenance record of each, anchored in the same Merkle batches as artworks. Empty = record nothing.

Contract for implementations: both calls run inside the caller's transaction (so the row and its record
commit or roll back together), must not reach the network, and take only plain values and the owner.
"""

from functools import cache
from typing import Any, Protocol

from django.utils.module_loading import import_string

from generation import conf

DATASET_SUBJECT = "generation.dataset:"
MODEL_VERSION_SUBJECT = "generation.model_version:"


class LineageRecorder(Protocol):
    def dataset_finalised(
        self,
        *,
        subject: str,
        owner: Any,
        dataset_hash: str,
        image_count: int,
        parent_subject: str | None,
        contents_public: bool,
        image_sha256s: list[str],
        class_names: list[str],
    ) -> None: ...

    def model_version_exported(
        self,
        *,
        subject: str,
        owner: Any,
        onnx_sha256: str,
        config: dict[str, Any],
        dataset_subject: str,
        dataset_hash: str,
    ) -> None: ...


class NoLineage:
    def dataset_finalised(self, **_: Any) -> None:
        return None

    def model_version_exported(self, **_: Any) -> None:
        return None


@cache
def _recorder_class(path: str) -> type:
    return import_string(path) if path else NoLineage


def get_recorder() -> LineageRecorder:
    return _recorder_class(conf.get("GENERATION_LINEAGE_RECORDER"))()


def dataset_subject(dataset: Any) -> str:
    return f"{DATASET_SUBJECT}{dataset.public_id}"


def model_version_subject(version: Any) -> str:
    return f"{MODEL_VERSION_SUBJECT}{version.public_id}"


def dataset_recorded(*, dataset: Any) -> None:
    """Hand a finalised dataset (its images already saved) to the recorder."""
    images = list(dataset.images.order_by("sha256").values_list("sha256", flat=True))
    get_recorder().dataset_finalised(
        subject=dataset_subject(dataset),
        owner=dataset.owner,
        dataset_hash=dataset.dataset_hash,
        image_count=dataset.image_count,
        parent_subject=dataset_subject(dataset.parent) if dataset.parent_id else None,
        contents_public=dataset.contents_public,
        image_sha256s=images,
        class_names=list(dataset.class_names),
    )


def model_version_recorded(*, version: Any, dataset: Any) -> None:
    get_recorder().model_version_exported(
        subject=model_version_subject(version),
        owner=version.owner,
        onnx_sha256=version.onnx_sha256,
        config=version.config,
        dataset_subject=dataset_subject(dataset),
        dataset_hash=version.dataset_hash,
    )
