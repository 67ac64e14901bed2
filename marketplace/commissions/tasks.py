"""Background work: the periodic sweep, and refunds that must not be lost (task rows written in the
transaction that cancelled or expired the commission)."""

from django.tasks import task


@task(queue_name="default")
def commissions_sweep_task() -> dict[str, int]:
    from marketplace.commissions.services import commissions_sweep

    return commissions_sweep()


@task(queue_name="default")
def refund_commission_task(commission_pk: int) -> str:
    from marketplace.commissions.services import commission_refund

    return "refunded" if commission_refund(commission_pk=commission_pk) else "nothing to refund"
