"""Hear what other apps report after commit: generation jobs finishing (a delivery waits for its job) and
payments settling later (3-D Secure). Receivers only hand over to services; a failure here is logged and left
to the periodic sweep, which repairs the same states."""

import logging

from django.dispatch import receiver

from core.events import event_committed
from marketplace.commissions import ports
from marketplace.commissions.models import Commission
from marketplace.commissions.services import commission_payment_sync, delivery_generation_settle_for_job
from marketplace.subscriptions.signals import payment_failed, payment_succeeded

logger = logging.getLogger("atelier.commissions")
GENERATION_FINISHED = {"generation.succeeded", "generation.failed", "generation.cancelled"}


@receiver(event_committed, dispatch_uid="commissions.generation_finished")
def generation_finished(sender, event, **kwargs) -> None:
    if event.type not in GENERATION_FINISHED or "generation_job" not in event.payload:
        return
    try:
        delivery_generation_settle_for_job(job_public_id=event.payload["generation_job"])
    except Exception:
        logger.exception("could not settle the delivery of generation job %s", event.payload["generation_job"])


def _sync_payment(payment) -> None:
    public_id = ports.commission_public_id_of(payment)
    if public_id is None:
        return
    try:
        pk = Commission.objects.filter(public_id=public_id).values_list("pk", flat=True).first()
        if pk is not None:
            commission_payment_sync(commission_pk=pk)
    except Exception:
        logger.exception("could not apply payment %s to commission %s", payment.public_id, public_id)


@receiver(payment_succeeded, dispatch_uid="commissions.payment_succeeded")
def on_payment_succeeded(sender, payment, **kwargs) -> None:
    _sync_payment(payment)


@receiver(payment_failed, dispatch_uid="commissions.payment_failed")
def on_payment_failed(sender, payment, **kwargs) -> None:
    _sync_payment(payment)
