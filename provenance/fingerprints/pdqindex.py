"""Near-duplicate search over PDQ hashes: which ids lie within Hamming distance d of a query hash.

Multi-index hashing: the 256-bit hash is cut into 16 chunks of 16 bits. If two hashes differ in at most
d bits, then by pigeonhole at least one chunk differs in at most d // 16 bits, so looking up every
chunk value within that radius (17 values per chunk at d <= 31, 697 at d <= 63) in a per-chunk table finds every true
match; candidates are then checked with an exact popcount. Per chunk, the table is a counting sort
(`order`, rows sorted by chunk value; `offsets`, where each value's run starts).

Writes go to a small brute-force "delta" (added or replaced ids) plus a set of ids whose row in the
big segment is stale; when those grow past a threshold the segment is rebuilt. Every write publishes a
new immutable snapshot under a lock, so readers never lock and never see a half-applied write.
"""

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import NamedTuple

import numpy as np

HASH_BYTES = 32
CHUNK_BITS = 16
CHUNKS = HASH_BYTES * 8 // CHUNK_BITS
CHUNK_VALUES = 1 << CHUNK_BITS
DEFAULT_MAX_DISTANCE = 31
MIN_COMPACT_THRESHOLD = 4096


class PdqMatch(NamedTuple):
    id: int
    distance: int


def hashes_to_array(hashes: Iterable[str | bytes]) -> np.ndarray:
    """PDQ hashes (64-char hex or 32 bytes each) -> uint8 array shaped (n, 32)."""
    raw = b"".join(bytes.fromhex(h) if isinstance(h, str) else bytes(h) for h in hashes)
    if len(raw) % HASH_BYTES:
        raise ValueError("every hash must be 32 bytes (64 hex characters)")
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, HASH_BYTES).copy()


def _as_hash_rows(hashes: np.ndarray) -> np.ndarray:
    """Accept (n, 32) uint8 or (n, 4) uint64; return C-contiguous (n, 32) uint8."""
    array = np.asarray(hashes)
    if array.ndim == 2 and array.shape[1] == 4 and array.dtype == np.uint64:
        array = array.view(np.uint8)
    if array.ndim != 2 or array.shape[1] != HASH_BYTES or array.dtype != np.uint8:
        raise ValueError(f"expected hashes shaped (n, 32) uint8 or (n, 4) uint64, got {array.dtype} {array.shape}")
    return np.ascontiguousarray(array)


def _query_row(hash_value: str | bytes | np.ndarray) -> np.ndarray:
    if isinstance(hash_value, np.ndarray):
        return _as_hash_rows(hash_value.reshape(1, -1))[0]
    return hashes_to_array([hash_value])[0]


def distances_to(rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distance from each (n, 32) uint8 row to the query row."""
    words = rows.view(np.uint64)
    return np.bitwise_count(words ^ query.view(np.uint64)).sum(axis=1, dtype=np.int32)


def brute_force_search(
    ids: np.ndarray,
    hashes: np.ndarray,
    query: str | bytes | np.ndarray,
    *,
    max_distance: int = DEFAULT_MAX_DISTANCE,
) -> list[PdqMatch]:
    """The baseline: popcount against every stored hash."""
    rows = _as_hash_rows(hashes)
    distances = distances_to(rows, _query_row(query))
    hits = np.flatnonzero(distances <= max_distance)
    return _sorted_matches(np.asarray(ids)[hits], distances[hits])


def _sorted_matches(ids: np.ndarray, distances: np.ndarray) -> list[PdqMatch]:
    order = np.lexsort((ids, distances))
    return [PdqMatch(int(ids[i]), int(distances[i])) for i in order]


def _flip_masks(radius: int) -> np.ndarray:
    """All 16-bit masks with at most `radius` bits set."""
    masks = [0]
    for bits in range(1, radius + 1):
        masks.extend(sum(1 << b for b in combo) for combo in combinations(range(CHUNK_BITS), bits))
    return np.array(masks, dtype=np.uint16)


_FLIP_MASKS = {radius: _flip_masks(radius) for radius in range(4)}  # distances up to 63


@dataclass(frozen=True, slots=True, eq=False)
class _Segment:
    ids: np.ndarray  # (n,) int64
    rows: np.ndarray  # (n, 32) uint8
    order: np.ndarray  # (CHUNKS * n,) int32: per chunk, row numbers sorted by that chunk's value
    offsets: np.ndarray  # (CHUNKS, CHUNK_VALUES + 1) int64: run starts within each chunk's part of order
    sorted_ids: np.ndarray  # for membership tests

    @classmethod
    def build(cls, ids: np.ndarray, rows: np.ndarray) -> "_Segment":
        count = len(ids)
        chunks = rows.view(np.uint16)  # (n, 16)
        order = np.empty(CHUNKS * count, dtype=np.int32)
        offsets = np.zeros((CHUNKS, CHUNK_VALUES + 1), dtype=np.int64)
        for chunk in range(CHUNKS):
            keys = np.ascontiguousarray(chunks[:, chunk])
            order[chunk * count : (chunk + 1) * count] = np.argsort(keys, kind="stable")
            np.cumsum(np.bincount(keys, minlength=CHUNK_VALUES), out=offsets[chunk, 1:])
            offsets[chunk] += chunk * count
        return cls(ids=ids, rows=rows, order=order, offsets=offsets, sorted_ids=np.sort(ids))

    def __contains__(self, item_id: int) -> bool:
        position = np.searchsorted(self.sorted_ids, item_id)
        return bool(position < len(self.sorted_ids) and self.sorted_ids[position] == item_id)

    def candidate_rows(self, query: np.ndarray, max_distance: int) -> np.ndarray | None:
        """Rows that may lie within max_distance, or None when a full scan is cheaper."""
        radius = max_distance // CHUNKS
        masks = _FLIP_MASKS.get(radius)
        if masks is None:
            return None
        probes = query.view(np.uint16)[:, None] ^ masks[None, :]  # (16, P)
        chunk_index = np.arange(CHUNKS)[:, None]
        starts = self.offsets[chunk_index, probes].ravel()
        lengths = self.offsets[chunk_index, probes.astype(np.int64) + 1].ravel() - starts
        total = int(lengths.sum())
        if total > len(self.ids) // 4:
            return None
        nonempty = lengths > 0
        starts, lengths = starts[nonempty], lengths[nonempty]
        run_ends = np.cumsum(lengths)
        positions = np.arange(total) + np.repeat(starts - (run_ends - lengths), lengths)
        return np.unique(self.order[positions])


@dataclass(frozen=True, slots=True, eq=False)
class _Snapshot:
    segment: _Segment
    stale: frozenset[int]  # ids whose segment row was removed or replaced
    delta_ids: np.ndarray  # (m,) int64, unique
    delta_rows: np.ndarray  # (m, 32) uint8

    def __len__(self) -> int:
        return len(self.segment.ids) - len(self.stale) + len(self.delta_ids)


def _empty_rows() -> np.ndarray:
    return np.empty((0, HASH_BYTES), dtype=np.uint8)


class PdqIndex:
    def __init__(self, *, compact_threshold: int | None = None) -> None:
        self._compact_threshold = compact_threshold
        self._write_lock = threading.Lock()
        self._snapshot = _Snapshot(
            segment=_Segment.build(np.empty(0, dtype=np.int64), _empty_rows()),
            stale=frozenset(),
            delta_ids=np.empty(0, dtype=np.int64),
            delta_rows=_empty_rows(),
        )

    # --- reads (lock-free: one snapshot per call) --------------------------------------------------

    def __len__(self) -> int:
        return len(self._snapshot)

    def __contains__(self, item_id: int) -> bool:
        snapshot = self._snapshot
        if np.any(snapshot.delta_ids == item_id):
            return True
        return item_id in snapshot.segment and item_id not in snapshot.stale

    def search(
        self, hash_value: str | bytes | np.ndarray, *, max_distance: int = DEFAULT_MAX_DISTANCE
    ) -> list[PdqMatch]:
        """Ids within `max_distance` bits of the hash, nearest first (ties by id)."""
        if max_distance < 0:
            raise ValueError("max_distance must be >= 0")
        snapshot = self._snapshot
        query = _query_row(hash_value)
        segment = snapshot.segment
        candidates = segment.candidate_rows(query, max_distance)
        rows = segment.rows if candidates is None else segment.rows[candidates]
        distances = distances_to(rows, query)
        hits = np.flatnonzero(distances <= max_distance)
        segment_ids = segment.ids[hits if candidates is None else candidates[hits]]
        segment_distances = distances[hits]
        if snapshot.stale:
            fresh = np.array([item_id not in snapshot.stale for item_id in segment_ids.tolist()], dtype=bool)
            segment_ids, segment_distances = segment_ids[fresh], segment_distances[fresh]
        delta_distances = distances_to(snapshot.delta_rows, query)
        delta_hits = np.flatnonzero(delta_distances <= max_distance)
        return _sorted_matches(
            np.concatenate([segment_ids, snapshot.delta_ids[delta_hits]]),
            np.concatenate([segment_distances, delta_distances[delta_hits]]),
        )

    # --- writes ----------------------------------------------------------------------------------------

    def load(self, ids: Sequence[int] | np.ndarray, hashes: np.ndarray) -> None:
        """Replace the whole index (bulk load from the database)."""
        id_array = np.asarray(ids, dtype=np.int64).copy()
        rows = _as_hash_rows(hashes).copy()
        if len(id_array) != len(rows):
            raise ValueError(f"{len(id_array)} ids but {len(rows)} hashes")
        if len(np.unique(id_array)) != len(id_array):
            raise ValueError("ids must be unique")
        segment = _Segment.build(id_array, rows)
        with self._write_lock:
            self._snapshot = _Snapshot(
                segment=segment,
                stale=frozenset(),
                delta_ids=np.empty(0, dtype=np.int64),
                delta_rows=_empty_rows(),
            )

    def add(self, item_id: int, hash_value: str | bytes | np.ndarray) -> None:
        """Insert, or replace the hash of an id already present."""
        row = _query_row(hash_value)
        item_id = int(item_id)
        with self._write_lock:
            snapshot = self._snapshot
            stale = snapshot.stale | {item_id} if item_id in snapshot.segment else snapshot.stale
            keep = snapshot.delta_ids != item_id
            self._publish(
                snapshot,
                stale=stale,
                delta_ids=np.append(snapshot.delta_ids[keep], item_id),
                delta_rows=np.vstack([snapshot.delta_rows[keep], row[None, :]]),
            )

    def remove(self, item_id: int) -> bool:
        """Forget an id; False when it was not indexed."""
        item_id = int(item_id)
        with self._write_lock:
            snapshot = self._snapshot
            in_delta = snapshot.delta_ids == item_id
            in_segment = item_id in snapshot.segment and item_id not in snapshot.stale
            if not in_delta.any() and not in_segment:
                return False
            keep = ~in_delta
            self._publish(
                snapshot,
                stale=snapshot.stale | {item_id} if item_id in snapshot.segment else snapshot.stale,
                delta_ids=snapshot.delta_ids[keep],
                delta_rows=snapshot.delta_rows[keep],
            )
            return True

    def compact(self) -> None:
        """Fold the delta and the stale rows into a rebuilt segment."""
        with self._write_lock:
            self._snapshot = self._compacted(self._snapshot)

    def _publish(
        self, snapshot: _Snapshot, *, stale: frozenset[int], delta_ids: np.ndarray, delta_rows: np.ndarray
    ) -> None:
        updated = _Snapshot(segment=snapshot.segment, stale=stale, delta_ids=delta_ids, delta_rows=delta_rows)
        threshold = self._compact_threshold or max(MIN_COMPACT_THRESHOLD, len(snapshot.segment.ids) // 64)
        if len(stale) + len(delta_ids) > threshold:
            updated = self._compacted(updated)
        self._snapshot = updated

    @staticmethod
    def _compacted(snapshot: _Snapshot) -> _Snapshot:
        segment = snapshot.segment
        if snapshot.stale:
            stale_ids = np.fromiter(snapshot.stale, dtype=np.int64, count=len(snapshot.stale))
            live = ~np.isin(segment.ids, stale_ids)
        else:
            live = np.ones(len(segment.ids), dtype=bool)
        ids = np.concatenate([segment.ids[live], snapshot.delta_ids])
        rows = np.vstack([segment.rows[live], snapshot.delta_rows])
        return _Snapshot(
            segment=_Segment.build(ids, rows),
            stale=frozenset(),
            delta_ids=np.empty(0, dtype=np.int64),
            delta_rows=_empty_rows(),
        )
