"""Provenance write services (see DESIGN.md): other apps call these, and `selectors` for reads."""

from provenance.selectors import NearDuplicate, near_duplicates
from provenance.services.batching import batch_build, batch_reanchor, batches_build
from provenance.services.confirming import transactions_confirm
from provenance.services.deployment import DeploymentOutcome, deployment_ensure
from provenance.services.gas_budget import GasBudget, gas_breaker_reset, gas_budget_status
from provenance.services.importing import RecordEntry, records_import
from provenance.services.lineage import lineage_record_register
from provenance.services.reconciling import chain_reconcile
from provenance.services.records import (
    FileHashes,
    hash_file,
    ownership_transfer,
    record_register,
    registration_lock,
)
from provenance.services.sending import transaction_resend, transactions_send

__all__ = [
    "DeploymentOutcome",
    "FileHashes",
    "GasBudget",
    "NearDuplicate",
    "RecordEntry",
    "batch_build",
    "batch_reanchor",
    "batches_build",
    "chain_reconcile",
    "deployment_ensure",
    "gas_breaker_reset",
    "gas_budget_status",
    "hash_file",
    "lineage_record_register",
    "near_duplicates",
    "ownership_transfer",
    "record_register",
    "registration_lock",
    "records_import",
    "transaction_resend",
    "transactions_confirm",
    "transactions_send",
]
