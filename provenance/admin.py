"""Operators' view of provenance: records, batches and the chain outbox (read-only), with the actions to
re-send a transaction or re-anchor a batch, and a chain status header above the batch and transaction lists."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import ReadOnlyAdmin
from core.errors import AtelierError
from provenance import selectors, services
from provenance.connection import chain_connect
from provenance.models import (
    AnchorBatch,
    ChainDeployment,
    ChainTransaction,
    GasBreaker,
    OwnershipEvent,
    ProvenanceRecord,
    SenderNonce,
)


class ChainStatusAdmin(ReadOnlyAdmin):
    change_list_template = "admin/provenance/change_list_with_chain_status.html"

    def changelist_view(self, request: HttpRequest, extra_context=None):
        return super().changelist_view(
            request, extra_context={**(extra_context or {}), "chain_status": selectors.chain_status()}
        )


@admin.register(ProvenanceRecord)
class ProvenanceRecordAdmin(ReadOnlyAdmin):
    list_display = ("subject", "content_sha256", "state", "owner", "batch", "created_at")
    list_filter = ("state",)
    search_fields = ("content_sha256", "subject", "creator", "owner", "=public_id")
    list_select_related = ("batch",)
    exclude = ("proof",)


@admin.register(AnchorBatch)
class AnchorBatchAdmin(ChainStatusAdmin):
    list_display = ("root", "leaf_count", "state", "transaction", "block_number", "confirmations", "created_at")
    list_filter = ("state", "chain_id")
    search_fields = ("root",)
    list_select_related = ("transaction",)
    actions = ["reanchor"]

    @admin.action(description="Re-anchor (batches whose transaction failed or was lost)")
    def reanchor(self, request: HttpRequest, queryset: QuerySet) -> None:
        for batch in queryset:
            try:
                services.batch_reanchor(batch=batch)
                self.message_user(request, f"{batch}: queued for anchoring again.")
            except AtelierError as exc:
                self.message_user(request, f"{batch}: {exc.detail}", level=messages.ERROR)


@admin.register(ChainTransaction)
class ChainTransactionAdmin(ChainStatusAdmin):
    list_display = (
        "id",
        "kind",
        "state",
        "nonce",
        "tx_hash",
        "attempts",
        "replacements",
        "block_number",
        "confirmations",
        "updated_at",
    )
    list_filter = ("state", "kind", "chain_id")
    search_fields = ("tx_hash", "sender")
    exclude = ("raw", "data")
    actions = ["resend"]

    @admin.action(description="Re-send (broadcast the stored bytes again; re-queue failed or lost work)")
    def resend(self, request: HttpRequest, queryset: QuerySet) -> None:
        try:
            chain = chain_connect()
        except Exception as exc:
            self.message_user(request, f"Cannot reach the chain: {exc}", level=messages.ERROR)
            return
        for tx in queryset.order_by("nonce", "id"):
            try:
                outcome = services.transaction_resend(chain=chain, tx=tx)
                self.message_user(request, f"{tx}: {outcome}.")
            except AtelierError as exc:
                self.message_user(request, f"{tx}: {exc.detail}", level=messages.ERROR)
            except Exception as exc:
                self.message_user(request, f"{tx}: {type(exc).__name__}: {exc}", level=messages.ERROR)


@admin.register(OwnershipEvent)
class OwnershipEventAdmin(ReadOnlyAdmin):
    list_display = ("content_sha256", "from_ref", "to_ref", "state", "occurred_at", "transaction")
    list_filter = ("state",)
    search_fields = ("content_sha256", "from_ref", "to_ref", "reference")


@admin.register(ChainDeployment)
class ChainDeploymentAdmin(ReadOnlyAdmin):
    list_display = ("chain_id", "registry_address", "block_number", "redeployments", "updated_at")


@admin.register(SenderNonce)
class SenderNonceAdmin(ReadOnlyAdmin):
    list_display = ("chain_id", "sender", "next_nonce", "updated_at")


@admin.register(GasBreaker)
class GasBreakerAdmin(ReadOnlyAdmin):
    """When the daily gas budget last tripped and who reset it; the reset itself is on the staff dashboard."""

    list_display = ("chain_id", "tripped_at", "tripped_spent_wei", "reset_at", "reset_by")
