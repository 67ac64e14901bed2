"""Provenance settings with their defaults (read at call time, so tests can override them)."""

from django.conf import settings

DEFAULTS = {
    "PROVENANCE_BATCH_INTERVAL_SECONDS": 10,  # the batcher runs at least this often...
    "PROVENANCE_BATCH_MAX": 256,  # ...and as soon as this many records are pending; also the largest batch
    "PROVENANCE_SEND_INTERVAL_SECONDS": 5,
    "PROVENANCE_CONFIRM_INTERVAL_SECONDS": 5,
    "PROVENANCE_RECONCILE_INTERVAL_SECONDS": 60,
    "PROVENANCE_REPLACE_AFTER_SECONDS": 120,  # a sent transaction still pending after this is re-priced
    "PROVENANCE_REBROADCAST_GRACE_SECONDS": 30,  # the reconciler leaves younger transactions to the sender
    "PROVENANCE_VERIFY_MAX_BYTES": 25 * 1024 * 1024,
    "PROVENANCE_PDQ_MIN_QUALITY": 50,  # below this PDQ hashes match noise; they are not used for matching
    # PDQ of a small image moves more under re-encoding (at 32 px one hash cell is half a pixel): a query
    # whose shorter side is under PROVENANCE_PDQ_SMALL_SIDE matches within the wider distance (DESIGN.md)
    "PROVENANCE_PDQ_SMALL_SIDE": 128,
    "PROVENANCE_PDQ_SMALL_MATCH_DISTANCE": 48,
    "CHAIN_MAX_FEE_PER_GAS_WEI": 500 * 10**9,  # fee ceiling for replacements
    "CHAIN_RECEIPT_TIMEOUT_SECONDS": 60.0,  # how long chain_deploy waits for its deployment
    "CHAIN_DAILY_GAS_BUDGET_WEI": 10**17,  # per UTC day, at gas limit x max fee; 0 = no cap (gas_budget.py)
    # ownership transfers signed together in one record_transfers call; 1 = one record_transfer call each
    # (what a registry deployed before record_transfers existed needs)
    "PROVENANCE_TRANSFER_BATCH_MAX": 32,
    # Content Credentials (C2PA): sign previews and delivered originals; chain/key/anchors are PEM file paths
    # (empty outside production: a development CA under PROVENANCE_C2PA_DEV_DIR, made on first use)
    "PROVENANCE_C2PA_SIGNING": True,
    "PROVENANCE_C2PA_CERT_CHAIN": "",
    "PROVENANCE_C2PA_PRIVATE_KEY": "",
    "PROVENANCE_C2PA_TRUST_ANCHORS": "",
    "PROVENANCE_C2PA_DEV_DIR": "var/c2pa",
    "PUBLIC_BASE_URL": "",
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])
