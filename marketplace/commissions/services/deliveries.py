"""Deliveries: the artist uploads images, or has one of their own models generate them (the delivery waits for
the generation job, then attaches its images); the client accepts the delivery (the artist is paid) or asks
for a revision, within the number of revisions the accepted offer included.
"""

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.errors import Conflict, InvalidInput, InvalidTransition
from marketplace.commissions import conf, ports
from marketplace.commissions.errors import CommissionError
from marketplace.commissions.locks import lock_commission, lock_delivery
from marketplace.commissions.models import Commission, CommissionState, Delivery, DeliveryImage, DeliveryState
from marketplace.commissions.services._common import check_future, check_not_overdue, role_of
from marketplace.commissions.services._files import clean_uploads, delete_quietly, save_exact
from marketplace.commissions.services._history import commission_transition
from marketplace.commissions.transitions import ARTIST, SYSTEM, transition_check

logger = logging.getLogger("atelier.commissions")


def _image_path(delivery_public_id: Any, index: int) -> str:
    return f"commissions/deliveries/{delivery_public_id}/{index:02d}.png"


def _check_can_deliver(commission: Commission, *, user: Any, now: datetime) -> str:
    """Who may deliver now: the commission's artist, while awarded or asked for a revision, before the due
    date, with no other delivery still generating."""
    role = role_of(commission=commission, user=user)
    transition_check(state=commission.state, action="deliver", actor=role)
    check_not_overdue(commission, now=now, action="deliver")
    if commission.deliveries.filter(state=DeliveryState.GENERATING).exists():
        raise Conflict(
            "A delivery is still being generated for this commission.",
            code=CommissionError.DELIVERY_IN_PROGRESS,
            state=commission.state,
        )
    return role


def _next_number(commission: Commission) -> int:
    return (commission.deliveries.aggregate(top=Max("number"))["top"] or 0) + 1


def _delivered(*, commission: Commission, delivery: Delivery, actor: Any, role: str) -> None:
    commission_transition(
        commission=commission,
        action="deliver",
        actor=actor,
        actor_role=role,
        note=delivery.note,
        data={"delivery": str(delivery.public_id), "number": delivery.number, "images": delivery.images.count()},
    )


def delivery_upload(*, commission: Commission, artist: Any, files: Sequence[Any], note: str = "") -> Delivery:
    """Deliver uploaded images (validated and re-encoded like every upload)."""
    _check_can_deliver(commission, user=artist, now=timezone.now())  # before storing anything
    cleaned = clean_uploads(files=files, field="images", max_count=conf.get("COMMISSION_MAX_DELIVERY_IMAGES"))
    if not cleaned:
        raise InvalidInput("Attach at least one image.", field="images")
    public_id, paths = uuid.uuid4(), []
    try:
        for index, item in enumerate(cleaned):
            paths.append(save_exact(_image_path(public_id, index), item.image.data))
        with transaction.atomic():
            locked = lock_commission(commission.pk)
            now = timezone.now()
            role = _check_can_deliver(locked, user=artist, now=now)
            delivery = Delivery.objects.create(
                public_id=public_id,
                commission=locked,
                artist=artist,
                number=_next_number(locked),
                state=DeliveryState.DELIVERED,
                note=note.strip(),
                delivered_at=now,
            )
            DeliveryImage.objects.bulk_create(
                [
                    DeliveryImage(
                        delivery=delivery,
                        index=index,
                        file=path,
                        sha256=item.image.sha256,
                        width=item.image.width,
                        height=item.image.height,
                        original_name=item.name,
                    )
                    for index, (item, path) in enumerate(zip(cleaned, paths, strict=True))
                ]
            )
            _delivered(commission=locked, delivery=delivery, actor=artist, role=role)
    except BaseException:
        delete_quietly(paths)
        raise
    return delivery


def delivery_generate(
    *, commission: Commission, artist: Any, model: UUID, count: int, seed: int | None = None, note: str = ""
) -> Delivery:
    """Deliver `count` images drawn by one of the artist's own models (seeds `seed`, `seed`+1, …; random when
    omitted). The delivery is `generating` until its job finishes; it counts as made when it was asked for."""
    _check_can_deliver(commission, user=artist, now=timezone.now())
    version = ports.own_model(artist=artist, public_id=model)  # another artist's model: 404
    if commission.target_model_id is not None and version.pk != commission.target_model_id:
        raise InvalidInput("This brief asks for a specific model; deliver with that one.", field="model")
    limit = conf.get("COMMISSION_MAX_DELIVERY_IMAGES")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= limit:
        raise InvalidInput(f"count must be between 1 and {limit}.", field="count", limit=limit)
    seeds = ports.seeds_from(seed=seed, count=count)
    with transaction.atomic():
        locked = lock_commission(commission.pk)
        _check_can_deliver(locked, user=artist, now=timezone.now())
        job = ports.start_job(artist=artist, model_version=version, count=count, seeds=seeds)
        delivery = Delivery.objects.create(
            commission=locked,
            artist=artist,
            number=_next_number(locked),
            state=DeliveryState.GENERATING,
            note=note.strip(),
            generation_job=job,
        )
    return delivery


def delivery_generation_settle(*, delivery_pk: int) -> bool:
    """Attach a finished job's images and deliver; or mark the delivery failed (the job failed, or the
    commission was cancelled or expired meanwhile). Idempotent: True only for the call that settled it."""
    delivery = Delivery.objects.select_related("commission", "artist", "generation_job").get(pk=delivery_pk)
    job = delivery.generation_job
    if delivery.state != DeliveryState.GENERATING or job is None or not ports.job_finished(job):
        return False
    images, paths = ports.job_images(artist=delivery.artist, job=job), []
    try:
        for index, image in enumerate(images):  # files first, outside the transaction
            paths.append(save_exact(_image_path(delivery.public_id, index), ports.image_bytes(image)))
        with transaction.atomic():
            commission = lock_commission(delivery.commission_id)
            locked = lock_delivery(delivery_pk)
            if locked.state != DeliveryState.GENERATING:
                return False
            awaiting = commission.state in (CommissionState.AWARDED, CommissionState.REVISION_REQUESTED)
            if not images or not awaiting:
                locked.state = DeliveryState.FAILED
                locked.failure_reason = (
                    ports.job_error(job)
                    if not images
                    else f"The commission is {commission.state}; the images were not delivered."
                )
                locked.save(update_fields=["state", "failure_reason", "updated_at"])
                transaction.on_commit(lambda: delete_quietly(paths))
                return True
            DeliveryImage.objects.bulk_create(
                [
                    DeliveryImage(
                        delivery=locked,
                        index=index,
                        file=path,
                        sha256=image.sha256,
                        width=image.width,
                        height=image.height,
                        generated_image=image,
                        seed=image.seed,
                    )
                    for index, (image, path) in enumerate(zip(images, paths, strict=True))
                ]
            )
            locked.state, locked.delivered_at = DeliveryState.DELIVERED, timezone.now()
            locked.save(update_fields=["state", "delivered_at", "updated_at"])
            _delivered(commission=commission, delivery=locked, actor=delivery.artist, role=ARTIST)
    except BaseException:
        # Another settle may have stored the same names (same bytes); only a failure before commit cleans up.
        if Delivery.objects.filter(pk=delivery_pk, state=DeliveryState.GENERATING).exists():
            delete_quietly(paths)
        raise
    return True


def delivery_generation_settle_for_job(*, job_public_id: Any) -> int:
    pks = Delivery.objects.filter(generation_job__public_id=job_public_id, state=DeliveryState.GENERATING).values_list(
        "pk", flat=True
    )
    return sum(delivery_generation_settle(delivery_pk=pk) for pk in list(pks))


def _lock_for_review(delivery: Delivery, *, client: Any, action: str) -> tuple[Commission, Delivery, str]:
    commission = lock_commission(delivery.commission_id)
    role = role_of(commission=commission, user=client)
    locked = lock_delivery(delivery.pk)
    transition_check(state=commission.state, action=action, actor=role)
    if locked.state != DeliveryState.DELIVERED:
        raise InvalidTransition(entity="delivery", state=locked.state, action=action.replace("_delivery", ""))
    return commission, locked, role


def commission_complete(
    *, commission: Commission, delivery: Delivery, action: str, actor: Any = None, role: str = SYSTEM, note: str = ""
) -> None:
    """Accept the delivery and release the payment: the artist is credited the price less the platform fee.
    Runs in the caller's transaction, on locked rows."""
    now = timezone.now()
    delivery.state, delivery.reviewed_at = DeliveryState.ACCEPTED, now
    delivery.save(update_fields=["state", "reviewed_at", "updated_at"])
    commission_transition(
        commission=commission,
        action=action,
        actor=actor,
        actor_role=role,
        note=note,
        data={
            "delivery": str(delivery.public_id),
            "payout": commission.payout_amount,
            "platform_fee": commission.platform_fee,
            "currency": commission.currency,
        },
    )
    ports.credit_artist(commission=commission)


def delivery_accept(*, delivery: Delivery, client: Any, note: str = "") -> Commission:
    with transaction.atomic():
        commission, locked, role = _lock_for_review(delivery, client=client, action="accept_delivery")
        commission_complete(
            commission=commission, delivery=locked, action="accept_delivery", actor=client, role=role, note=note
        )
    return commission


def delivery_request_revision(
    *, delivery: Delivery, client: Any, note: str, deadline: datetime | None = None
) -> Commission:
    """Ask for a revision of the latest delivery, within the offer's included revisions (then 409). The artist
    gets until `deadline` (optional, only ever later) and at least COMMISSION_REVISION_MIN_WINDOW."""
    if not note or not note.strip():
        raise InvalidInput("Say what should change.", field="note")
    now = timezone.now()
    if deadline is not None:
        deadline = check_future(deadline, field="deadline", now=now)
    with transaction.atomic():
        commission, locked, role = _lock_for_review(delivery, client=client, action="request_revision")
        if commission.revisions_used >= commission.revisions_allowed:
            raise Conflict(
                f"The offer included {commission.revisions_allowed} revision(s), all used; accept the "
                "delivery instead.",
                code=CommissionError.REVISION_LIMIT_REACHED,
                state=commission.state,
                revisions_allowed=commission.revisions_allowed,
                revisions_used=commission.revisions_used,
            )
        floor = now + conf.get("COMMISSION_REVISION_MIN_WINDOW")
        commission.due_at = max(commission.due_at, floor, deadline or floor)
        commission.revisions_used += 1
        locked.state, locked.reviewed_at, locked.feedback = DeliveryState.REVISION_REQUESTED, now, note.strip()
        locked.save(update_fields=["state", "reviewed_at", "feedback", "updated_at"])
        commission_transition(
            commission=commission,
            action="request_revision",
            actor=client,
            actor_role=role,
            note=note.strip(),
            data={
                "delivery": str(locked.public_id),
                "revision": commission.revisions_used,
                "revisions_allowed": commission.revisions_allowed,
                "due_at": commission.due_at.isoformat(),
            },
        )
    return commission


__all__ = [
    "commission_complete",
    "delivery_accept",
    "delivery_generate",
    "delivery_generation_settle",
    "delivery_generation_settle_for_job",
    "delivery_request_revision",
    "delivery_upload",
]
