import os

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from provenance.chain.errors import RevertError
from provenance.chain.registry import ProvenanceRegistry
from provenance.chain.transactions import execute, replay_revert, with_gas
from provenance.proofs.merkle import MerkleTree, record_leaf

pytestmark = pytest.mark.chain


def random_record() -> tuple[bytes, bytes, bytes]:
    return os.urandom(32), os.urandom(32), os.urandom(32)


def register(registry: ProvenanceRegistry, account: LocalAccount, content: bytes, pdq: bytes, creator: bytes):
    request = registry.register(content_hash=content, perceptual_hash=pdq, creator=creator)
    return execute(registry.w3, request=request, account=account)


def test_deploy_makes_deployer_owner_and_only_writer(
    registry: ProvenanceRegistry, deployer: LocalAccount, funded: LocalAccount
):
    deployer = deployer.address
    assert registry.owner() == deployer
    assert registry.is_writer(deployer)
    assert not registry.is_writer(funded.address)


def test_deploy_with_explicit_writers(w3: Web3, deployer: LocalAccount, funded: LocalAccount):
    writer = funded.address
    registry = ProvenanceRegistry.deploy(w3, account=deployer, writers=[writer])
    assert registry.is_writer(writer)
    assert not registry.is_writer(deployer.address)


def test_non_writer_register_reverts_with_decoded_reason(registry: ProvenanceRegistry, funded: LocalAccount):
    with pytest.raises(RevertError) as caught:
        register(registry, funded, *random_record())
    assert caught.value.reason == "caller is not a writer"
    assert caught.value.kind == "error"


def test_mined_revert_is_decoded_by_replaying_it(registry: ProvenanceRegistry, funded: LocalAccount):
    # An explicit gas limit skips estimation, so the failing transaction really is mined with status 0.
    request = with_gas(registry.anchor_batch(root=os.urandom(32), leaf_count=3), 100_000)
    with pytest.raises(RevertError) as caught:
        execute(registry.w3, request=request, account=funded)
    assert caught.value.reason == "caller is not a writer"
    latest = registry.w3.eth.get_block("latest", full_transactions=True)
    failed = latest["transactions"][-1]
    assert registry.w3.eth.get_transaction_receipt(failed["hash"])["status"] == 0
    assert replay_revert(registry.w3, failed["hash"]).reason == "caller is not a writer"


def test_owner_adds_and_removes_writers(registry: ProvenanceRegistry, deployer: LocalAccount, funded: LocalAccount):
    newcomer = funded.address
    receipt = execute(registry.w3, request=registry.add_writer(account=newcomer), account=deployer)
    assert [(e.name, e.args["account"]) for e in registry.decode_events(receipt)] == [("WriterAdded", newcomer)]
    register(registry, funded, *random_record())

    execute(registry.w3, request=registry.remove_writer(account=newcomer), account=deployer)
    assert not registry.is_writer(newcomer)
    with pytest.raises(RevertError, match="caller is not a writer"):
        register(registry, funded, *random_record())


def test_only_owner_manages_writers(registry: ProvenanceRegistry, funded: LocalAccount):
    outsider = funded.address
    with pytest.raises(RevertError) as caught:
        execute(registry.w3, request=registry.add_writer(account=outsider), account=funded)
    assert caught.value.reason == "caller is not the owner"


def test_ownership_transfer_hands_over_writer_management(
    registry: ProvenanceRegistry, deployer: LocalAccount, funded: LocalAccount
):
    new_owner = funded.address
    execute(registry.w3, request=registry.transfer_ownership(new_owner=new_owner), account=deployer)
    assert registry.owner() == new_owner
    with pytest.raises(RevertError, match="caller is not the owner"):
        execute(registry.w3, request=registry.add_writer(account=new_owner), account=deployer)
    execute(registry.w3, request=registry.add_writer(account=new_owner), account=funded)
    assert registry.is_writer(new_owner)


def test_register_stores_creator_and_block_time_and_emits_perceptual_hash(
    registry: ProvenanceRegistry, deployer: LocalAccount
):
    content, pdq, creator = random_record()
    receipt = register(registry, deployer, content, pdq, creator)

    block_time = registry.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    registration = registry.registration(content)
    assert registration is not None
    assert (registration.creator, registration.registered_at) == (creator, block_time)
    (event,) = registry.decode_events(receipt)
    assert event.name == "ContentRegistered"
    assert event.args == {"content_hash": content, "creator": creator, "perceptual_hash": pdq}
    assert [e.args["perceptual_hash"] for e in registry.find_events("ContentRegistered", content_hash=content)] == [pdq]
    assert registry.current_owner(content) == creator


def test_unregistered_content_has_no_registration(registry: ProvenanceRegistry):
    assert registry.registration(os.urandom(32)) is None


def test_second_registration_of_same_content_reverts(registry: ProvenanceRegistry, deployer: LocalAccount):
    content, pdq, creator = random_record()
    register(registry, deployer, content, pdq, creator)
    with pytest.raises(RevertError) as caught:
        register(registry, deployer, content, os.urandom(32), os.urandom(32))
    assert caught.value.reason == "content already registered"
    assert registry.registration(content).creator == creator


def test_contract_leaf_encoding_matches_python(registry: ProvenanceRegistry):
    content, pdq, creator = random_record()
    on_chain = registry.record_leaf(content_hash=content, perceptual_hash=pdq, creator=creator)
    assert on_chain == record_leaf(content_sha256=content, perceptual_hash=pdq, creator=creator)


def anchor(
    registry: ProvenanceRegistry, account: LocalAccount, count: int
) -> tuple[MerkleTree, list[tuple[bytes, bytes, bytes]]]:
    records = [random_record() for _ in range(count)]
    tree = MerkleTree.build([record_leaf(content_sha256=c, perceptual_hash=p, creator=r) for c, p, r in records])
    receipt = execute(registry.w3, request=registry.anchor_batch(root=tree.root, leaf_count=count), account=account)
    (event,) = registry.decode_events(receipt)
    assert (event.name, event.args) == ("BatchAnchored", {"root": tree.root, "leaf_count": count})
    return tree, records


@pytest.mark.parametrize("leaf_count", [1, 2, 3, 7, 1000])
def test_python_proofs_verify_on_chain(registry: ProvenanceRegistry, deployer: LocalAccount, leaf_count: int):
    tree, records = anchor(registry, deployer, leaf_count)
    assert registry.batch_time(tree.root) is not None
    # every leaf of the small trees; for 1000 the edges, the odd tail and a spread in between
    indices = range(leaf_count) if leaf_count < 10 else sorted({0, 1, 511, 512, 998, 999, *range(3, 1000, 37)})
    for index in indices:
        content, pdq, creator = records[index]
        proof = tree.proof(index)
        assert registry.verify_proof(tree.root, tree.levels[0][index], proof)
        assert registry.verify_record(
            root=tree.root, content_hash=content, perceptual_hash=pdq, creator=creator, proof=proof
        )


def test_tampered_proof_or_record_is_rejected_on_chain(registry: ProvenanceRegistry, deployer: LocalAccount):
    tree, records = anchor(registry, deployer, 7)
    content, pdq, creator = records[4]
    proof = tree.proof(4)
    tampered_proof = [proof[0], bytes([proof[1][0] ^ 1]) + proof[1][1:], *proof[2:]]
    assert not registry.verify_proof(tree.root, tree.levels[0][4], tampered_proof)
    assert not registry.verify_proof(tree.root, tree.levels[0][4], proof[:-1])
    assert not registry.verify_record(
        root=tree.root, content_hash=content, perceptual_hash=pdq, creator=creator, proof=tampered_proof
    )
    assert not registry.verify_record(
        root=tree.root, content_hash=content, perceptual_hash=os.urandom(32), creator=creator, proof=proof
    )
    assert not registry.verify_record(
        root=tree.root, content_hash=content, perceptual_hash=pdq, creator=os.urandom(32), proof=proof
    )
    # the inner (single-hashed) encoding of the record is not a leaf: second preimages are ruled out
    inner = Web3.keccak(content + pdq + creator)
    assert not registry.verify_proof(tree.root, inner, proof)


def test_unanchored_root_verifies_nothing(registry: ProvenanceRegistry):
    content, pdq, creator = random_record()
    tree = MerkleTree.build([record_leaf(content_sha256=content, perceptual_hash=pdq, creator=creator)])
    assert registry.batch_time(tree.root) is None
    assert registry.verify_proof(tree.root, tree.root, [])  # the pure proof check holds ...
    assert not registry.verify_record(
        root=tree.root, content_hash=content, perceptual_hash=pdq, creator=creator, proof=[]
    )


def test_anchoring_the_same_root_twice_reverts(registry: ProvenanceRegistry, deployer: LocalAccount):
    tree, _ = anchor(registry, deployer, 3)
    with pytest.raises(RevertError) as caught:
        execute(registry.w3, request=registry.anchor_batch(root=tree.root, leaf_count=3), account=deployer)
    assert caught.value.reason == "batch root already anchored"


def test_ownership_transfer_is_recorded_and_chained(registry: ProvenanceRegistry, deployer: LocalAccount):
    content, pdq, creator = random_record()
    register(registry, deployer, content, pdq, creator)
    buyer, collector = os.urandom(32), os.urandom(32)

    receipt = execute(
        registry.w3,
        request=registry.record_transfer(content_hash=content, previous_owner=creator, new_owner=buyer),
        account=deployer,
    )
    (event,) = registry.decode_events(receipt)
    assert event.name == "ArtworkTransferred"
    assert event.args == {"content_hash": content, "previous_owner": creator, "new_owner": buyer}
    assert registry.current_owner(content) == buyer

    with pytest.raises(RevertError, match="transfer is not from the current owner"):
        execute(
            registry.w3,
            request=registry.record_transfer(content_hash=content, previous_owner=creator, new_owner=collector),
            account=deployer,
        )
    execute(
        registry.w3,
        request=registry.record_transfer(content_hash=content, previous_owner=buyer, new_owner=collector),
        account=deployer,
    )
    history = [
        (e.args["previous_owner"], e.args["new_owner"])
        for e in registry.find_events("ArtworkTransferred", content_hash=content)
    ]
    assert history == [(creator, buyer), (buyer, collector)]


def test_first_transfer_of_a_batched_record_takes_the_writers_word(
    registry: ProvenanceRegistry, deployer: LocalAccount
):
    tree, records = anchor(registry, deployer, 2)
    content, _, creator = records[0]
    assert registry.current_owner(content) is None
    buyer = os.urandom(32)
    execute(
        registry.w3,
        request=registry.record_transfer(content_hash=content, previous_owner=creator, new_owner=buyer),
        account=deployer,
    )
    assert registry.current_owner(content) == buyer


def test_non_writer_cannot_anchor_or_transfer(registry: ProvenanceRegistry, funded: LocalAccount):
    for request in (
        registry.anchor_batch(root=os.urandom(32), leaf_count=1),
        registry.record_transfer(content_hash=os.urandom(32), previous_owner=os.urandom(32), new_owner=os.urandom(32)),
    ):
        with pytest.raises(RevertError, match="caller is not a writer"):
            execute(registry.w3, request=request, account=funded)


def test_record_transfers_applies_several_in_order_in_one_transaction(
    registry: ProvenanceRegistry, deployer: LocalAccount
):
    _, records = anchor(registry, deployer, 3)
    owners = [os.urandom(32) for _ in range(3)]
    (c0, _, creator0), (c1, _, creator1) = records[0], records[1]
    # c0 moves twice (creator -> a -> b) in the same call; c1 once
    transfers = [(c0, creator0, owners[0]), (c1, creator1, owners[1]), (c0, owners[0], owners[2])]
    receipt = execute(registry.w3, request=registry.record_transfers(transfers=transfers), account=deployer)
    assert [(e.args["content_hash"], e.args["new_owner"]) for e in registry.decode_events(receipt)] == [
        (c0, owners[0]),
        (c1, owners[1]),
        (c0, owners[2]),
    ]
    assert registry.current_owner(c0) == owners[2] and registry.current_owner(c1) == owners[1]


def test_record_transfers_reverts_all_when_one_is_not_from_the_owner(
    registry: ProvenanceRegistry, deployer: LocalAccount
):
    _, records = anchor(registry, deployer, 2)
    (c0, _, creator0), (c1, _, _) = records
    first, second = os.urandom(32), os.urandom(32)
    execute(
        registry.w3,
        request=registry.record_transfer(content_hash=c1, previous_owner=records[1][2], new_owner=first),
        account=deployer,
    )
    with pytest.raises(RevertError, match="transfer is not from the current owner"):
        execute(
            registry.w3,
            request=registry.record_transfers(transfers=[(c0, creator0, second), (c1, os.urandom(32), second)]),
            account=deployer,
        )
    assert registry.current_owner(c0) is None and registry.current_owner(c1) == first


def test_batched_transfers_cost_less_gas_each_than_single_calls(registry: ProvenanceRegistry, deployer: LocalAccount):
    """The figure the sender's gas limits (sending.transfer_gas_limit) are sized from."""
    from provenance.services.sending import transfer_gas_limit

    _, records = anchor(registry, deployer, 33)
    single = execute(
        registry.w3,
        request=registry.record_transfer(
            content_hash=records[0][0], previous_owner=records[0][2], new_owner=os.urandom(32)
        ),
        account=deployer,
    )["gasUsed"]
    batch = [(c, creator, os.urandom(32)) for c, _, creator in records[1:]]
    batched = execute(registry.w3, request=registry.record_transfers(transfers=batch), account=deployer)["gasUsed"]
    assert batched / len(batch) < 0.75 * single
    assert single <= transfer_gas_limit(1) and batched <= transfer_gas_limit(len(batch))
