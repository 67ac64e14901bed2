"""The sub-pixel rewrite of stride-2 transposed convolutions computes what the ConvTranspose computed."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from generation.gan.onnx_rewrite import split_transposed_convs
from generation.gan.onnx_runner import make_session


def transposed_conv_model(*, cin: int, cout: int, strides=(2, 2), pads=(1, 1, 1, 1), bias: bool = True):
    rng = np.random.default_rng(cin * 1000 + cout)
    weight = rng.standard_normal((cin, cout, 4, 4)).astype(np.float32)
    initializers = [numpy_helper.from_array(weight, "w")]
    inputs = ["x", "w"]
    if bias:
        initializers.append(numpy_helper.from_array(rng.standard_normal(cout).astype(np.float32), "b"))
        inputs.append("b")
    node = helper.make_node("ConvTranspose", inputs, ["y"], kernel_shape=[4, 4], strides=list(strides), pads=list(pads))
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", cin, 5, 7])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", cout, "h", "w"])],
        initializer=initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=10)


def run(model: onnx.ModelProto, x: np.ndarray, tmp_path, name: str) -> np.ndarray:
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    return make_session(path).run(None, {"x": x})[0]


@pytest.mark.parametrize("bias", [True, False])
def test_phase_convolutions_equal_the_transposed_convolution(tmp_path, bias):
    model = transposed_conv_model(cin=16, cout=32, bias=bias)
    x = np.random.default_rng(1).standard_normal((3, 16, 5, 7)).astype(np.float32)
    expected = run(model, x, tmp_path, "original")
    assert split_transposed_convs(model) == 1
    onnx.checker.check_model(model)
    assert [node.op_type for node in model.graph.node] == ["Conv"] * 4 + ["Concat", "DepthToSpace"]
    actual = run(model, x, tmp_path, "rewritten")
    assert actual.shape == expected.shape == (3, 32, 10, 14)
    assert np.max(np.abs(actual - expected)) < 1e-4
    assert "w" not in {init.name for init in model.graph.initializer}  # the 4x4 kernel is gone


@pytest.mark.parametrize(
    "kwargs",
    [{"cin": 16, "cout": 8}, {"cin": 16, "cout": 32, "strides": (1, 1)}, {"cin": 16, "cout": 32, "pads": (0, 0, 0, 0)}],
)
def test_other_transposed_convolutions_and_narrow_outputs_are_left_alone(kwargs):
    model = transposed_conv_model(**kwargs)
    before = model.SerializeToString()
    assert split_transposed_convs(model) == 0
    assert model.SerializeToString() == before
