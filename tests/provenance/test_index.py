"""The per-process near-duplicate index follows the database: rows from other processes, late commits."""

import subprocess
import sys

import pytest

from provenance.index import RecordIndex
from provenance.models import ProvenanceRecord
from provenance.services import near_duplicates
from tests.helpers import REPO

PDQ = "5a" * 32
NEAR = "5a" * 31 + "5b"  # one bit away

REGISTER_ELSEWHERE = """
import django
django.setup()
from provenance.services import record_register
record_register(content_sha256="cd" * 32, pdq="{pdq}", pdq_quality=100, subject="gallery.artwork:elsewhere",
                creator="accounts.user:x", owner="accounts.user:x")
"""


@pytest.mark.django_db(transaction=True)
def test_near_duplicate_registered_by_another_process_is_found(subprocess_env):
    assert near_duplicates(pdq=PDQ) == []  # this process has loaded its index
    subprocess.run(
        [sys.executable, "-c", REGISTER_ELSEWHERE.format(pdq=NEAR)],
        cwd=REPO,
        env=subprocess_env,
        check=True,
        timeout=120,
    )
    found = near_duplicates(pdq=PDQ)
    assert [(d.record.subject, d.distance) for d in found] == [("gallery.artwork:elsewhere", 1)]


def _row(pk: int, pdq: str = PDQ) -> ProvenanceRecord:
    return ProvenanceRecord.objects.create(
        id=pk, content_sha256=f"{pk:064x}", pdq=pdq, pdq_quality=100, subject=f"s:{pk}", creator="c", owner="o"
    )


@pytest.mark.django_db
def test_a_row_committed_below_the_high_water_mark_is_still_found():
    index = RecordIndex()
    index.refresh()
    _row(5)
    assert [m.id for m in index.search(PDQ, max_distance=0)] == [5]
    _row(3)  # its id was handed out earlier, but it committed later (concurrent writers)
    assert sorted(m.id for m in index.search(PDQ, max_distance=0)) == [3, 5]


@pytest.mark.django_db
def test_the_index_reloads_when_the_table_shrank():
    index = RecordIndex()
    _row(9)
    index.refresh()
    ProvenanceRecord.objects.all().delete()  # what a rolled-back test leaves behind
    _row(1, pdq=NEAR)
    assert [m.id for m in index.search(NEAR, max_distance=0)] == [1]
