"""Register -> batch -> anchor -> confirm -> verify, through the real tasks against a real anvil."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult
from PIL import Image

from bench.synthetic_images import encode_jpeg
from core.models import DomainEvent
from provenance.chain.registry import ProvenanceRegistry
from provenance.connection import chain_connect
from provenance.models import (
    AnchorBatch,
    AnchorState,
    ChainDeployment,
    ChainTransaction,
    OwnershipEvent,
    ProvenanceRecord,
    RecordState,
    TxState,
)
from provenance.proofs.encoding import from_hex0x, leaf_for, reference_hash
from provenance.proofs.merkle import verify_proof
from provenance.services import ownership_transfer

pytestmark = [pytest.mark.chain, pytest.mark.django_db]


def test_registered_records_end_confirmed_and_verify_against_the_chain(
    chain_settings, register_image, run_chain, anvil_mine, api, make_user
):
    owner = make_user(role="artist")
    records = [register_image(seed, user=owner)[0] for seed in range(5)]
    assert {r.state for r in records} == {RecordState.PENDING}

    run_chain("batch")  # the batcher enqueues the sender when its batch commits
    batch = AnchorBatch.objects.get()
    assert batch.leaf_count == 5 and batch.state == AnchorState.SENT
    tx = batch.transaction
    assert tx.state == TxState.SENT and tx.raw and tx.tx_hash and tx.nonce is not None

    run_chain("confirm")  # mined (automine) but not yet CHAIN_CONFIRMATIONS deep
    batch.refresh_from_db()
    assert batch.state == AnchorState.ANCHORED
    assert set(ProvenanceRecord.objects.values_list("state", flat=True)) == {RecordState.ANCHORED}

    anvil_mine(2)
    run_chain("confirm")
    batch.refresh_from_db()
    assert batch.state == AnchorState.CONFIRMED and batch.confirmations >= 2
    for record in ProvenanceRecord.objects.all():
        assert record.state == RecordState.CONFIRMED
        leaf = leaf_for(content_sha256=record.content_sha256, pdq=record.pdq, creator=record.creator)
        assert verify_proof(root=from_hex0x(batch.root), leaf=leaf, proof=record.proof_nodes)

    # one anchored and one confirmed event per record, addressed to the owner
    for kind in ("provenance.anchored", "provenance.confirmed"):
        events = DomainEvent.objects.filter(type=kind)
        assert events.count() == 5 and {e.user_id for e in events} == {owner.id}

    # the registry on chain agrees
    chain = chain_connect()
    registry = ProvenanceRegistry(chain.w3, ChainDeployment.objects.get().registry_address)
    assert registry.batch_time(from_hex0x(batch.root)) is not None

    response = api.get(f"/api/v1/verify/{records[2].content_sha256}")
    assert response.status_code == 200, response.content
    body = response.json()
    match = body["match"]
    assert match["record"]["id"] == str(records[2].public_id)
    assert match["chain_check"]["status"] == "verified" and match["chain_check"]["proof_valid"] is True
    assert match["chain_check"]["confirmations"] >= 3
    assert match["anchor"]["transaction_hash"] == tx.tx_hash and match["anchor"]["root"] == batch.root
    assert match["owner_history"][0]["kind"] == "registered"


def test_registering_the_same_content_twice_returns_the_existing_record_and_anchors_once(
    chain_settings, register_image, run_chain, anvil_mine
):
    first, raw = register_image(1)
    again, _ = register_image(1, raw=raw, owner="accounts.user:someone-else")
    assert again.pk == first.pk and again.owner == "accounts.user:owner"
    run_chain("batch", "confirm")
    register_image(1, raw=raw)  # after anchoring too
    run_chain("batch", "send")
    assert ProvenanceRecord.objects.count() == 1
    assert AnchorBatch.objects.count() == 1
    assert ChainTransaction.objects.filter(kind="anchor_batch").count() == 1


def test_batcher_is_enqueued_once_the_pending_count_reaches_the_batch_max(
    chain_settings, register_image, django_capture_on_commit_callbacks
):
    chain_settings.PROVENANCE_BATCH_MAX = 3
    with django_capture_on_commit_callbacks(execute=True):
        register_image(1)
        register_image(2)
    assert not DBTaskResult.objects.filter(task_path="provenance.tasks.provenance_batch").exists()
    with django_capture_on_commit_callbacks(execute=True):
        register_image(3)
    with django_capture_on_commit_callbacks(execute=True):
        register_image(4)  # a batcher already waits: not enqueued twice
    assert DBTaskResult.objects.filter(task_path="provenance.tasks.provenance_batch", status="READY").count() == 1


def test_batches_hold_at_most_batch_max_records(chain_settings, register_image, run_chain):
    chain_settings.PROVENANCE_BATCH_MAX = 2
    for seed in range(5):
        register_image(seed)
    run_chain("batch")
    assert sorted(AnchorBatch.objects.values_list("leaf_count", flat=True)) == [1, 2, 2]
    assert ChainTransaction.objects.filter(kind="anchor_batch", state=TxState.SENT).count() == 3
    nonces = sorted(ChainTransaction.objects.values_list("nonce", flat=True))  # the deployment's, then 3 anchors
    assert nonces == list(range(nonces[0], nonces[0] + 4))


def test_ownership_transfer_is_recorded_on_chain_and_in_the_owner_history(
    chain_settings, register_image, run_chain, anvil_mine, api, make_user
):
    buyer = make_user(role="buyer")
    record, _ = register_image(7, owner="accounts.user:alice")
    run_chain("batch")
    event = ownership_transfer(
        content_sha256=record.content_sha256,
        from_ref="accounts.user:alice",
        to_ref="accounts.user:bob",
        reference="order:1",
        user=buyer,
    )
    again = ownership_transfer(
        content_sha256=record.content_sha256,
        from_ref="accounts.user:alice",
        to_ref="accounts.user:bob",
        reference="order:1",
        user=buyer,
    )
    assert again.pk == event.pk
    assert DomainEvent.objects.filter(type="provenance.ownership_transferred", user=buyer).count() == 1
    run_chain("send")
    anvil_mine(2)
    run_chain("confirm")
    event.refresh_from_db()
    assert event.state == AnchorState.CONFIRMED and event.transaction.state == TxState.CONFIRMED

    chain = chain_connect()
    registry = ProvenanceRegistry(chain.w3, ChainDeployment.objects.get().registry_address)
    assert registry.current_owner(bytes.fromhex(record.content_sha256)) == reference_hash("accounts.user:bob")
    logged = registry.find_events("ArtworkTransferred", content_hash=bytes.fromhex(record.content_sha256))
    assert [(e.args["previous_owner"], e.args["new_owner"]) for e in logged] == [
        (reference_hash("accounts.user:alice"), reference_hash("accounts.user:bob"))
    ]

    body = api.get(f"/api/v1/verify/{record.content_sha256}").json()
    history = body["match"]["owner_history"]
    assert [(h["kind"], h["from_ref"], h["to_ref"]) for h in history] == [
        ("registered", None, "accounts.user:alice"),
        ("transfer", "accounts.user:alice", "accounts.user:bob"),
    ]
    assert history[1]["transaction_hash"] == event.transaction.tx_hash
    assert body["match"]["record"]["owner"] == "accounts.user:bob"
    assert body["match"]["chain_check"]["owner_matches"] is True


def test_successive_transfers_reach_the_chain_in_order(chain_settings, register_image, run_chain, anvil_mine):
    record, _ = register_image(8, owner="a")
    for index, (src, dst) in enumerate([("a", "b"), ("b", "c"), ("c", "d")]):
        ownership_transfer(content_sha256=record.content_sha256, from_ref=src, to_ref=dst, reference=f"t{index}")
    run_chain("batch")
    anvil_mine(2)
    run_chain("confirm")
    assert set(OwnershipEvent.objects.values_list("state", flat=True)) == {AnchorState.CONFIRMED}
    chain = chain_connect()
    registry = ProvenanceRegistry(chain.w3, ChainDeployment.objects.get().registry_address)
    assert registry.current_owner(bytes.fromhex(record.content_sha256)) == reference_hash("d")


def test_verifying_an_uploaded_file_finds_the_record_and_its_perceptual_neighbours(
    chain_settings, register_image, run_chain, anvil_mine, api
):
    record, raw = register_image(11)
    run_chain("batch")
    anvil_mine(2)
    run_chain("confirm")
    original = api.post("/api/v1/verify", {"file": _upload(raw, "art.png")}, format="multipart")
    assert original.status_code == 200, original.content
    assert original.json()["match"]["chain_check"]["status"] == "verified"

    # a re-encoded copy: not the registered bytes, but perceptually the same picture
    copy = encode_jpeg(Image.open(io.BytesIO(raw)), quality=60)
    response = api.post("/api/v1/verify", {"file": _upload(copy, "copy.jpg")}, format="multipart")
    body = response.json()
    assert response.status_code == 200 and body["match"] is None
    assert [m["record"]["id"] for m in body["perceptual_matches"]] == [str(record.public_id)]
    assert body["perceptual_matches"][0]["distance"] <= 31


def _upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)
