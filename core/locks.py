"""Core's row locks (house rule 5): a job row of any JobMixin model, and whole tables rewritten in place.
Rows are locked in primary-key order. Call inside `transaction.atomic()`. (Claims that skip rows another
worker holds, SKIP LOCKED in the job sweep and the scheduler, stay with the query they claim by.)"""

from django.db.models import Model, QuerySet


def lock_row[M: Model](model: type[M], pk: int) -> M:
    return model.objects.select_for_update().get(pk=pk)


def lock_rows(queryset: QuerySet) -> QuerySet:
    """The queryset's rows, locked in primary-key order as it is read."""
    return queryset.select_for_update().order_by("pk")
