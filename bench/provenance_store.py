"""The pipeline benchmark's database step (bench/provenance.py): hashed records written through the
provenance models into a throwaway SQLite database, in batches of PROVENANCE_BATCH_MAX with their leaf
indexes, proofs and anchor outbox rows (provenance.services.records_import).

The pipeline's own tree commits to raw creator bytes; the database commits to creator *references*
(keccak256 of the string), so records_import builds its batch trees again: the measured store step does the
work production does, not less.
"""

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def configure_django(*, var_dir: Path) -> None:
    """Django on a throwaway SQLite database under `var_dir` (never the development database)."""
    import django
    from django.conf import settings

    if not settings.configured:
        var_dir.mkdir(parents=True, exist_ok=True)
        os.environ["ATELIER_VAR_DIR"] = str(var_dir)
        os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'bench.sqlite3'}"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class DatabaseStore:
    """A StoreStep: `store(records, tree, proofs)`; `reset()` empties the tables between timed runs."""

    def __init__(self, *, var_dir: Path) -> None:
        configure_django(var_dir=var_dir)
        self.reset()

    def reset(self) -> None:
        from provenance.models import AnchorBatch, ChainTransaction, ContentCredential, ProvenanceRecord

        ContentCredential.objects.all().delete()
        ProvenanceRecord.objects.all().delete()
        AnchorBatch.objects.all().delete()
        ChainTransaction.objects.all().delete()

    def __call__(self, records: Sequence[Any], tree: Any, proofs: Sequence[Sequence[bytes]]) -> None:
        from provenance.services import RecordEntry, records_import

        entries = [
            RecordEntry(
                content_sha256=record.content_sha256.hex(),
                pdq=record.perceptual_hash.hex(),
                pdq_quality=record.pdq_quality,
                subject=f"bench.image:{Path(record.path).name}",
                creator=f"bench.creator:{record.creator.hex()}",
                owner=f"bench.creator:{record.creator.hex()}",
            )
            for record in records
        ]
        stored = records_import(entries=entries)
        if stored != len({entry.content_sha256 for entry in entries}):
            raise AssertionError(f"stored {stored} of {len(entries)} records: the tables were not empty")

    def count(self) -> int:
        from provenance.models import ProvenanceRecord

        return ProvenanceRecord.objects.count()
