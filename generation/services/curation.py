"""Curation: the artist marks generated images keep or reject; kept images can feed a fine-tune's dataset
(generation.services.finetuning), rejected ones never enter a dataset."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput
from generation.models import Curation, GeneratedImage

VERDICTS = {"keep": Curation.KEEP, "reject": Curation.REJECT, "none": Curation.NONE}
VERDICT_CHOICES = tuple(VERDICTS)  # the API's names (the schema's CurationVerdictEnum)


def generated_image_curate(*, image: GeneratedImage, verdict: str) -> GeneratedImage:
    """Record the owner's verdict ("keep", "reject" or "none" to clear it); the caller checked ownership."""
    if verdict not in VERDICTS:
        raise InvalidInput(f"verdict: must be one of {sorted(VERDICTS)}, not {verdict!r}.", field="verdict")
    value = VERDICTS[verdict]
    with transaction.atomic():
        GeneratedImage.objects.filter(pk=image.pk).update(
            curation=value, curated_at=timezone.now() if value else None, updated_at=timezone.now()
        )
    image.refresh_from_db()
    return image
