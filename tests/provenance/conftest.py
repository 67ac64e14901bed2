"""Fixtures for the provenance app: an anvil node per session (and per test where the test kills it), the
settings pointed at it, block mining, registering a synthetic image and running the chain tasks (plain helpers
are in helpers.py)."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from provenance.chain.anvil import AnvilProcess
from tests.provenance.helpers import image_bytes, rpc


@pytest.fixture(scope="session")
def anvil_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilProcess]:
    with AnvilProcess(log_path=tmp_path_factory.mktemp("anvil") / "anvil.log") as node:
        yield node


@pytest.fixture
def chain_settings(settings, anvil_node: AnvilProcess):
    """Django settings pointed at the session's anvil (each test deploys its own registry)."""
    settings.CHAIN_RPC_URL = anvil_node.rpc_url
    settings.CHAIN_ID = anvil_node.chain_id
    settings.CHAIN_PRIVATE_KEY = ""
    settings.CHAIN_CONFIRMATIONS = 2
    return settings


@pytest.fixture
def own_anvil(settings, tmp_path: Path) -> Iterator[AnvilProcess]:
    """An anvil of this test's own, with a state file, that the test may kill and restart."""
    node = AnvilProcess(state_path=tmp_path / "chain" / "state.json", log_path=tmp_path / "anvil.log")
    node.start()
    settings.CHAIN_RPC_URL = node.rpc_url
    settings.CHAIN_ID = node.chain_id
    settings.CHAIN_PRIVATE_KEY = ""
    settings.CHAIN_CONFIRMATIONS = 2
    yield node
    node.kill()


@pytest.fixture
def anvil_mine(settings) -> Callable[[int], None]:
    """Mine blocks on the node the settings point at (to reach CHAIN_CONFIRMATIONS)."""

    def mine(blocks: int = 1) -> None:
        rpc(settings.CHAIN_RPC_URL, "anvil_mine", [hex(blocks)])

    return mine


@pytest.fixture
def register_image(db) -> Callable[..., tuple]:
    """Register a synthetic image the way a publishing app would: hash the original bytes, then register."""
    from provenance.services import hash_file, record_register

    def register(
        seed: int, *, owner: str = "accounts.user:owner", user=None, raw: bytes | None = None, watermark_key: str = ""
    ):
        raw = raw if raw is not None else image_bytes(seed)
        hashes = hash_file(raw=raw)
        record = record_register(
            content_sha256=hashes.sha256,
            pdq=hashes.pdq,
            pdq_quality=hashes.pdq_quality,
            subject=f"gallery.artwork:{seed}",
            creator=f"accounts.user:creator{seed}",
            owner=owner,
            user=user,
            watermark_key=watermark_key,
        )
        return record, raw

    return register


@pytest.fixture
def run_chain(run_tasks, django_capture_on_commit_callbacks) -> Callable[..., None]:
    """Enqueue the given chain tasks (in order) and run everything ready, as the scheduler and worker would,
    including what their on-commit hooks enqueue (the test's own transaction never commits)."""
    from provenance import tasks

    def run(*steps: str) -> None:
        for step in steps:
            getattr(tasks, f"provenance_{step}").enqueue()
            for _ in range(10):
                with django_capture_on_commit_callbacks(execute=True):
                    ran = run_tasks()
                if not ran:
                    break

    return run
