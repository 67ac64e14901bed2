"""The benchmark's database step writes every hashed record, batched with valid proofs, through the models."""

import pytest

from bench.provenance import hashing_pipeline
from bench.provenance_store import DatabaseStore
from bench.synthetic_images import encode_png, synthetic_image
from provenance.models import AnchorBatch, ChainTransaction, ProvenanceRecord, RecordState
from provenance.proofs.encoding import from_hex0x, leaf_for
from provenance.proofs.merkle import verify_proof


@pytest.mark.django_db
def test_bench_store_writes_batched_records_with_valid_proofs(tmp_path, settings):
    settings.PROVENANCE_BATCH_MAX = 4
    paths = []
    for seed in range(10):
        path = tmp_path / f"{seed}.png"
        path.write_bytes(encode_png(synthetic_image(seed)))
        paths.append(str(path))
    store = DatabaseStore(var_dir=tmp_path / "unused")  # Django is configured already: the test database
    hashing_pipeline(paths, creators=[bytes([seed]) * 32 for seed in range(10)], store=store)
    assert store.count() == 10
    assert sorted(AnchorBatch.objects.values_list("leaf_count", flat=True)) == [2, 4, 4]
    assert ChainTransaction.objects.filter(kind="anchor_batch", state="pending").count() == 3
    for record in ProvenanceRecord.objects.select_related("batch"):
        assert record.state == RecordState.BATCHED
        leaf = leaf_for(content_sha256=record.content_sha256, pdq=record.pdq, creator=record.creator)
        assert verify_proof(root=from_hex0x(record.batch.root), leaf=leaf, proof=record.proof_nodes)
    with pytest.raises(AssertionError, match="not empty"):
        hashing_pipeline(paths[:2], creators=[b"\x01" * 32] * 2, store=store)  # already stored
    store.reset()
    assert store.count() == 0
