"""A small, real YOLO-style ONNX detector for tests and the bench, built with ``onnx.helper``.

It sees coloured squares. The 64×64 input is cut into an 8×8 grid of 8-pixel cells; a cell
filled with pure red is a ``person``, pure green a ``car``, pure blue a ``kite`` (a COCO label
SafeCity does not watch). Each cell is one anchor whose box is the cell itself, scored
``clip(3 c - (r + g + b) - 1, 0, 1)`` on the cell's mean colour (0..1): 1 for a full cell of pure
colour, 0 for a half-filled one, for black, white and the letterbox's grey. As a real YOLO
model's neighbouring anchors do, a second anchor per cell fires on the same object, its box one
pixel to the right and its score 0.9 of the first: without non-maximum suppression every square
is found twice. ONNX Runtime runs the graph (average pooling, sums, clipping, concatenation);
nothing is faked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SIZE = 64
CELL = 8
CLASS_NAMES = ("person", "car", "kite")
COLOURS = {"person": (255, 0, 0), "car": (0, 255, 0), "kite": (0, 0, 255)}


def build_square_detector(
    path: Path, *, layout: str = "yolov8", dynamic_batch: bool = True
) -> Path:
    """Write the model to ``path``: ``layout`` "yolov8" gives [batch, 4 + 3, 128],
    "yolov5" gives [batch, 128, 5 + 3]."""
    grid = SIZE // CELL
    anchors = 2 * grid * grid
    centres = (np.arange(grid, dtype=np.float32) + 0.5) * CELL
    cy, cx = np.meshgrid(centres, centres, indexing="ij")
    side = np.full(grid * grid, CELL)
    boxes = np.stack([cx.ravel(), cy.ravel(), side, side])
    echoes = boxes + np.array([[1], [0], [0], [0]])
    constants = [
        numpy_helper.from_array(
            np.concatenate([boxes, echoes], axis=1)[np.newaxis].astype(np.float32), "cell_boxes"
        ),
        numpy_helper.from_array(np.array(0.9, dtype=np.float32), "echo_share"),
        numpy_helper.from_array(np.array([0, 3, -1], dtype=np.int64), "flat_shape"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "channel_axis"),
        numpy_helper.from_array(np.array(3.0, dtype=np.float32), "three"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
    ]
    nodes = [
        helper.make_node(
            "AveragePool", ["images"], ["pooled"], kernel_shape=[CELL, CELL], strides=[CELL, CELL]
        ),
        helper.make_node("Reshape", ["pooled", "flat_shape"], ["colour"]),  # [B, 3, anchors]
        helper.make_node("ReduceSum", ["colour", "channel_axis"], ["brightness"], keepdims=1),
        helper.make_node("Mul", ["colour", "three"], ["tripled"]),
        helper.make_node("Sub", ["tripled", "brightness"], ["purity"]),
        helper.make_node("Sub", ["purity", "one"], ["raw_scores"]),
        helper.make_node("Clip", ["raw_scores", "zero", "one"], ["cell_scores"]),
        helper.make_node("Mul", ["cell_scores", "echo_share"], ["echo_scores"]),
        helper.make_node("Concat", ["cell_scores", "echo_scores"], ["scores"], axis=2),
        helper.make_node("Concat", ["brightness", "brightness"], ["both"], axis=2),
        helper.make_node("Mul", ["both", "zero"], ["zeros"]),  # [B, 1, anchors]
        helper.make_node("Add", ["zeros", "cell_boxes"], ["boxes"]),  # [B, 4, anchors]
    ]
    classes = len(CLASS_NAMES)
    batch: str | int = "batch" if dynamic_batch else 1
    if layout == "yolov8":
        nodes.append(helper.make_node("Concat", ["boxes", "scores"], ["output0"], axis=1))
        shape: list[str | int] = [batch, 4 + classes, anchors]
    elif layout == "yolov5":
        nodes += [
            helper.make_node("ReduceMax", ["scores"], ["objectness"], axes=[1], keepdims=1),
            helper.make_node("Concat", ["boxes", "objectness", "scores"], ["by_channel"], axis=1),
            helper.make_node("Transpose", ["by_channel"], ["output0"], perm=[0, 2, 1]),
        ]
        shape = [batch, anchors, 5 + classes]
    else:
        raise ValueError(f"layout is yolov8 or yolov5, not {layout!r}")
    graph = helper.make_graph(
        nodes,
        "coloured-squares",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, shape)],
        initializer=constants,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    return path
