import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.fingerprints.pdqindex import PdqIndex, PdqMatch, brute_force_search, hashes_to_array

HASH = st.binary(min_size=32, max_size=32)


def flip_bits(hash_value: bytes, positions) -> bytes:
    value = int.from_bytes(hash_value, "big")
    for position in positions:
        value ^= 1 << position
    return value.to_bytes(32, "big")


def expected(state: dict[int, bytes], query: bytes, max_distance: int) -> list[PdqMatch]:
    if not state:
        return []
    ids = np.array(list(state), dtype=np.int64)
    return brute_force_search(ids, hashes_to_array(state.values()), query, max_distance=max_distance)


near_hash = st.tuples(HASH, st.lists(st.integers(0, 255), max_size=60)).map(lambda t: flip_bits(*t))
operation = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 40), st.booleans(), st.lists(st.integers(0, 255), max_size=50)),
    st.tuples(st.just("remove"), st.integers(0, 40), st.just(False), st.just([])),
)


@settings(max_examples=150, deadline=None)
@given(
    query=HASH,
    initial=st.lists(st.tuples(st.booleans(), st.lists(st.integers(0, 255), max_size=50)), max_size=40),
    operations=st.lists(operation, max_size=30),
    max_distance=st.sampled_from([0, 5, 15, 16, 31, 32, 47, 48, 64, 256]),
    compact_threshold=st.sampled_from([1, 3, 1000]),
)
def test_search_equals_brute_force_through_loads_adds_and_removes(
    query, initial, operations, max_distance, compact_threshold
):
    """Stored hashes are flipped-bit variants of the query (near) or of a fixed far hash, so every
    distance band is exercised."""
    far = bytes(b ^ 0xFF for b in query)

    def derive(near: bool, flips: list[int]) -> bytes:
        return flip_bits(query if near else far, flips)

    state = {item_id: derive(near, flips) for item_id, (near, flips) in enumerate(initial)}
    index = PdqIndex(compact_threshold=compact_threshold)
    index.load(
        np.array(list(state), dtype=np.int64),
        hashes_to_array(state.values()) if state else np.empty((0, 32), np.uint8),
    )
    assert index.search(query, max_distance=max_distance) == expected(state, query, max_distance)

    for kind, item_id, near, flips in operations:
        if kind == "add":
            state[item_id] = derive(near, flips)
            index.add(item_id, state[item_id])
        else:
            assert index.remove(item_id) == (item_id in state)
            state.pop(item_id, None)
        assert len(index) == len(state)
    assert index.search(query, max_distance=max_distance) == expected(state, query, max_distance)
    assert all(item_id in index for item_id in state)
    index.compact()
    assert index.search(query.hex(), max_distance=max_distance) == expected(state, query, max_distance)


def test_matches_brute_force_on_a_larger_random_set():
    rng = np.random.default_rng(7)
    rows = rng.integers(0, 256, (50_000, 32), dtype=np.uint8)
    ids = rng.permutation(np.unique(rng.integers(0, 10**12, 60_000)))[:50_000].astype(np.int64)
    index = PdqIndex()
    index.load(ids, rows)
    for trial in range(60):
        base = rows[rng.integers(len(rows))].tobytes()
        query = flip_bits(base, rng.choice(256, size=int(rng.integers(0, 40)), replace=False).tolist())
        for max_distance in (10, 31):
            found = index.search(query, max_distance=max_distance)
            assert found == brute_force_search(ids, rows, query, max_distance=max_distance)


def spread_flips(per_chunk: list[int]) -> list[int]:
    """Bit positions flipping per_chunk[k] bits inside the k-th 16-bit chunk."""
    return [16 * chunk + bit for chunk, count in enumerate(per_chunk) for bit in range(0, 2 * count, 2)]


@pytest.mark.parametrize(
    ("per_chunk", "max_distance"),
    [
        pytest.param([1] * 16, 16, id="one-bit-in-every-chunk"),
        pytest.param([2] * 15 + [1], 31, id="worst-case-at-31"),
        pytest.param([3] * 15 + [2], 47, id="worst-case-at-47"),
    ],
)
def test_hash_differing_in_every_chunk_is_still_found(per_chunk: list[int], max_distance: int):
    """Multi-index hashing's worst case: no chunk matches exactly, one is within radius d // 16."""
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 256, (5000, 32), dtype=np.uint8)
    index = PdqIndex()
    index.load(np.arange(5000), rows)
    query = flip_bits(rows[42].tobytes(), spread_flips(per_chunk))
    assert PdqMatch(42, sum(per_chunk)) in index.search(query, max_distance=max_distance)
    assert index.search(query, max_distance=sum(per_chunk) - 1) == []


def test_results_are_sorted_by_distance_then_id():
    query = bytes(32)
    index = PdqIndex()
    index.load([5, 3, 9], hashes_to_array([flip_bits(query, [1, 2]), flip_bits(query, [7]), flip_bits(query, [200])]))
    assert index.search(query) == [PdqMatch(3, 1), PdqMatch(9, 1), PdqMatch(5, 2)]


def test_adding_an_existing_id_replaces_its_hash():
    query = bytes(32)
    index = PdqIndex()
    index.load([1], hashes_to_array([query]))
    index.add(1, b"\xff" * 32)
    assert index.search(query) == []
    assert index.search(b"\xff" * 32) == [PdqMatch(1, 0)]
    assert len(index) == 1


def test_load_rejects_duplicate_ids_and_bad_shapes():
    index = PdqIndex()
    with pytest.raises(ValueError, match="unique"):
        index.load([1, 1], hashes_to_array([bytes(32), bytes(32)]))
    with pytest.raises(ValueError):
        index.load([1], np.zeros((1, 31), dtype=np.uint8))
    with pytest.raises(ValueError):
        hashes_to_array(["abcd"])


def test_load_accepts_uint64_words():
    rows = np.random.default_rng(1).integers(0, 256, (10, 32), dtype=np.uint8)
    index = PdqIndex()
    index.load(np.arange(10), rows.view(np.uint64))
    assert index.search(rows[4].tobytes(), max_distance=0) == [PdqMatch(4, 0)]


def test_concurrent_readers_see_consistent_results_while_a_writer_works():
    rng = np.random.default_rng(3)
    query = rng.integers(0, 256, 32, dtype=np.uint8).tobytes()
    hashes = {
        i: flip_bits(query, rng.choice(256, size=int(rng.integers(0, 31)), replace=False).tolist()) for i in range(2000)
    }
    index = PdqIndex(compact_threshold=64)
    index.load(np.arange(1000), hashes_to_array([hashes[i] for i in range(1000)]))
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                for match in index.search(query):
                    expected_distance = bin(
                        int.from_bytes(hashes[match.id], "big") ^ int.from_bytes(query, "big")
                    ).count("1")
                    assert match.distance == expected_distance
        except BaseException as exc:  # noqa: BLE001 - surfaced in the main thread
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for thread in readers:
        thread.start()
    for i in range(1000, 2000):
        index.add(i, hashes[i])
        if i % 3 == 0:
            index.remove(i - 1000)
    stop.set()
    for thread in readers:
        thread.join()
    assert errors == []
    removed = {i - 1000 for i in range(1000, 2000) if i % 3 == 0}
    assert {m.id for m in index.search(query)} == set(hashes) - removed
