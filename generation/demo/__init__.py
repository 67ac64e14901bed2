"""The demo's shipped model: a small GAN this project's own trainer made, so `make run` has art at once.

`make run`'s demo publishes from this model as soon as the worker is up (minutes after a healthy /healthz on two
CPU cores) and trains a fresh model in the background to show the pipeline. `model.json` records how the
model was made — the dataset recipe, the exact train command, the full config, the seed, the thread count,
the git commit, the library versions, the ONNX file's sha256 — and

    python -m generation.demo --rebuild

makes it again (the dataset is drawn by `generation.gan.procedural`, the model trained by
`python -m generation.gan.train`). `python -m generation.demo --check` verifies the shipped files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_DIR = Path(__file__).resolve().parent
MODEL_FILE = DEMO_DIR / "model.onnx"
METADATA_FILE = DEMO_DIR / "model.json"
SAMPLES_FILE = DEMO_DIR / "samples.png"

# what the model is trained on: procedural landscapes, drawn by generation.gan.procedural.write_landscapes
DATASET_RECIPE = {"kind": "landscapes", "count": 160, "seed": 7, "side": 64}
# the train CLI's flags for the first build (exact steps, so it does the same work wherever it runs); later
# rebuilds train the shipped model.json's config exactly (--config), so the planner's defaults cannot drift it
TRAIN_FLAGS = {"--arch": "dcgan", "--resolution": "64", "--steps": "5000", "--seed": "0", "--device": "cpu"}
TRAIN_THREADS = 2  # CPU kernels may sum in another order with another thread count


class DemoModelError(RuntimeError):
    """The shipped demo model is missing or does not match its metadata."""


@dataclass(frozen=True)
class DemoModel:
    path: Path
    metadata: dict[str, Any]

    @property
    def sha256(self) -> str:
        return self.metadata["onnx_sha256"]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_demo_model() -> DemoModel:
    """The shipped model and its metadata, its hash checked (a corrupt or swapped file is refused)."""
    if not MODEL_FILE.is_file() or not METADATA_FILE.is_file():
        raise DemoModelError(f"the demo model is missing from {DEMO_DIR}: run python -m generation.demo --rebuild")
    metadata = json.loads(METADATA_FILE.read_text())
    actual = file_sha256(MODEL_FILE)
    if actual != metadata.get("onnx_sha256"):
        raise DemoModelError(
            f"{MODEL_FILE.name} has sha256 {actual}, but model.json records "
            f"{metadata.get('onnx_sha256')}: rebuild it with python -m generation.demo --rebuild"
        )
    return DemoModel(path=MODEL_FILE, metadata=metadata)
