"""The problem+json `code`s the generation app raises. A failed dataset's `failure_code` is one of these or
one of `core.errors.CommonError`'s upload codes (the same code its upload request would have answered)."""

from enum import StrEnum, unique


@unique
class GenerationError(StrEnum):
    DATASET_IN_USE = "dataset_in_use"
    DATASET_NOT_READY = "dataset_not_ready"
    NO_CHECKPOINT = "no_checkpoint"
    NO_USABLE_IMAGES = "no_usable_images"
    NOTHING_KEPT = "nothing_kept"
    PLAN_LIMIT_EXCEEDED = "plan_limit_exceeded"
    PROCESSING_ERROR = "processing_error"
    TOO_MANY_IMAGES = "too_many_images"
    TOO_MANY_PIXELS = "too_many_pixels"
    TRAINING_LIMIT_EXCEEDED = "training_limit_exceeded"
