"""Everything this app asks of the generation app, in one place: the artist's own model, a generation job,
and the job's images."""

import secrets
from typing import Any
from uuid import UUID

from core.errors import InvalidInput
from core.jobs import FINISHED_STATES, JobState

RANDOM_SEED_BOUND = 2**32


def own_model(*, artist: Any, public_id: UUID) -> Any:
    """One of the artist's own model versions; anyone else's is a 404 (generation's selector decides)."""
    from generation.selectors import model_version_get

    return model_version_get(user=artist, public_id=public_id)


def seeds_from(*, seed: int | None, count: int) -> list[int]:
    from generation.gan.noise import MAX_SEED

    if seed is None:
        seed = secrets.randbelow(RANDOM_SEED_BOUND)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED - count + 1:
        raise InvalidInput(f"seed must be an integer between 0 and {MAX_SEED - count + 1}.", field="seed")
    return [seed + offset for offset in range(count)]


def start_job(*, artist: Any, model_version: Any, count: int, seeds: list[int]) -> Any:
    """Queue the job (in the caller's transaction: quota and task row commit with the delivery)."""
    from generation.services import generation_job_create

    return generation_job_create(user=artist, model_version=model_version, count=count, seeds=seeds)


def job_finished(job: Any) -> bool:
    job.refresh_from_db(fields=["state", "last_error", "produced"])
    return job.state in FINISHED_STATES


def job_images(*, artist: Any, job: Any) -> list[Any]:
    """The images of a job that succeeded ([] otherwise)."""
    from generation.selectors import generated_images_for

    if job.state != JobState.SUCCEEDED:
        return []
    return list(generated_images_for(user=artist, job=job))


def image_bytes(image: Any) -> bytes:
    from generation.selectors import generated_image_read

    return generated_image_read(image=image)


def job_error(job: Any) -> str:
    if job.state == JobState.SUCCEEDED:
        return "The generation job produced no images."
    return f"The generation job {job.state}: {job.last_error or 'no reason given'}"[:500]
