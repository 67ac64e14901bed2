# pragma version 0.4.3
# pragma evm-version cancun
# pragma optimize gas
"""
@title ProvenanceRegistry
@notice Anchors the exact (sha256) and perceptual (PDQ) hashes of published artworks.
        Writers (the platform's signer accounts, an owner-managed allow-list) register single
        records, anchor Merkle roots of record batches and record ownership transfers; anyone reads.
@dev Storage holds only what on-chain lookups need: the registration time and creator of single
     registrations, the anchoring time of batch roots and the current owner after a transfer.
     Perceptual hashes and batch sizes live only in events.
     Merkle leaves are OpenZeppelin StandardMerkleTree style:
     keccak256(keccak256(abi.encode(content_sha256, perceptual_hash, creator))), nodes hash sorted pairs.
"""

MAX_PROOF_DEPTH: constant(uint256) = 64
MAX_INITIAL_WRITERS: constant(uint256) = 16
MAX_TRANSFER_BATCH: constant(uint256) = 64


struct Registration:
    creator: bytes32
    registered_at: uint256


struct Transfer:
    content_hash: bytes32
    previous_owner: bytes32
    new_owner: bytes32


event ContentRegistered:
    content_hash: indexed(bytes32)
    creator: indexed(bytes32)
    perceptual_hash: bytes32

event BatchAnchored:
    root: indexed(bytes32)
    leaf_count: uint256

event ArtworkTransferred:
    content_hash: indexed(bytes32)
    previous_owner: indexed(bytes32)
    new_owner: indexed(bytes32)

event WriterAdded:
    account: indexed(address)

event WriterRemoved:
    account: indexed(address)

event OwnershipTransferred:
    previous_owner: indexed(address)
    new_owner: indexed(address)


owner: public(address)
is_writer: public(HashMap[address, bool])
registrations: public(HashMap[bytes32, Registration])
batch_time: public(HashMap[bytes32, uint256])
transferred_owner: HashMap[bytes32, bytes32]


@deploy
def __init__(writers: DynArray[address, MAX_INITIAL_WRITERS]):
    self.owner = msg.sender
    log OwnershipTransferred(previous_owner=empty(address), new_owner=msg.sender)
    for account: address in writers:
        self._add_writer(account)


@internal
def _only_owner():
    assert msg.sender == self.owner, "caller is not the owner"


@internal
def _only_writer():
    assert self.is_writer[msg.sender], "caller is not a writer"


@internal
def _add_writer(account: address):
    assert account != empty(address), "writer is the zero address"
    assert not self.is_writer[account], "account is already a writer"
    self.is_writer[account] = True
    log WriterAdded(account=account)


@external
def add_writer(account: address):
    self._only_owner()
    self._add_writer(account)


@external
def remove_writer(account: address):
    self._only_owner()
    assert self.is_writer[account], "account is not a writer"
    self.is_writer[account] = False
    log WriterRemoved(account=account)


@external
def transfer_ownership(new_owner: address):
    self._only_owner()
    assert new_owner != empty(address), "new owner is the zero address"
    log OwnershipTransferred(previous_owner=self.owner, new_owner=new_owner)
    self.owner = new_owner


@external
def register(content_hash: bytes32, perceptual_hash: bytes32, creator: bytes32):
    self._only_writer()
    assert content_hash != empty(bytes32), "content hash is empty"
    assert creator != empty(bytes32), "creator is empty"
    assert self.registrations[content_hash].registered_at == 0, "content already registered"
    self.registrations[content_hash] = Registration(creator=creator, registered_at=block.timestamp)
    log ContentRegistered(content_hash=content_hash, creator=creator, perceptual_hash=perceptual_hash)


@external
def anchor_batch(root: bytes32, leaf_count: uint256):
    self._only_writer()
    assert root != empty(bytes32), "batch root is empty"
    assert leaf_count != 0, "batch is empty"
    assert self.batch_time[root] == 0, "batch root already anchored"
    self.batch_time[root] = block.timestamp
    log BatchAnchored(root=root, leaf_count=leaf_count)


@view
@internal
def _current_owner(content_hash: bytes32) -> bytes32:
    transferred: bytes32 = self.transferred_owner[content_hash]
    if transferred != empty(bytes32):
        return transferred
    return self.registrations[content_hash].creator


@internal
def _record_transfer(content_hash: bytes32, previous_owner: bytes32, new_owner: bytes32):
    assert content_hash != empty(bytes32), "content hash is empty"
    assert new_owner != empty(bytes32), "new owner is empty"
    known_owner: bytes32 = self._current_owner(content_hash)
    if known_owner != empty(bytes32):
        assert previous_owner == known_owner, "transfer is not from the current owner"
    self.transferred_owner[content_hash] = new_owner
    log ArtworkTransferred(content_hash=content_hash, previous_owner=previous_owner, new_owner=new_owner)


@external
def record_transfer(content_hash: bytes32, previous_owner: bytes32, new_owner: bytes32):
    """
    @dev The contract knows the owner of single registrations and of transferred records; for a record
         anchored only inside a batch the first transfer's previous owner is taken on the writer's word.
    """
    self._only_writer()
    self._record_transfer(content_hash, previous_owner, new_owner)


@external
def record_transfers(transfers: DynArray[Transfer, MAX_TRANSFER_BATCH]):
    """
    @notice Several transfers in one transaction, applied in order (a later one may move the same content on
            from the owner an earlier one set); one failing check reverts them all.
    """
    self._only_writer()
    assert len(transfers) != 0, "no transfers"
    for item: Transfer in transfers:
        self._record_transfer(item.content_hash, item.previous_owner, item.new_owner)


@view
@external
def current_owner(content_hash: bytes32) -> bytes32:
    return self._current_owner(content_hash)


@pure
@internal
def _record_leaf(content_hash: bytes32, perceptual_hash: bytes32, creator: bytes32) -> bytes32:
    return keccak256(keccak256(abi_encode(content_hash, perceptual_hash, creator)))


@pure
@internal
def _process_proof(leaf: bytes32, proof: DynArray[bytes32, MAX_PROOF_DEPTH]) -> bytes32:
    computed: bytes32 = leaf
    for sibling: bytes32 in proof:
        if convert(computed, uint256) < convert(sibling, uint256):
            computed = keccak256(concat(computed, sibling))
        else:
            computed = keccak256(concat(sibling, computed))
    return computed


@pure
@external
def record_leaf(content_hash: bytes32, perceptual_hash: bytes32, creator: bytes32) -> bytes32:
    return self._record_leaf(content_hash, perceptual_hash, creator)


@pure
@external
def verify_proof(root: bytes32, leaf: bytes32, proof: DynArray[bytes32, MAX_PROOF_DEPTH]) -> bool:
    return self._process_proof(leaf, proof) == root


@view
@external
def verify_record(
    root: bytes32,
    content_hash: bytes32,
    perceptual_hash: bytes32,
    creator: bytes32,
    proof: DynArray[bytes32, MAX_PROOF_DEPTH],
) -> bool:
    """
    @notice True when the record is a leaf of the tree with this root and the root is anchored.
    """
    if self.batch_time[root] == 0:
        return False
    leaf: bytes32 = self._record_leaf(content_hash, perceptual_hash, creator)
    return self._process_proof(leaf, proof) == root
