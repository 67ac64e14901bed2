"""Graph rewrite of an exported generator for onnxruntime's CPU kernels: sub-pixel (phase) transposed convs.

A ConvTranspose with a 4x4 kernel, stride 2 and padding 1 computes each of the four output phases
(even/odd row x even/odd column) from a 2x2 window of the input. So it equals four ordinary 2x2 convolutions
over the untouched input, each with its own one-sided padding, whose outputs interleave into the result:
Concat along channels in DCR order, then DepthToSpace(2). Same FLOPs as the ConvTranspose, but onnxruntime's
Conv kernels are ~1.6x faster than its ConvTranspose (GEMM + col2im). The interleave costs a copy of the output,
which pays off only where a layer has many output channels: the RGB output layer is left alone. (Moving the
ReLU that follows onto each phase, where onnxruntime fuses it into the Conv, measured no gain.) The parity
check in export.py compares the rewritten file with the torch module, so it also guards this rewrite.

Row taps, for output row 2m + a (the same for columns):
  a = 0: input rows m-1, m   with kernel rows 3, 1   -> pad 1 before, 0 after
  a = 1: input rows m, m+1   with kernel rows 2, 0   -> pad 0 before, 1 after
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

PHASE_TAPS = {0: [3, 1], 1: [2, 0]}
PHASE_PADS = {0: (1, 0), 1: (0, 1)}  # (before, after)
MIN_OUT_CHANNELS = 32


def _attributes(node: onnx.NodeProto) -> dict:
    return {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}


def _is_stride2_k4_p1(node: onnx.NodeProto, weight: np.ndarray | None) -> bool:
    if node.op_type != "ConvTranspose" or weight is None or weight.ndim != 4 or weight.shape[2:] != (4, 4):
        return False
    attributes = _attributes(node)
    return (
        list(attributes.get("strides", [1, 1])) == [2, 2]
        and list(attributes.get("pads", [0, 0, 0, 0])) == [1, 1, 1, 1]
        and list(attributes.get("dilations", [1, 1])) == [1, 1]
        and list(attributes.get("output_padding", [0, 0])) == [0, 0]
        and attributes.get("group", 1) == 1
        and attributes.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
        and "output_shape" not in attributes
    )


def split_transposed_convs(model: onnx.ModelProto, *, min_out_channels: int = MIN_OUT_CHANNELS) -> int:
    """Rewrite (in place) every stride-2 4x4 ConvTranspose with >= `min_out_channels` outputs whose weight
    is an initializer; returns how many were rewritten."""
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    nodes: list[onnx.NodeProto] = []
    rewritten = 0
    for index, node in enumerate(graph.node):
        weight_init = initializers.get(node.input[1]) if len(node.input) > 1 else None
        weight = numpy_helper.to_array(weight_init) if weight_init is not None else None  # [Cin, Cout, 4, 4]
        if not _is_stride2_k4_p1(node, weight) or weight.shape[1] < min_out_channels:
            nodes.append(node)
            continue
        name = node.name or f"convtranspose_{index}"
        bias = [node.input[2]] if len(node.input) > 2 and node.input[2] else []
        phases = []
        for a in (0, 1):
            for b in (0, 1):
                kernel = weight[:, :, PHASE_TAPS[a], :][:, :, :, PHASE_TAPS[b]].transpose(1, 0, 2, 3)
                kernel_name = f"{name}_phase{a}{b}_weight"
                graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(kernel), kernel_name))
                output = f"{name}_phase{a}{b}"
                pads = [PHASE_PADS[a][0], PHASE_PADS[b][0], PHASE_PADS[a][1], PHASE_PADS[b][1]]
                nodes.append(
                    helper.make_node(
                        "Conv",
                        [node.input[0], kernel_name, *bias],
                        [output],
                        name=output,
                        kernel_shape=[2, 2],
                        pads=pads,
                    )
                )
                phases.append(output)
        # DCR: channel (a * 2 + b) * Cout + c lands on row 2h + a, column 2w + b
        nodes.append(helper.make_node("Concat", phases, [f"{name}_phases"], name=f"{name}_phases", axis=1))
        nodes.append(
            helper.make_node(
                "DepthToSpace",
                [f"{name}_phases"],
                list(node.output),
                name=f"{name}_interleave",
                blocksize=2,
                mode="DCR",
            )
        )
        rewritten += 1
    if rewritten:
        del graph.node[:]
        graph.node.extend(nodes)
        used = {name for node in graph.node for name in node.input}
        kept = [init for init in graph.initializer if init.name in used]
        del graph.initializer[:]
        graph.initializer.extend(kept)
    return rewritten
