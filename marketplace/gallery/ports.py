"""The gallery's calls into other apps, one small function each, so a change in their APIs is adjusted here.

Provenance references are opaque strings: a user is `accounts.user:<public_id>` (the scheme provenance's own
tests use) and an artwork is `gallery.artwork:<public_id>`.
"""

import hashlib
import io
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from PIL import Image

from generation import selectors as generation_selectors
from marketplace.gallery import conf as gallery_conf
from marketplace.subscriptions import selectors as subscription_selectors
from marketplace.subscriptions import services as subscription_services
from provenance import conf as provenance_conf
from provenance import selectors as provenance_selectors
from provenance import services as provenance_services
from provenance.fingerprints import watermark
from provenance.services import credentials as provenance_credentials

OPEN_PAYMENT_STATES = subscription_selectors.OPEN_PAYMENT_STATES
PAID_PAYMENT_STATES = subscription_selectors.PAID_PAYMENT_STATES
PaymentPurpose = subscription_selectors.PaymentPurpose
ARTWORK_SUBJECT_PREFIX = "gallery.artwork:"
LICENCE_SUBJECT_PREFIX = "gallery.licence:"
MODEL_VERSION_SUBJECT_PREFIX = "generation.model_version:"  # generation.lineage.MODEL_VERSION_SUBJECT
# Browse reads the provenance status through this join (one query for a whole page, filterable).
PROVENANCE_STATUS_FIELD = "provenance_record__state"
PROVENANCE_STATUSES = ("pending", "batched", "anchored", "confirmed")


# --- provenance --------------------------------------------------------------------------------------------


def user_ref(user: Any) -> str:
    return f"accounts.user:{user.public_id}"


def artwork_subject(public_id: UUID) -> str:
    return f"{ARTWORK_SUBJECT_PREFIX}{public_id}"


def artwork_id_of_subject(subject: str) -> str | None:
    return subject.removeprefix(ARTWORK_SUBJECT_PREFIX) if subject.startswith(ARTWORK_SUBJECT_PREFIX) else None


def file_hashes(*, raw: bytes) -> provenance_services.FileHashes:
    return provenance_services.hash_file(raw=raw)


def watermark_key_for(original: bytes) -> bytes | None:
    """The invisible watermark's key for a new work's original (its bytes before marking): the key the image
    already carries when it has one (a copy of a marked work keeps pointing at that work's record), else the
    first 48 bits of the sha256 of those bytes (so the same upload marks the same way and is still an exact
    duplicate). None when GALLERY_PREVIEW_INVISIBLE_WATERMARK is off. The record stores it (watermark_key)."""
    if not invisible_watermark_enabled():
        return None
    with Image.open(io.BytesIO(original)) as image:
        found = watermark.extract(image.convert("RGB"), search=False)
    return found.key if found is not None else hashlib.sha256(original).digest()[: watermark.KEY_BYTES]


def invisible_watermark_enabled() -> bool:
    return gallery_conf.get("GALLERY_PREVIEW_INVISIBLE_WATERMARK")


@dataclass(frozen=True)
class Match:
    record: Any  # provenance's record
    distance: int


def registration_lock() -> None:
    """Held until the transaction ends: no other publish checks and registers meanwhile."""
    provenance_services.registration_lock()


def similar_records(*, content_sha256: str, pdq: str, pdq_quality: int, width: int, height: int) -> list[Match]:
    """Registered records with the same bytes, or perceptually near (skipped for hashes too weak to match);
    small images match within a wider PDQ distance (provenance's pdq_match_distance)."""
    matches: dict[int, Match] = {}
    exact = provenance_selectors.record_by_sha256(sha256=content_sha256)
    if exact is not None:
        matches[exact.pk] = Match(record=exact, distance=0)
    if pdq_quality >= provenance_conf.get("PROVENANCE_PDQ_MIN_QUALITY"):
        distance = provenance_selectors.pdq_match_distance(width=width, height=height)
        for near in provenance_selectors.near_duplicates(pdq=pdq, max_distance=distance):
            matches.setdefault(near.record.pk, Match(record=near.record, distance=near.distance))
    return sorted(matches.values(), key=lambda match: (match.distance, match.record.pk))


def record_register(*, artwork: Any) -> Any:
    """The artwork's record, linked to its model version's record when it was generated (lineage)."""
    ref = user_ref(artwork.artist)
    model_version = (artwork.lineage or {}).get("model_version")
    parent = (
        provenance_selectors.record_by_subject(subject=f"{MODEL_VERSION_SUBJECT_PREFIX}{model_version}")
        if model_version
        else None
    )
    return provenance_services.record_register(
        content_sha256=artwork.content_sha256,
        pdq=artwork.pdq,
        pdq_quality=artwork.pdq_quality,
        subject=artwork_subject(artwork.public_id),
        creator=ref,
        owner=user_ref(artwork.owner),
        user=artwork.owner,
        parent=parent,
        watermark_key=artwork.watermark_key,
    )


def licence_register(*, grant: Any, artwork: Any, order: Any) -> Any:
    """A licence sale as a lineage record under the artwork's (anchored like any record); none for an artwork
    without a record."""
    parent = provenance_selectors.record_by_sha256(sha256=artwork.content_sha256)
    if parent is None:
        return None
    return provenance_services.lineage_record_register(
        kind="licence",
        subject=f"{LICENCE_SUBJECT_PREFIX}{grant.public_id}",
        creator=user_ref(artwork.artist),
        owner=user_ref(grant.holder),
        user=grant.holder,
        parent=parent,
        fields={
            "artwork_sha256": artwork.content_sha256,
            "licence_type": str(grant.licence_type),
            "order": f"gallery.order:{order.public_id}",
            "granted_at": grant.created_at.isoformat(),
        },
    )


def ownership_transfer(*, artwork: Any, to_user: Any, reference: str) -> Any:
    return provenance_services.ownership_transfer(
        content_sha256=artwork.content_sha256,
        from_ref=user_ref(artwork.owner),
        to_ref=user_ref(to_user),
        reference=reference,
        user=to_user,
    )


def provenance_of(*, record: Any) -> dict[str, Any] | None:
    if record is None:
        return None
    anchor = provenance_selectors.anchor_of(record=record)
    return {
        "status": record.state,
        "record_id": str(record.public_id),
        "content_sha256": record.content_sha256,
        "owner": record.owner,
        "transaction_hash": anchor["transaction_hash"] if anchor else None,
        "block_number": anchor["block_number"] if anchor else None,
    }


def credential_sign(*, data: bytes, spec: Any) -> Any:
    """`data` with a signed C2PA manifest (provenance's Signed), or None when signing is off."""
    return provenance_credentials.credential_sign(data=data, spec=spec)


def credentials_signing_enabled() -> bool:
    return provenance_credentials.signing_enabled()


def credential_record_assertion(*, record: Any, content_sha256: str, **extra: Any) -> dict[str, Any]:
    return provenance_credentials.record_assertion(record=record, content_sha256=content_sha256, **extra)


def preview_credential_record(*, record: Any, signed: Any) -> None:
    provenance_credentials.preview_credential_record(record=record, signed=signed)


def public_url(path: str) -> str:
    return provenance_credentials.public_url(path)


def match_summary(match: Match) -> dict[str, Any]:
    record = match.record
    return {
        "id": str(record.public_id),
        "subject": record.subject,
        "owner": record.owner,
        "content_sha256": record.content_sha256,
        "distance": match.distance,
        "status": record.state,
    }


# --- subscriptions: plans, payments, the payout ledger -------------------------------------------------------


def publication_quota_consume(*, artist: Any, artwork_public_id: UUID) -> None:
    """One unit of the artist's per-period publish quota, once per artwork (429 quota_exceeded when spent);
    in the caller's transaction, so a publish that fails gives it back."""
    subscription_services.usage_consume(
        user=artist, kind="publication", units=1, reference=f"artwork_publish:{artwork_public_id}"
    )


def allows_commercial_licences(*, user: Any) -> bool:
    return subscription_selectors.plan_allows_commercial_licences(user=user)


@dataclass(frozen=True)
class PaymentOutcome:
    id: UUID
    state: str
    client_secret: str

    @property
    def succeeded(self) -> bool:
        return self.state in PAID_PAYMENT_STATES


def _outcome(payment: Any) -> PaymentOutcome:
    return PaymentOutcome(id=payment.public_id, state=payment.state, client_secret=payment.client_secret)


def payment_charge(
    *,
    payer: Any,
    amount: int,
    currency: str,
    reference: str,
    payment_method: str,
    description: str,
    return_url: str = "",
) -> PaymentOutcome:
    """Charge outside any transaction; raises PaymentRequired (402) / ServiceUnavailable (503) on failure."""
    payment = subscription_services.payment_charge(
        payer=payer,
        amount=amount,
        currency=currency,
        purpose=PaymentPurpose.ORDER,
        reference=reference,
        payment_method=payment_method,
        description=description,
        return_url=return_url,
    )
    return _outcome(payment)


def order_reference_of_payment(payment: Any) -> str | None:
    """The order a payment signal is about (`order:<uuid>`), or None for other payments."""
    if payment.purpose != PaymentPurpose.ORDER or not payment.reference.startswith("order:"):
        return None
    return payment.reference.removeprefix("order:")


def payment_refund(*, payer: Any, payment_id: UUID, reason: str, actor: Any = None) -> PaymentOutcome:
    """Refund what is still refundable; a payment already fully refunded is left as it is."""
    payment = subscription_selectors.payment_get(user=payer, public_id=payment_id)
    if payment.refundable_amount > 0:
        payment = subscription_services.payment_refund(payment=payment, reason=reason, actor=actor)
    return _outcome(payment)


def payment_abandon_open(*, payer: Any, payment_id: UUID) -> None:
    """Give up on a payment still waiting for the payer (3-D Secure) or the provider; others are left alone."""
    payment = subscription_selectors.payment_get(user=payer, public_id=payment_id)
    if payment.state in OPEN_PAYMENT_STATES:
        subscription_services.payment_abandon(payment=payment)


def payment_state(*, payer: Any, payment_id: UUID) -> PaymentOutcome:
    return _outcome(subscription_selectors.payment_get(user=payer, public_id=payment_id))


def ledger_credit(*, user: Any, amount: int, currency: str, reference: str, memo: str) -> None:
    subscription_services.ledger_credit(user=user, amount=amount, currency=currency, reference=reference, memo=memo)


def ledger_debit(*, user: Any, amount: int, currency: str, reference: str, memo: str) -> None:
    subscription_services.ledger_debit(user=user, amount=amount, currency=currency, reference=reference, memo=memo)


# --- generation ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedSource:
    image: Any
    lineage: dict[str, Any]
    original: bytes


def generated_image(*, user: Any, public_id: UUID) -> GeneratedSource:
    """The user's own generated image (another user's is a 404), its lineage and its original PNG."""
    image = generation_selectors.generated_image_get(user=user, public_id=public_id)
    return GeneratedSource(
        image=image,
        lineage=generation_selectors.generated_image_lineage(image=image),
        original=generation_selectors.generated_image_read(image=image, variant="original"),
    )
