import numpy as np
import onnx
import pytest
import torch
from torch import nn

from generation.gan.config import GANConfig
from generation.gan.export import (
    InferenceGenerator,
    ParityError,
    check_parity,
    export_generator,
    read_model_metadata,
)
from generation.gan.networks import build_generator
from generation.gan.noise import latents_for_seeds
from generation.gan.onnx_runner import make_session, run_generator_float

CLASS_NAMES = ("circle", "square", "triangle")


def _trained_looking_generator(config: GANConfig) -> nn.Module:
    """A generator whose batch norms hold non-trivial statistics, so folding them is really exercised."""
    torch.manual_seed(0)
    generator = build_generator(config)
    for module in generator.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    return generator.eval()


@pytest.fixture(scope="module", params=[False, True], ids=["unconditional", "conditional"])
def exported(request, tmp_path_factory):
    conditional = request.param
    config = GANConfig(
        resolution=32,
        latent_dim=16,
        g_channels=8,
        conditional=conditional,
        num_classes=3 if conditional else 1,
    )
    generator = _trained_looking_generator(config)
    out_dir = tmp_path_factory.mktemp("export")
    result = export_generator(
        generator=generator,
        config=config,
        out_path=out_dir / "model.onnx",
        step=123,
        dataset_hash="ab" * 32,
        class_names=CLASS_NAMES,
    )
    return config, generator, result


def test_export_passes_parity_within_tolerance(exported):
    _, generator, result = exported
    assert result.path.is_file()
    assert result.max_abs_diff <= 1e-4
    assert check_parity(generator=generator, onnx_path=result.path) <= 1e-4


def test_export_is_one_self_contained_file_at_opset_18_or_later(exported):
    _, _, result = exported
    assert [p.name for p in result.path.parent.iterdir()] == ["model.onnx"]
    model = onnx.load(str(result.path), load_external_data=False)
    assert not any(
        init.data_location == onnx.TensorProto.EXTERNAL or init.external_data for init in model.graph.initializer
    )
    opset = {entry.domain: entry.version for entry in model.opset_import}
    assert opset[""] >= 18
    onnx.checker.check_model(model)


def test_graph_has_dynamic_batch_and_the_documented_inputs_and_output(exported):
    config, _, result = exported
    model = onnx.load(str(result.path))
    inputs = {i.name: i.type.tensor_type for i in model.graph.input}
    expected_inputs = {"z", "labels"} if config.conditional else {"z"}
    assert set(inputs) == expected_inputs
    assert inputs["z"].elem_type == onnx.TensorProto.FLOAT
    z_dims = inputs["z"].shape.dim
    assert z_dims[0].dim_param and not z_dims[0].dim_value  # symbolic batch
    assert z_dims[1].dim_value == config.latent_dim
    if config.conditional:
        assert inputs["labels"].elem_type == onnx.TensorProto.INT64
    (output,) = model.graph.output
    assert output.name == "images" and output.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_value for d in output.type.tensor_type.shape.dim[1:]] == [3, 32, 32]


def test_metadata_round_trips(exported):
    config, _, result = exported
    metadata = read_model_metadata(result.path)
    assert GANConfig.from_dict(metadata["config"]) == config
    assert metadata["step"] == 123
    assert metadata["dataset_hash"] == "ab" * 32
    assert metadata["latent_dim"] == 16 and metadata["resolution"] == 32
    assert metadata["conditional"] is config.conditional
    assert metadata["num_classes"] == (3 if config.conditional else 0)
    assert metadata["class_names"] == list(CLASS_NAMES)


def test_perturbed_weights_fail_the_parity_check_with_the_measured_difference(exported, tmp_path):
    config, generator, result = exported
    model = onnx.load(str(result.path))
    largest = max(model.graph.initializer, key=lambda t: np.prod(t.dims))
    weights = onnx.numpy_helper.to_array(largest).copy()
    weights += 0.05
    largest.CopyFrom(onnx.numpy_helper.from_array(weights, largest.name))
    broken = tmp_path / "broken.onnx"
    onnx.save(model, str(broken))

    with pytest.raises(ParityError) as caught:
        check_parity(generator=generator, onnx_path=broken)
    error = caught.value
    assert error.batch_size == 1 and error.tolerance == 1e-4
    z = latents_for_seeds([0], config.latent_dim)
    labels = np.zeros(1, dtype=np.int64) if config.conditional else None
    with torch.no_grad():
        expected = generator(torch.from_numpy(z), None if labels is None else torch.from_numpy(labels)).numpy()
    measured = np.abs(run_generator_float(make_session(broken), z, labels) - expected).max()
    assert error.max_abs_diff == pytest.approx(measured, rel=1e-5)
    assert error.max_abs_diff > error.tolerance
    assert f"{error.max_abs_diff:.3g}" in str(error)


def test_failed_parity_check_writes_no_model(tmp_path):
    config = GANConfig(resolution=32, latent_dim=8, g_channels=4)
    with pytest.raises(ParityError):
        export_generator(
            generator=_trained_looking_generator(config),
            config=config,
            out_path=tmp_path / "model.onnx",
            step=0,
            dataset_hash="0" * 64,
            class_names=("x",),
            tolerance=-1.0,  # nothing can pass
        )
    assert list(tmp_path.iterdir()) == []


def test_inference_rewrite_computes_the_same_function_as_the_eval_generator():
    config = GANConfig(resolution=64, latent_dim=16, g_channels=4, conditional=True, num_classes=3)
    generator = _trained_looking_generator(config)
    rewritten = InferenceGenerator(generator)
    z, labels = torch.randn(5, 16), torch.tensor([0, 1, 2, 0, 1])
    with torch.no_grad():
        assert torch.allclose(rewritten(z, labels), generator(z, labels), atol=1e-6)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in rewritten.modules())


def test_export_leaves_the_callers_generator_untouched():
    config = GANConfig(resolution=32, latent_dim=8, g_channels=4)
    generator = _trained_looking_generator(config).train()
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    InferenceGenerator(generator)
    assert generator.training
    assert all(torch.equal(before[k], v) for k, v in generator.state_dict().items())
