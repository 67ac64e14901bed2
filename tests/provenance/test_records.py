"""Registration, transfers and near-duplicate search at the service level (no chain needed)."""

import hashlib

import pytest
from django.db import transaction

from core.errors import Conflict, InvalidInput, NotFound
from core.models import DomainEvent
from provenance.models import ChainTransaction, OwnershipEvent, ProvenanceRecord, RecordState, TxKind, TxState
from provenance.services import (
    RecordEntry,
    batch_build,
    hash_file,
    near_duplicates,
    ownership_transfer,
    record_register,
    records_import,
)
from tests.provenance.helpers import image_bytes

pytestmark = pytest.mark.django_db

SHA = "ab" * 32
PDQ = "f0" * 32


def register(**overrides):
    fields = {
        "content_sha256": SHA,
        "pdq": PDQ,
        "pdq_quality": 100,
        "subject": "gallery.artwork:1",
        "creator": "accounts.user:1",
        "owner": "accounts.user:1",
    } | overrides
    return record_register(**fields)


def test_register_writes_a_pending_record_with_normalised_hashes():
    record = register(content_sha256="0x" + SHA.upper(), pdq=PDQ.upper())
    assert record.state == RecordState.PENDING
    assert (record.content_sha256, record.pdq) == (SHA, PDQ)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("content_sha256", "ab" * 31, "invalid_sha256"),
        ("content_sha256", "zz" * 32, "invalid_sha256"),
        ("pdq", "12", "invalid_pdq"),
        ("pdq_quality", 101, "invalid"),
        ("pdq_quality", True, "invalid"),
        ("subject", "", "invalid_reference"),
        ("owner", "x" * 256, "invalid_reference"),
    ],
)
def test_register_rejects_malformed_input_and_writes_nothing(field, value, code):
    with pytest.raises(InvalidInput) as error:
        register(**{field: value})
    assert error.value.code == code and field in error.value.extra["errors"]
    assert not ProvenanceRecord.objects.exists()


def test_registering_the_same_content_again_returns_the_first_record_unchanged():
    first = register()
    again = register(subject="gallery.artwork:2", owner="accounts.user:2")
    assert again.pk == first.pk and again.subject == "gallery.artwork:1"
    assert ProvenanceRecord.objects.count() == 1


def test_registration_rolls_back_with_the_callers_transaction():
    with pytest.raises(RuntimeError), transaction.atomic():
        register()
        raise RuntimeError("the caller's own write failed")
    assert not ProvenanceRecord.objects.exists()


def test_batch_build_stores_leaf_indexes_proofs_and_one_outbox_transaction():
    for index in range(3):
        register(content_sha256=f"{index:064x}")
    batch = batch_build()
    assert batch.leaf_count == 3
    assert sorted(batch.records.values_list("leaf_index", flat=True)) == [0, 1, 2]
    # the odd leaf moves up unchanged, so its proof is one node shorter
    assert [len(r.proof_nodes) for r in batch.records.order_by("leaf_index")] == [2, 2, 1]
    tx = batch.transaction
    assert tx.kind == TxKind.ANCHOR_BATCH and tx.state == TxState.PENDING and tx.payload["root"] == batch.root
    assert batch_build() is None  # nothing pending any more


def test_hash_file_hashes_the_original_bytes_and_the_pixels():
    raw = image_bytes(3)
    hashes = hash_file(raw=raw)
    assert hashes.sha256 == hashlib.sha256(raw).hexdigest()
    assert len(hashes.pdq) == 64 and 0 <= hashes.pdq_quality <= 100
    with pytest.raises(InvalidInput):
        hash_file(raw=b"not an image")


def test_near_duplicates_finds_close_hashes_with_their_distance_nearest_first():
    near = "f0" * 31 + "f3"  # 2 bits away
    far = "0f" * 32  # 256 bits away
    a = register(content_sha256="01" * 32, pdq=near)
    b = register(content_sha256="02" * 32, pdq=PDQ)
    register(content_sha256="03" * 32, pdq=far)
    found = near_duplicates(pdq=PDQ)
    assert [(d.record.pk, d.distance) for d in found] == [(b.pk, 0), (a.pk, 2)]
    assert [d.record.pk for d in near_duplicates(pdq=PDQ, exclude_content_sha256="02" * 32)] == [a.pk]
    assert near_duplicates(pdq=PDQ, max_distance=1)[0].record.pk == b.pk


def test_near_duplicates_ignores_low_quality_hashes(settings):
    settings.PROVENANCE_PDQ_MIN_QUALITY = 50
    register(content_sha256="01" * 32, pdq=PDQ, pdq_quality=10)
    assert near_duplicates(pdq=PDQ) == []


def test_near_duplicates_rejects_a_malformed_query():
    with pytest.raises(InvalidInput):
        near_duplicates(pdq="xyz")
    with pytest.raises(InvalidInput):
        near_duplicates(pdq=PDQ, max_distance=-1)


def test_index_is_topped_up_with_records_registered_after_it_loaded():
    assert near_duplicates(pdq=PDQ) == []  # loads the (empty) index
    record = register()
    assert [d.record.pk for d in near_duplicates(pdq=PDQ)] == [record.pk]


def test_ownership_transfer_moves_the_owner_and_writes_an_outbox_transaction(make_user):
    bob = make_user()
    record = register(owner="alice")
    event = ownership_transfer(content_sha256=SHA, from_ref="alice", to_ref="bob", reference="order:9", user=bob)
    record.refresh_from_db()
    assert (record.owner, record.owner_user) == ("bob", bob)
    assert event.transaction.kind == TxKind.RECORD_TRANSFER and event.transaction.state == TxState.PENDING
    assert event.transaction.payload == {"content_sha256": SHA, "from_ref": "alice", "to_ref": "bob"}
    emitted = DomainEvent.objects.get(type="provenance.ownership_transferred")
    assert emitted.user == bob and emitted.payload["to"] == "bob"


def test_ownership_transfer_is_idempotent_per_reference():
    register(owner="alice")
    first = ownership_transfer(content_sha256=SHA, from_ref="alice", to_ref="bob", reference="order:9")
    again = ownership_transfer(content_sha256=SHA, from_ref="alice", to_ref="bob", reference="order:9")
    assert again.pk == first.pk
    assert OwnershipEvent.objects.count() == 1
    assert ChainTransaction.objects.filter(kind=TxKind.RECORD_TRANSFER).count() == 1
    with pytest.raises(Conflict) as error:
        ownership_transfer(content_sha256=SHA, from_ref="alice", to_ref="carol", reference="order:9")
    assert error.value.code == "reference_reused"


def test_ownership_transfer_from_someone_who_is_not_the_owner_is_409_and_changes_nothing():
    register(owner="alice")
    with pytest.raises(Conflict) as error:
        ownership_transfer(content_sha256=SHA, from_ref="mallory", to_ref="bob", reference="r")
    assert error.value.code == "not_current_owner"
    assert ProvenanceRecord.objects.get().owner == "alice" and not OwnershipEvent.objects.exists()


def test_ownership_transfer_of_unknown_content_is_404():
    with pytest.raises(NotFound):
        ownership_transfer(content_sha256=SHA, from_ref="a", to_ref="b", reference="r")


def test_records_import_batches_records_with_valid_proofs_and_skips_known_content():
    from provenance.proofs.encoding import from_hex0x, leaf_for
    from provenance.proofs.merkle import verify_proof

    register(content_sha256="00" * 32)
    entries = [
        RecordEntry(content_sha256=f"{i:064x}", pdq=PDQ, pdq_quality=90, subject=f"s:{i}", creator="c", owner="o")
        for i in range(7)
    ]
    assert records_import(entries=entries + entries[:2], batch_size=3) == 6  # 0x00.. was registered already
    imported = ProvenanceRecord.objects.exclude(state=RecordState.PENDING)
    assert imported.count() == 6
    assert sorted(imported.values_list("batch__leaf_count", flat=True).distinct()) == [3]
    for record in imported.select_related("batch"):
        leaf = leaf_for(content_sha256=record.content_sha256, pdq=record.pdq, creator=record.creator)
        assert verify_proof(root=from_hex0x(record.batch.root), leaf=leaf, proof=record.proof_nodes)
    assert ChainTransaction.objects.filter(kind=TxKind.ANCHOR_BATCH, state=TxState.PENDING).count() == 2
