"""Provenance rows: records of published content, the Merkle batches that anchor them on chain, ownership
transfers, and the chain outbox (signed transactions, per-sender nonces, the registry deployment per chain).

Subjects, creators and owners are opaque reference strings (`gallery.artwork:<uuid>`, `accounts.user:<uuid>`):
this app never imports the marketplace. `owner_user` is an optional link used only to address domain events.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import BaseModel

HASH_NODE_BYTES = 32


class RecordState(models.TextChoices):
    PENDING = "pending"  # written, waiting for the batcher
    BATCHED = "batched"  # in a Merkle batch whose anchor transaction is not yet mined
    ANCHORED = "anchored"  # the batch root is in a block
    CONFIRMED = "confirmed"  # ... CHAIN_CONFIRMATIONS blocks deep


class AnchorState(models.TextChoices):
    """State of the on-chain write of a batch or an ownership event."""

    PENDING = "pending"  # waiting for its transaction to be signed
    SENT = "sent"  # signed (and stored) and handed to the node
    ANCHORED = "anchored"  # mined
    CONFIRMED = "confirmed"  # deep enough
    FAILED = "failed"  # the transaction reverted; see the transaction's last_error


class TxKind(models.TextChoices):
    DEPLOY = "deploy"
    ANCHOR_BATCH = "anchor_batch"
    RECORD_TRANSFER = "record_transfer"


class TxState(models.TextChoices):
    PENDING = "pending"  # intent only: no nonce, nothing signed
    SIGNED = "signed"  # nonce allocated, raw bytes and hash stored, maybe not yet broadcast
    SENT = "sent"  # the node accepted the raw bytes at least once
    MINED = "mined"  # in a block, fewer than CHAIN_CONFIRMATIONS deep
    CONFIRMED = "confirmed"
    FAILED = "failed"  # mined and reverted
    LOST = "lost"  # the node no longer knows it and its nonce is gone (or the chain was reset): work re-queued
    MERGED = "merged"  # an intent folded into another PENDING row (replaced_by) before signing; never signed


IN_FLIGHT_TX_STATES = (TxState.SIGNED, TxState.SENT, TxState.MINED)


class ChainDeployment(BaseModel):
    """The ProvenanceRegistry this installation uses on each chain."""

    chain_id = models.PositiveBigIntegerField(unique=True)
    registry_address = models.CharField(max_length=42)
    deployer = models.CharField(max_length=42)
    transaction = models.ForeignKey(
        "ChainTransaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    block_number = models.PositiveBigIntegerField(null=True, blank=True)
    redeployments = models.PositiveIntegerField(default=0)
    previous_addresses = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"chain {self.chain_id}: {self.registry_address}"


class SenderNonce(models.Model):
    """The next nonce of a signing account on a chain; locked (select_for_update) while a transaction is signed."""

    chain_id = models.PositiveBigIntegerField()
    sender = models.CharField(max_length=42)
    next_nonce = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain_id", "sender"], name="provenance_nonce_per_sender")]

    def __str__(self) -> str:
        return f"{self.sender}@{self.chain_id}: {self.next_nonce}"


class ChainTransaction(BaseModel):
    """The chain outbox. A row is written (PENDING, an intent with its arguments in `payload`) in the same
    database transaction as the change that needs it; the sender allocates its nonce, signs it and stores the
    raw bytes and hash *before* broadcasting, so a crash at any point leaves bytes that can be re-broadcast."""

    chain_id = models.PositiveBigIntegerField(db_index=True)
    kind = models.CharField(max_length=20, choices=TxKind.choices)
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=12, choices=TxState.choices, default=TxState.PENDING, db_index=True)
    sender = models.CharField(max_length=42, blank=True)
    nonce = models.PositiveBigIntegerField(null=True, blank=True)
    to_address = models.CharField(max_length=42, blank=True)
    data = models.BinaryField(null=True, blank=True)
    gas = models.PositiveBigIntegerField(null=True, blank=True)
    max_fee_per_gas = models.PositiveBigIntegerField(null=True, blank=True)
    max_priority_fee_per_gas = models.PositiveBigIntegerField(null=True, blank=True)
    raw = models.BinaryField(null=True, blank=True)
    tx_hash = models.CharField(max_length=66, blank=True, db_index=True)
    hashes = models.JSONField(default=list, blank=True)  # every hash signed for this nonce (replacements)
    attempts = models.PositiveIntegerField(default=0)  # broadcasts
    replacements = models.PositiveIntegerField(default=0)
    signed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # first broadcast of the current raw bytes
    last_broadcast_at = models.DateTimeField(null=True, blank=True)
    block_number = models.PositiveBigIntegerField(null=True, blank=True)
    confirmations = models.PositiveIntegerField(default=0)
    contract_address = models.CharField(max_length=42, blank=True)
    last_error = models.TextField(blank=True)
    replaced_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            # The last guard against a reused nonce; a LOST row's nonce may be reused (chain reset).
            models.UniqueConstraint(
                fields=["chain_id", "sender", "nonce"], condition=~Q(state="lost"), name="provenance_tx_nonce_unique"
            ),
        ]
        indexes = [models.Index(fields=["chain_id", "state", "nonce"], name="provenance_tx_state_nonce")]

    def __str__(self) -> str:
        nonce = "-" if self.nonce is None else self.nonce
        return f"{self.kind} #{nonce} {self.state} {self.tx_hash or ''}".strip()


class AnchorBatch(BaseModel):
    chain_id = models.PositiveBigIntegerField()
    root = models.CharField(max_length=66, unique=True)  # 0x-hex
    leaf_count = models.PositiveIntegerField()
    state = models.CharField(max_length=12, choices=AnchorState.choices, default=AnchorState.PENDING, db_index=True)
    transaction = models.ForeignKey(
        ChainTransaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="batches"
    )
    registry_address = models.CharField(max_length=42, blank=True)
    block_number = models.PositiveBigIntegerField(null=True, blank=True)
    confirmations = models.PositiveIntegerField(default=0)
    anchored_at = models.DateTimeField(null=True, blank=True)  # the block's time
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "anchor batches"

    def __str__(self) -> str:
        return f"batch {self.root[:12]}… ({self.leaf_count}, {self.state})"


class ProvenanceRecord(BaseModel):
    content_sha256 = models.CharField(max_length=64, unique=True)  # lowercase hex of the original bytes
    pdq = models.CharField(max_length=64)
    pdq_quality = models.PositiveSmallIntegerField()
    subject = models.CharField(max_length=255, db_index=True)
    creator = models.CharField(max_length=255)
    owner = models.CharField(max_length=255)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=12, choices=RecordState.choices, default=RecordState.PENDING, db_index=True)
    batch = models.ForeignKey(AnchorBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="records")
    leaf_index = models.PositiveIntegerField(null=True, blank=True)
    proof = models.BinaryField(default=b"", blank=True)  # sibling hashes, 32 bytes each, leaf to root
    anchored_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Lineage (provenance/lineage.py): dataset <- model version <- artwork <- licence sale. A derived record
    # (dataset, model version, licence) commits to `manifest` (content_sha256 = sha256 of its canonical JSON)
    # and puts its parent's content_sha256 in the leaf's perceptual-hash slot, so the link is on chain too.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    manifest = models.JSONField(default=dict, blank=True)  # {} for artworks (their content is the file)
    disclosure = models.JSONField(default=dict, blank=True)  # shown, not committed (a public dataset's images)
    # The 48-bit key (12 hex digits) the work's files carry in provenance.fingerprints.watermark, so verify finds
    # the record from a copy whose bytes and PDQ changed. Not derived from content_sha256 (the marked bytes are
    # what is hashed); '' when nothing carries one. Records from before 0005 carry the sha256's first 48 bits.
    watermark_key = models.CharField(max_length=12, blank=True, default="", db_index=True)

    def __str__(self) -> str:
        return f"{self.subject} {self.content_sha256[:12]}… ({self.state})"

    @property
    def kind(self) -> str:
        return str(self.manifest.get("kind") or "artwork") if self.manifest else "artwork"

    @property
    def proof_nodes(self) -> list[bytes]:
        raw = bytes(self.proof or b"")
        return [raw[i : i + HASH_NODE_BYTES] for i in range(0, len(raw), HASH_NODE_BYTES)]


class OwnershipEvent(BaseModel):
    record = models.ForeignKey(ProvenanceRecord, on_delete=models.PROTECT, related_name="ownership_events")
    content_sha256 = models.CharField(max_length=64, db_index=True)
    from_ref = models.CharField(max_length=255)
    to_ref = models.CharField(max_length=255)
    reference = models.CharField(max_length=255, unique=True)  # the caller's idempotency reference
    occurred_at = models.DateTimeField()
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=12, choices=AnchorState.choices, default=AnchorState.PENDING, db_index=True)
    transaction = models.ForeignKey(
        ChainTransaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="ownership_events"
    )
    block_number = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.content_sha256[:12]}… {self.from_ref} → {self.to_ref}"


class GasBreaker(BaseModel):
    """The daily gas budget's circuit breaker of a chain (one row per chain, made on first use).

    Open while `tripped_at` falls in the current budget window, which starts at UTC midnight or at the last
    staff reset, whichever is later: the sender signs nothing new (the outbox keeps its PENDING rows), and it
    closes by itself the next day or when staff reset it."""

    chain_id = models.PositiveBigIntegerField(unique=True)
    tripped_at = models.DateTimeField(null=True, blank=True)
    tripped_spent_wei = models.DecimalField(max_digits=40, decimal_places=0, null=True, blank=True)
    reset_at = models.DateTimeField(null=True, blank=True)
    reset_by = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"gas breaker of chain {self.chain_id}"


class ContentCredential(BaseModel):
    """A C2PA manifest Atelier signed into a stored file (a work's public preview): which record it points to and
    the sha256 of the manifest store, so certificates can name it and verify can tell it is one we issued."""

    class Asset(models.TextChoices):
        PREVIEW = "preview"

    record = models.ForeignKey(ProvenanceRecord, on_delete=models.PROTECT, related_name="credentials")
    asset = models.CharField(max_length=12, choices=Asset.choices)
    manifest_sha256 = models.CharField(max_length=64, db_index=True)  # of the embedded manifest store (JUMBF)
    asset_sha256 = models.CharField(max_length=64)  # of the signed file
    manifest_label = models.CharField(max_length=120, blank=True)
    signer = models.CharField(max_length=255, blank=True)  # the signing certificate's subject

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record", "asset"], name="provenance_credential_per_asset")]

    def __str__(self) -> str:
        return f"{self.asset} manifest {self.manifest_sha256[:12]}… of record {self.record_id}"
