"""The commissions app's calls into other apps, one small function each, so a change in their APIs is adjusted
here: accounts (the artist a brief targets), subscriptions (payments and the payout ledger), generation (the
artist's model, a job and its images) and provenance (Content Credentials of delivered images).

Charges and refunds reach the payment provider: call them outside a transaction.
"""

import secrets
from datetime import datetime
from typing import Any
from uuid import UUID

from core.errors import InvalidInput, InvalidTransition
from core.jobs import FINISHED_STATES, JobState
from generation import selectors as generation_selectors
from generation import services as generation_services
from generation.gan.noise import MAX_SEED
from marketplace.accounts import selectors as account_selectors
from marketplace.commissions.models import Commission
from marketplace.subscriptions import selectors as subscription_selectors
from marketplace.subscriptions import services as subscription_services
from provenance.services import credentials as provenance_credentials

PURPOSE = subscription_selectors.PaymentPurpose.COMMISSION
OPEN_PAYMENT_STATES = subscription_selectors.OPEN_PAYMENT_STATES
PAID_PAYMENT_STATES = subscription_selectors.PAID_PAYMENT_STATES


# --- accounts and generation: who and what a brief targets ---------------------------------------------------


def artist_for_brief(*, public_id: UUID) -> Any:
    """An active artist by public id, to target a brief at (None if there is none)."""
    return account_selectors.artist_public_get(public_id=public_id)


def model_for_brief(*, public_id: UUID) -> Any:
    """A model version by public id, to target a brief at (None if there is none)."""
    return generation_selectors.model_version_public_get(public_id=public_id)


# --- subscriptions: payments and the payout ledger ------------------------------------------------------------


def payment_reference(commission: Commission) -> str:
    return f"commission:{commission.public_id}"


def commission_public_id_of(payment: Any) -> str | None:
    if payment.purpose != PURPOSE or not payment.reference.startswith("commission:"):
        return None
    return payment.reference.split(":", 1)[1]


def charge(*, commission: Commission, payment_method: str, return_url: str = "") -> Any:
    """Charge the client the accepted offer's price; the platform holds the funds until completion.
    Raises PaymentRequired (402) on a decline, ServiceUnavailable (503) when the provider is down."""
    return subscription_services.payment_charge(
        payer=commission.client,
        amount=commission.price,
        currency=commission.currency,
        purpose=PURPOSE,
        reference=payment_reference(commission),
        payment_method=payment_method,
        description=f"Commission {commission.public_id}",
        return_url=return_url,
    )


def latest_payment(*, commission: Commission, since: datetime | None = None) -> Any:
    """The newest payment made for this commission (the row the accept step charged, if it got that far);
    with `since`, only one created from then on (a payment of an earlier, failed acceptance does not count)."""
    payments = subscription_selectors.payments_for(user=commission.client).filter(
        reference=payment_reference(commission)
    )
    if since is not None:
        payments = payments.filter(created_at__gte=since)
    return payments.first()


def refund_all(*, payment: Any, reason: str) -> bool:
    """Refund whatever is still refundable of `payment`; False if nothing was. Raises Unprocessable when the
    provider refuses."""
    if payment.refundable_amount <= 0:
        return False
    try:
        subscription_services.payment_refund(payment=payment, reason=reason)
    except InvalidTransition:  # refunded (or being refunded) by a concurrent attempt
        return False
    return True


def abandon(*, payment: Any) -> None:
    """Give up on a charge still waiting for the payer; if the provider completes it later, the payments app
    refunds it by itself."""
    subscription_services.payment_abandon(payment=payment)


def credit_artist(*, commission: Commission) -> Any:
    """Pay the artist their share (price minus the platform fee) on the payout ledger; idempotent."""
    return subscription_services.ledger_credit(
        user=commission.artist,
        amount=commission.payout_amount,
        currency=commission.currency,
        reference=payment_reference(commission),
        memo=f"Commission {commission.public_id}: {commission.price} less platform fee {commission.platform_fee}",
    )


# --- generation: the artist's own model, a generation job and its images -------------------------------------


def own_model(*, artist: Any, public_id: UUID) -> Any:
    """One of the artist's own model versions; anyone else's is a 404 (generation's selector decides)."""
    return generation_selectors.model_version_get(user=artist, public_id=public_id)


def seeds_from(*, seed: int | None, count: int) -> list[int]:
    if seed is None:
        seed = secrets.randbelow(MAX_SEED - count + 2)  # server-chosen: any start whose run of seeds fits
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED - count + 1:
        raise InvalidInput(f"seed must be an integer between 0 and {MAX_SEED - count + 1}.", field="seed")
    return [seed + offset for offset in range(count)]


def start_job(*, artist: Any, model_version: Any, count: int, seeds: list[int]) -> Any:
    """Queue the job (in the caller's transaction: quota and task row commit with the delivery)."""
    return generation_services.generation_job_create(user=artist, model_version=model_version, count=count, seeds=seeds)


def job_finished(job: Any) -> bool:
    job.refresh_from_db(fields=["state", "last_error", "produced"])
    return job.state in FINISHED_STATES


def job_images(*, artist: Any, job: Any) -> list[Any]:
    """The images of a job that succeeded ([] otherwise)."""
    if job.state != JobState.SUCCEEDED:
        return []
    return list(generation_selectors.generated_images_for(user=artist, job=job))


def image_bytes(image: Any) -> bytes:
    return generation_selectors.generated_image_read(image=image)


def job_error(job: Any) -> str:
    if job.state == JobState.SUCCEEDED:
        return "The generation job produced no images."
    return f"The generation job {job.state}: {job.last_error or 'no reason given'}"[:500]


# --- provenance: Content Credentials of delivered images ------------------------------------------------------


def credential_record_assertion(*, content_sha256: str, **extra: Any) -> dict[str, Any]:
    """The Atelier assertion of a delivered image (deliveries have no provenance record)."""
    return provenance_credentials.record_assertion(record=None, content_sha256=content_sha256, **extra)


def credential_sign(*, data: bytes, spec: Any) -> Any:
    """`data` with a signed C2PA manifest (provenance's Signed), or None when signing is off."""
    return provenance_credentials.credential_sign(data=data, spec=spec)


def public_url(path: str) -> str:
    return provenance_credentials.public_url(path)
