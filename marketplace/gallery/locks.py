"""The gallery's row locks, all here (house rule 5). Across tables the order is artwork, then listing, then
order: an order's insert takes key-share locks on its artwork and listing, so any other order deadlocks
concurrent buyers (seen with 50 threads on PostgreSQL). Within a table, rows are locked in primary-key order.
Call inside `transaction.atomic()`."""

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet

from marketplace.gallery.models import Artwork, Listing, Order


def lock_artwork(pk: int) -> Artwork:
    return Artwork.objects.select_for_update().get(pk=pk)


def lock_listing(pk: int) -> Listing:
    return Listing.objects.select_for_update().get(pk=pk)


def lock_listings(**filters: Any) -> list[Listing]:
    return list(Listing.objects.select_for_update().filter(**filters).order_by("pk"))


def lock_order(pk: int, *, related: Sequence[str] = (), only_self: bool = False) -> Order:
    """The order; `related` rows are joined (and, unless `only_self`, locked with it on PostgreSQL)."""
    orders = Order.objects.select_for_update(of=("self",)) if only_self else Order.objects.select_for_update()
    return orders.select_related(*related).get(pk=pk) if related else orders.get(pk=pk)


def lock_first_order(**filters: Any) -> Order | None:
    """The lowest-keyed order matching, locked (None if there is none)."""
    return Order.objects.select_for_update().filter(**filters).first()


def lock_orders(**filters: Any) -> QuerySet[Order]:
    """Matching orders, locked in primary-key order as the query is read."""
    return Order.objects.select_for_update().filter(**filters).order_by("pk")
