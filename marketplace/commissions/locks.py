"""The commissions app's row locks, all here (house rule 5): parents before children, so the commission first,
then its offers or deliveries; within a table, rows in primary-key order. Call inside `transaction.atomic()`."""

from marketplace.commissions.models import Commission, Delivery, Offer


def lock_commission(pk: int) -> Commission:
    """The commission row, locked (with its client and artist joined, not locked)."""
    return Commission.objects.select_for_update(of=("self",)).select_related("client", "artist").get(pk=pk)


def lock_offer(pk: int) -> Offer:
    return Offer.objects.select_for_update(of=("self",)).select_related("artist").get(pk=pk)


def lock_delivery(pk: int) -> Delivery:
    return Delivery.objects.select_for_update(of=("self",)).get(pk=pk)


def lock_latest_delivery(commission: Commission, *, state: str) -> Delivery | None:
    """The commission's newest delivery in `state` (one row: the highest number)."""
    return (
        Delivery.objects.select_for_update(of=("self",))
        .filter(commission=commission, state=state)
        .order_by("-number")
        .first()
    )
