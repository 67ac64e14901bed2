"""EMA generator -> one self-contained ONNX file, parity-checked against torch, described by its metadata.

What is exported is `InferenceGenerator`, the eval-mode function of the trained generator rewritten for
inference: each batch norm folded into the transposed convolution before it, and the first layer (a 4x4
transposed convolution of a 1x1 input) as one matrix product, which onnxruntime runs ~5x faster than its
ConvTranspose; then, in the ONNX graph, the wide stride-2 transposed convolutions become four phase convolutions
each (generation.gan.onnx_rewrite). The parity check compares the file with the *original* module, so it also
guards both rewrites.

A FastGAN generator (generation.gan.fastgan) is rewritten the same way by `InferenceFastGenerator`: batch norms
folded into the layer before them (the first linear layer, each up block's transposed convolution, whose
kernel is the upsample-then-3x3 one derived by `nearest_up_kernel`), skip-layer excitation pooling as a plain
average pool; its transposed convolutions then get the same phase rewrite.

Graph: inputs `z` float32 [N, latent] (+ `labels` int64 [N] when conditional), output `images` float32
[N, 3, H, W] in [-1, 1]; N is dynamic.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from generation.gan.config import GANConfig
from generation.gan.fastgan import FastGenerator, nearest_up_kernel
from generation.gan.files import atomic_write
from generation.gan.networks import Generator, PeriodicMaps
from generation.gan.noise import latents_for_seeds
from generation.gan.onnx_rewrite import split_transposed_convs
from generation.gan.onnx_runner import CPU, make_session, run_generator_float

OPSET = 18
IR_VERSION = 10  # onnxruntime 1.2x/1.3x reads IR <= 13; 10 is what opset 18 needs
MODEL_FORMAT = "atelier.gan-generator/1"
NOISE_SCHEME = "numpy-pcg64-standard-normal/psi-scaling"  # see generation.gan.noise
PARITY_TOLERANCE = 1e-4
PARITY_BATCH_SIZES = (1, 64)


class ParityError(RuntimeError):
    """The ONNX model's output differs from torch's by more than the tolerance."""

    def __init__(self, *, max_abs_diff: float, tolerance: float, batch_size: int) -> None:
        super().__init__(
            f"ONNX output differs from torch by {max_abs_diff:.3g} (> {tolerance:g}) at batch size {batch_size}"
        )
        self.max_abs_diff = max_abs_diff
        self.tolerance = tolerance
        self.batch_size = batch_size


@dataclass(frozen=True)
class ExportResult:
    path: Path
    max_abs_diff: float  # worst over the parity batch sizes
    size_bytes: int


class InferenceGenerator(nn.Module):
    """The same function as `generator.eval()`, with batch norms folded and the first layer a matmul."""

    def __init__(self, generator: Generator) -> None:
        super().__init__()
        layers = list(generator.main)
        self.embed = None if generator.embed is None else _frozen_copy(generator.embed)
        if self.embed is not None:
            self.embed.weight.data *= generator.conditioning.detach().cpu()
        first_weight, first_bias = _fold(layers[0], layers[1])  # [in, C0, 4, 4], [C0]
        in_dim, self.first_channels = first_weight.shape[:2]
        self.first = nn.Linear(in_dim, self.first_channels * 16)
        self.first.weight.data = first_weight.reshape(in_dim, -1).T.contiguous()  # [C0*16, in]
        self.first.bias.data = first_bias.repeat_interleave(16)
        body: list[nn.Module] = []
        index = 3  # past ConvTranspose, BatchNorm, ReLU
        while index < len(layers):
            conv = layers[index]
            if isinstance(layers[index + 1], nn.BatchNorm2d):
                weight, bias = _fold(conv, layers[index + 1])
                activation, index = layers[index + 2], index + 3
            else:
                weight, bias = conv.weight.detach().clone(), None
                activation, index = layers[index + 1], index + 2
            folded = nn.ConvTranspose2d(
                conv.in_channels,
                conv.out_channels,
                conv.kernel_size,
                conv.stride,
                conv.padding,
                bias=bias is not None,
            )
            folded.weight.data = weight
            if bias is not None:
                folded.bias.data = bias
            body += [folded, type(activation)()]
        self.body = nn.Sequential(*body)
        self.periodic = None if generator.periodic is None else _frozen(generator.periodic)
        self.eval().requires_grad_(False)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        # z: [N, latent] -> [N, 3, R, R]
        if self.embed is not None:
            z = torch.cat([z, self.embed(labels)], dim=1)
        h = torch.relu(self.first(z)).reshape(z.shape[0], self.first_channels, 4, 4)  # [N, C0, 4, 4]
        if self.periodic is None:
            return self.body(h)
        return PeriodicMaps.feed(self.body, h, self.periodic(z))


class InferenceFastGenerator(nn.Module):
    """The same function as `FastGenerator.eval()`, with batch norms folded and plain layers."""

    def __init__(self, generator: FastGenerator) -> None:
        super().__init__()
        self.latent_dim, self.resolution = generator.latent_dim, generator.resolution
        self.embed = None
        if generator.embed is not None:
            self.embed = _frozen_copy(generator.embed)
            self.embed.weight.data *= generator.conditioning.detach().cpu()
        scale, shift = _bn_affine(generator.first_norm)  # [2C] per channel of the [N, 2C, 4, 4] map
        self.first = nn.Linear(generator.first.in_features, generator.first.out_features)
        self.first.weight.data = (generator.first.weight.double() * scale.repeat_interleave(16)[:, None]).float()
        bias = generator.first.bias.double() * scale.repeat_interleave(16) + shift.repeat_interleave(16)
        self.first.bias.data = bias.float()
        self.blocks = nn.ModuleDict()
        for side, block in generator.blocks.items():
            kernel = nearest_up_kernel(block.up.weight.detach().double())  # [Cin, 2Cout, 4, 4]
            scale, shift = _bn_affine(block.norm)
            conv = nn.ConvTranspose2d(kernel.shape[0], kernel.shape[1], 4, 2, 1, bias=True)
            conv.weight.data = (kernel * scale[None, :, None, None]).float()
            conv.bias.data = shift.float()
            self.blocks[side] = conv
        self.sources = {big: small for small, big in generator.pairs}
        self.excite = nn.ModuleDict()
        for side, excite in generator.excite.items():
            _, squeeze, swish, expand, sigmoid = excite.main
            pool = nn.AvgPool2d(self.sources[int(side)] // 4) if self.sources[int(side)] > 4 else nn.Identity()
            self.excite[side] = nn.Sequential(pool, _frozen(squeeze), type(swish)(), _frozen(expand), type(sigmoid)())
        self.to_rgb = _frozen(generator.to_rgb)
        self.eval().requires_grad_(False)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(labels)], dim=1)
        features = {4: _glu(self.first(z).reshape(z.shape[0], -1, 4, 4))}
        side = 4
        while side < self.resolution:
            side *= 2
            h = _glu(self.blocks[str(side)](features[side // 2]))
            if side in self.sources:
                h = h * self.excite[str(side)](features[self.sources[side]])
            features[side] = h
        return torch.tanh(self.to_rgb(features[self.resolution]))


def inference_module(generator: nn.Module) -> nn.Module:
    """The export-ready rewrite of a trained generator of either architecture."""
    if isinstance(generator, FastGenerator):
        return InferenceFastGenerator(generator)
    if isinstance(generator, Generator):
        return InferenceGenerator(generator)
    raise TypeError(f"no ONNX rewrite for {type(generator).__name__}")


def _glu(x: torch.Tensor) -> torch.Tensor:
    a, b = x.chunk(2, dim=1)
    return a * torch.sigmoid(b)


def _bn_affine(norm: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode batch norm as y = x * scale + shift per channel, in float64."""
    scale = norm.weight.detach().double() / torch.sqrt(norm.running_var.detach().double() + norm.eps)
    return scale, norm.bias.detach().double() - norm.running_mean.detach().double() * scale


def _frozen(module: nn.Module) -> nn.Module:
    return copy.deepcopy(module).eval().requires_grad_(False)


def _fold(conv: nn.ConvTranspose2d, norm: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) of conv followed by eval-mode batch norm; computed in float64."""
    scale = norm.weight.double() / torch.sqrt(norm.running_var.double() + norm.eps)  # [C_out]
    weight = conv.weight.double() * scale[None, :, None, None]  # ConvTranspose weight: [C_in, C_out, k, k]
    bias = norm.bias.double() - norm.running_mean.double() * scale
    if conv.bias is not None:
        bias = bias + conv.bias.double() * scale
    return weight.float().detach(), bias.float().detach()


def _cpu_copy(generator: nn.Module) -> nn.Module:
    """An eval-mode CPU copy, leaving the caller's module (maybe training on a GPU) untouched."""
    return copy.deepcopy(generator).cpu().eval()


def _frozen_copy(module: nn.Module) -> nn.Module:
    clone = type(module)(module.num_embeddings, module.embedding_dim)
    clone.load_state_dict(module.state_dict())
    return clone


def to_onnx(generator: nn.Module) -> onnx.ModelProto:
    """The ONNX graph of the generator's eval-mode function (no metadata, not checked)."""
    module = inference_module(_cpu_copy(generator))
    conditional = module.embed is not None
    example_z = torch.zeros(2, generator.latent_dim)  # batch 2: a batch of 1 would be specialised away
    args: tuple[torch.Tensor, ...] = (example_z,)
    batch = torch.export.Dim("batch", min=1, max=65536)
    dynamic_shapes: dict[str, Any] = {"z": {0: batch}}
    input_names = ["z"]
    if conditional:
        args += (torch.zeros(2, dtype=torch.int64),)
        dynamic_shapes["labels"] = {0: batch}
        input_names.append("labels")
    with _quiet():
        program = torch.onnx.export(
            module,
            args,
            input_names=input_names,
            output_names=["images"],
            opset_version=OPSET,
            dynamo=True,
            external_data=False,
            dynamic_shapes=dynamic_shapes,
            optimize=True,
            verbose=False,
        )
    model = program.model_proto
    model.ir_version = min(model.ir_version, IR_VERSION)
    split_transposed_convs(model)
    return model


def export_generator(
    *,
    generator: nn.Module,
    config: GANConfig,
    out_path: Path,
    step: int,
    dataset_hash: str,
    class_names: Sequence[str],
    tolerance: float = PARITY_TOLERANCE,
) -> ExportResult:
    """Export, check parity, then move the file into place: a model that fails the check is never written."""
    model = to_onnx(generator)
    metadata = {
        "atelier.format": MODEL_FORMAT,
        "atelier.config": config.to_json(),
        "atelier.step": str(step),
        "atelier.dataset_hash": dataset_hash,
        "atelier.latent_dim": str(config.latent_dim),
        "atelier.resolution": str(config.resolution),
        "atelier.conditional": json.dumps(config.conditional),
        "atelier.num_classes": str(config.num_classes if config.conditional else 0),
        "atelier.class_names": json.dumps(list(class_names)),
        "atelier.noise": NOISE_SCHEME,
    }
    onnx.helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    payload = model.SerializeToString()  # one file: weights inline (well under protobuf's 2 GB)
    fd, temp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        max_abs_diff = check_parity(generator=generator, onnx_path=Path(temp_name), tolerance=tolerance)
        atomic_write(out_path, lambda handle: handle.write(payload))
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
    return ExportResult(path=out_path, max_abs_diff=max_abs_diff, size_bytes=len(payload))


def check_parity(
    *,
    generator: nn.Module,
    onnx_path: Path,
    tolerance: float = PARITY_TOLERANCE,
    batch_sizes: Sequence[int] = PARITY_BATCH_SIZES,
    first_seed: int = 0,
) -> float:
    """Max |torch - onnxruntime(CPU)| over fixed seeds at each batch size; ParityError above `tolerance`."""
    generator = _cpu_copy(generator)
    session = make_session(onnx_path, providers=[CPU])
    worst = 0.0
    for batch_size in batch_sizes:
        seeds = range(first_seed, first_seed + batch_size)
        z = latents_for_seeds(seeds, generator.latent_dim)
        labels = np.arange(batch_size, dtype=np.int64) % generator.num_classes if generator.num_classes else None
        with torch.no_grad():
            expected = generator(torch.from_numpy(z), None if labels is None else torch.from_numpy(labels)).numpy()
        actual = run_generator_float(session, z, labels)
        if actual.shape != expected.shape:
            raise ParityError(max_abs_diff=float("inf"), tolerance=tolerance, batch_size=batch_size)
        diff = float(np.max(np.abs(actual.astype(np.float64) - expected)))
        if not diff <= tolerance:  # also catches NaN
            raise ParityError(max_abs_diff=diff, tolerance=tolerance, batch_size=batch_size)
        worst = max(worst, diff)
    return worst


def read_model_metadata(path: Path | str) -> dict[str, Any]:
    """The metadata an exported model carries, typed: config (dict), step, dataset_hash, latent_dim,
    resolution, conditional, num_classes (0 if unconditional), class_names, noise."""
    model = onnx.load(str(path), load_external_data=False)
    props = {prop.key: prop.value for prop in model.metadata_props}
    if props.get("atelier.format") != MODEL_FORMAT:
        raise ValueError(f"{path} is not an exported Atelier generator ({MODEL_FORMAT})")
    return {
        "format": props["atelier.format"],
        "config": json.loads(props["atelier.config"]),
        "step": int(props["atelier.step"]),
        "dataset_hash": props["atelier.dataset_hash"],
        "latent_dim": int(props["atelier.latent_dim"]),
        "resolution": int(props["atelier.resolution"]),
        "conditional": json.loads(props["atelier.conditional"]),
        "num_classes": int(props["atelier.num_classes"]),
        "class_names": json.loads(props["atelier.class_names"]),
        "noise": props["atelier.noise"],
    }


@contextlib.contextmanager
def _quiet():
    """The exporter narrates every stage on stdout and warns about optional packages; keep CLIs readable."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
