"""Fixtures for the generation app's tests: private media and run folders, a recording meter, real models."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from generation import runtime
from tests.generation.factories import TINY_CONFIG, export_tiny_onnx, install_model_version
from tests.generation.meters import RecordingMeter


def _is_engine_test(request: pytest.FixtureRequest) -> bool:
    return "gan" in Path(str(request.node.path)).relative_to(Path(__file__).parent).parts[:-1]


@pytest.fixture(autouse=True)
def generation_dirs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Path] | None]:
    """Each test gets its own MEDIA_ROOT and runs folder, a fresh session cache and the recording meter."""
    if _is_engine_test(request):
        yield None
        return
    settings = request.getfixturevalue("settings")
    dirs = {"media": tmp_path / "media", "runs": tmp_path / "runs"}
    settings.MEDIA_ROOT = str(dirs["media"])
    settings.GENERATION_RUNS_ROOT = str(dirs["runs"])
    settings.GENERATION_METER = "tests.generation.meters.RecordingMeter"
    RecordingMeter.reset()
    runtime.clear_caches()
    yield dirs
    runtime.clear_caches()


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread() -> Iterator[None]:
    # Two intra-op threads on a shared 2-core machine stall at every barrier; one keeps these tests fast.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def meter() -> type[RecordingMeter]:
    return RecordingMeter


@pytest.fixture
def tiny_config() -> dict:
    return dict(TINY_CONFIG)


@pytest.fixture(scope="session")
def exported_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, parity-checked export of a 2-step 32px generator (built once per session)."""
    return export_tiny_onnx(tmp_path_factory.mktemp("onnx-unconditional"), conditional=False)


@pytest.fixture(scope="session")
def exported_conditional_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_tiny_onnx(tmp_path_factory.mktemp("onnx-conditional"), conditional=True)


@pytest.fixture
def model_for(db, exported_onnx: Path, exported_conditional_onnx: Path) -> Callable[..., object]:
    def make(owner, *, conditional: bool = False):
        path = exported_conditional_onnx if conditional else exported_onnx
        return install_model_version(owner=owner, onnx_path=path, conditional=conditional)

    return make
