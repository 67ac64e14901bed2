"""The near-duplicate index kept in step with the database: one PdqIndex per process, loaded lazily, then
topped up before each query from rows above its high-water mark (an indexed primary-key range scan), so a
record registered by another process is found.

Primary keys are handed out at insert but become visible at commit, so a row can appear below the mark
after the mark passed it (PostgreSQL, concurrent writers). Ids skipped when the mark moves are remembered as
gaps and looked up again on later top-ups until they appear or expire (a rolled-back insert never does).
Records are never deleted; a database that shrank (a test rollback) triggers a full reload.
"""

import threading
import time
from collections import deque

import numpy as np
from django.db.models import Max, Q

from provenance import conf
from provenance.fingerprints.pdqindex import PdqIndex, PdqMatch, hashes_to_array
from provenance.models import ProvenanceRecord

GAP_TTL_SECONDS = 600.0
MAX_GAPS = 10_000
LOAD_CHUNK = 50_000
RELOAD_ABOVE = 2_000


class RecordIndex:
    def __init__(self) -> None:
        self._index = PdqIndex()
        self._lock = threading.Lock()
        self._high_water: int | None = None
        self._gaps: dict[int, float] = {}  # id -> when first missed (monotonic)

    def search(self, pdq: str, *, max_distance: int) -> list[PdqMatch]:
        self.refresh()
        return self._index.search(pdq, max_distance=max_distance)

    def __len__(self) -> int:
        return len(self._index)

    def refresh(self) -> None:
        with self._lock:
            if self._high_water is None:
                self._load()
            else:
                self._top_up()

    def _usable(self, quality: int) -> bool:
        return quality >= conf.get("PROVENANCE_PDQ_MIN_QUALITY")

    def _load(self) -> None:
        ids: list[int] = []
        hashes: list[str] = []
        recent: deque[int] = deque(maxlen=MAX_GAPS)  # ids near the mark, to find the not-yet-committed ones
        rows = ProvenanceRecord.objects.order_by("id").values_list("id", "pdq", "pdq_quality")
        for row_id, pdq, quality in rows.iterator(chunk_size=LOAD_CHUNK):
            recent.append(row_id)
            if self._usable(quality):
                ids.append(row_id)
                hashes.append(pdq)
        self._index.load(np.asarray(ids, dtype=np.int64), hashes_to_array(hashes))
        high_water = recent[-1] if recent else 0
        now = time.monotonic()
        missing = set(range(max(1, high_water - MAX_GAPS + 1), high_water)) - set(recent)
        self._high_water, self._gaps = high_water, dict.fromkeys(missing, now)

    def _top_up(self) -> None:
        now = time.monotonic()
        self._gaps = {gap: seen for gap, seen in self._gaps.items() if now - seen < GAP_TTL_SECONDS}
        condition = Q(id__gt=self._high_water)
        if self._gaps:
            condition |= Q(id__in=list(self._gaps))
        rows = list(ProvenanceRecord.objects.filter(condition).order_by("id").values_list("id", "pdq", "pdq_quality"))
        if not rows or rows[-1][0] <= self._high_water:
            # nothing above the mark: make sure the table did not shrink under us (only a rolled-back test)
            newest = ProvenanceRecord.objects.aggregate(newest=Max("id"))["newest"] or 0
            if newest < self._high_water:
                self._load()
                return
        if len(rows) > RELOAD_ABOVE:  # a bulk import: rebuilding beats adding row by row
            self._load()
            return
        seen = set()
        for row_id, pdq, quality in rows:
            seen.add(row_id)
            self._gaps.pop(row_id, None)
            if self._usable(quality):
                self._index.add(row_id, pdq)
        above = [row_id for row_id in seen if row_id > self._high_water]
        if above:
            newest = max(above)
            missing = set(range(self._high_water + 1, newest)) - seen
            for gap in sorted(missing)[-MAX_GAPS:]:
                self._gaps.setdefault(gap, now)
            self._high_water = newest


_index: RecordIndex | None = None
_index_lock = threading.Lock()


def record_index() -> RecordIndex:
    global _index
    with _index_lock:
        if _index is None:
            _index = RecordIndex()
        return _index


def record_index_reset() -> None:
    """Forget the process's index (tests that roll the database back between cases)."""
    global _index
    with _index_lock:
        _index = None
