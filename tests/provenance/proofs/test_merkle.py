import os

import pytest
from eth_utils import keccak

from provenance.proofs.merkle import MerkleTree, hash_pair, record_leaf, verify_proof


def leaves(count: int) -> list[bytes]:
    return [
        record_leaf(content_sha256=os.urandom(32), perceptual_hash=os.urandom(32), creator=os.urandom(32))
        for _ in range(count)
    ]


def reference_root(level: list[bytes]) -> bytes:
    """Written independently of MerkleTree: sorted-pair hashing, an unpaired node moves up."""
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level), 2):
            if i + 1 == len(level):
                nxt.append(level[i])
            else:
                a, b = sorted((level[i], level[i + 1]))
                nxt.append(keccak(a + b))
        level = nxt
    return level[0]


def test_leaf_is_double_hashed_abi_encoding_of_the_record():
    content, pdq, creator = os.urandom(32), os.urandom(32), os.urandom(32)
    assert record_leaf(content_sha256=content, perceptual_hash=pdq, creator=creator) == keccak(
        keccak(content + pdq + creator)
    )


def test_leaf_rejects_wrong_lengths():
    with pytest.raises(ValueError, match="creator"):
        record_leaf(content_sha256=os.urandom(32), perceptual_hash=os.urandom(32), creator=b"short")


def test_pairs_hash_in_sorted_order():
    a, b = os.urandom(32), os.urandom(32)
    assert hash_pair(a, b) == hash_pair(b, a) == keccak(min(a, b) + max(a, b))


def test_single_leaf_tree_has_the_leaf_as_root_and_an_empty_proof():
    (leaf,) = leaves(1)
    tree = MerkleTree.build([leaf])
    assert tree.root == leaf
    assert tree.proof(0) == []
    assert verify_proof(root=tree.root, leaf=leaf, proof=[])


@pytest.mark.parametrize("count", [*range(1, 18), 31, 32, 33, 100, 1000])
def test_every_proof_verifies_and_root_matches_reference(count: int):
    items = leaves(count)
    tree = MerkleTree.build(items)
    assert tree.root == reference_root(items)
    assert tree.leaf_count == count
    for index, proof in enumerate(tree.proofs()):
        assert verify_proof(root=tree.root, leaf=items[index], proof=proof)
        assert len(proof) <= max(1, (count - 1).bit_length())


def test_proof_of_one_leaf_does_not_prove_another():
    items = leaves(7)
    tree = MerkleTree.build(items)
    assert not verify_proof(root=tree.root, leaf=items[3], proof=tree.proof(2))
    assert not verify_proof(root=tree.root, leaf=os.urandom(32), proof=tree.proof(2))
    assert not verify_proof(root=tree.root, leaf=items[2], proof=tree.proof(2)[:-1])


def test_empty_tree_and_out_of_range_index_are_refused():
    with pytest.raises(ValueError):
        MerkleTree.build([])
    with pytest.raises(IndexError):
        MerkleTree.build(leaves(3)).proof(3)
