"""Builders for the generation tests: images, zips, uploads, a really exported model, tiny configs."""

import hashlib
import io
import zipfile
from pathlib import Path

from django.core.files.storage import default_storage
from PIL import Image

TINY_CONFIG = {
    "resolution": 32,
    "latent_dim": 16,
    "g_channels": 8,
    "d_channels": 8,
    "batch_size": 8,
    "steps": 6,
    "log_every": 1,
    "checkpoint_every": 3,
    "sample_every": 3,
    "sample_count": 16,
}


def image_bytes(color=(200, 30, 90), size=(24, 24), fmt="PNG", **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt, **save)
    return out.getvalue()


def shape_image(index: int, size: int = 32) -> bytes:
    """A distinct little picture per index (a square whose colour and position vary)."""
    image = Image.new("RGB", (size, size), (index * 37 % 256, 40, 90))
    for x in range(size // 4):
        for y in range(size // 4):
            image.putpixel(((index * 3 + x) % size, (index * 5 + y) % size), (250, 250 - index * 11 % 200, 60))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def noise_image(seed: int, size: int = 32) -> bytes:
    """Random pixels: incompressible, so the file is about 3 bytes a pixel."""
    import numpy as np

    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, format="PNG")
    return out.getvalue()


def stripes_image(index: int, size: int = 32) -> bytes:
    """Two-colour stripes whose angle, period and colours vary with the index: a periodic pattern."""
    import numpy as np

    rng = np.random.default_rng(index)
    angle, period = rng.uniform(0, np.pi), rng.uniform(2.5, 6)
    yy, xx = np.mgrid[0:size, 0:size]
    on = (np.floor((xx * np.cos(angle) + yy * np.sin(angle)) / period) % 2).astype(bool)
    colours = rng.integers(0, 256, (2, 3))
    out = io.BytesIO()
    Image.fromarray(np.where(on[..., None], colours[0], colours[1]).astype(np.uint8), "RGB").save(out, format="PNG")
    return out.getvalue()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def png_bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG")
    return out.getvalue()


def upload(
    client, files: dict[str, bytes] | list[tuple[str, bytes]], name: str = "shapes", *, process: bool = True, **extra
):
    """POST a dataset upload. Accepted (202), its processing job runs here and the dataset as the API shows it
    afterwards (GET, 200: ready or failed) is returned; `process=False` returns the 202 itself."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.helpers import run_queued_tasks

    items = files.items() if isinstance(files, dict) else files
    payload = {"name": name, "files": [SimpleUploadedFile(filename, data) for filename, data in items]}
    response = client.post("/api/v1/datasets", payload, format="multipart", **extra)
    if not process or response.status_code != 202:
        return response
    run_queued_tasks(queues="default")
    return client.get(response["Location"])


def labelled_zip(per_class: int = 4) -> bytes:
    return zip_bytes(
        {
            f"shapes/{label}/{i}.png": shape_image(offset + i)
            for offset, label in ((0, "circles"), (50, "squares"))
            for i in range(per_class)
        }
    )


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in Path(root).rglob("*") if path.is_file())


def install_model_version(*, owner, onnx_path: Path, conditional: bool = False):
    """Rows for a model version whose ONNX file is a real export (the session-built one), owned by `owner`."""
    from django.core.files.base import ContentFile

    from core.jobs import JobState
    from generation.gan.data import dataset_hash
    from generation.gan.export import read_model_metadata
    from generation.models import Dataset, ModelVersion, TrainingRun

    meta = read_model_metadata(onnx_path)
    payload = Path(onnx_path).read_bytes()
    dataset = Dataset.objects.create(
        owner=owner,
        name="toy",
        image_count=0,
        dataset_hash=dataset_hash([]),
        class_names=meta["class_names"] if conditional else [],
    )
    run = TrainingRun.objects.create(
        owner=owner,
        dataset=dataset,
        config=meta["config"],
        state=JobState.SUCCEEDED,
        step=meta["step"],
        total_steps=meta["step"],
    )
    stored = default_storage.save(f"generation/models/{run.public_id}.onnx", ContentFile(payload))
    return ModelVersion.objects.create(
        owner=owner,
        training_run=run,
        name="toy model",
        onnx_file=stored,
        onnx_sha256=hashlib.sha256(payload).hexdigest(),
        onnx_size=len(payload),
        parity_passed=True,
        parity_max_abs_diff=0.0,
        parity_tolerance=1e-4,
        metrics={"available": False, "reason": "test"},
        dataset_hash=meta["dataset_hash"],
        config=meta["config"],
        step=meta["step"],
        latent_dim=meta["latent_dim"],
        resolution=meta["resolution"],
        conditional=meta["conditional"],
        num_classes=meta["num_classes"],
        class_names=meta["class_names"],
    )


def export_tiny_onnx(folder: Path, *, conditional: bool = False, seed: int = 3) -> Path:
    """A really trained (2 steps) and parity-checked export of a tiny 32 px generator, in one torch thread."""
    import torch

    from generation.gan.config import GANConfig
    from generation.gan.data import prepare_dataset, write_toy_dataset
    from generation.gan.export import export_generator
    from generation.gan.trainer import Trainer

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data = write_toy_dataset(out_dir=folder / "data", classes=2, per_class=4, resolution=32, seed=seed)
        prepared = prepare_dataset(image_dir=data, resolution=32)
        config = GANConfig.from_dict(
            {**TINY_CONFIG, "steps": 2, "conditional": conditional, "num_classes": 2 if conditional else 1}
        )
        trainer = Trainer(config=config, dataset=prepared, device="cpu", out_dir=None)
        trainer.run()
        out = folder / "model.onnx"
        export_generator(
            generator=trainer.generator_ema,
            config=config,
            out_path=out,
            step=trainer.step,
            dataset_hash=trainer.dataset_hash,
            class_names=trainer.class_names,
        )
    finally:
        torch.set_num_threads(previous)
    return out
