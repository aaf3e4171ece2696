#!/usr/bin/python3
"""Small int8 models, one operator each, on shapes and settings the embedded
MobileNetV2 does not use (uint8 weights with a zero point, groups, dilation,
odd channel counts, pixel tails, scalar and broadcast QLinearAdd, NHWC
pooling, per-column QLinearMatMul, int8 QuantizeLinear), with random inputs.
ONNX Runtime's outputs are then made by run_qlinear_ops.mjs.

Needs Debian python3-onnx and python3-numpy. Run from this directory:
    /usr/bin/python3 make_qlinear_ops.py && node run_qlinear_ops.mjs
(the .mjs needs onnxruntime-node 1.20.1: run it from bench/onnx, see README.md).
Writes qlinear/<name>.onnx, qlinear/<name>.in<i>.npy and the list qlinear/cases.txt.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
OUT = 'qlinear/'


def init(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def save(name, nodes, inits, inputs, out_type, domain_ms=False):
    ins = [helper.make_tensor_value_info('in%d' % i, t, a.shape) for i, (a, t) in enumerate(inputs)]
    graph = helper.make_graph(nodes, name, ins, [helper.make_tensor_value_info('y', out_type, None)], inits)
    opsets = [helper.make_opsetid('', 13)] + ([helper.make_opsetid('com.microsoft', 1)] if domain_ms else [])
    m = helper.make_model(graph, opset_imports=opsets, ir_version=7)
    onnx.save(m, OUT + name + '.onnx')
    for i, (a, _) in enumerate(inputs):
        np.save(OUT + '%s.in%d.npy' % (name, i), a)
    return name


def qconv(name, n, c, h, w, m, kh, kw, group, strides, dil, pads, signed_w, per_channel):
    cg = c // group
    if signed_w:
        # 7-bit: no pair of products can leave int16 (see README.md), so ONNX
        # Runtime's result is the exact one on every CPU.
        wq = rng.integers(-64, 65, (m, cg, kh, kw)).astype(np.int8)
        wz = np.zeros(m if per_channel else (), np.int8)
    else:
        wq = rng.integers(0, 256, (m, cg, kh, kw)).astype(np.uint8)
        wz = np.array(131, np.uint8)
    ws = (rng.uniform(0.001, 0.007, m) if per_channel else np.array(0.004)).astype(np.float32)
    inits = [init('xs', np.float32(0.02)), init('xz', np.uint8(117)), init('w', wq), init('ws', ws), init('wz', wz),
             init('ys', np.float32(0.05)), init('yz', np.uint8(30)), init('b', rng.integers(-10000, 10001, m).astype(np.int32))]
    node = helper.make_node('QLinearConv', ['in0', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', 'b'], ['y'], group=group,
                            kernel_shape=[kh, kw], strides=strides, dilations=dil, pads=pads)
    x = rng.integers(0, 256, (n, c, h, w)).astype(np.uint8)
    return save(name, [node], inits, [(x, TensorProto.UINT8)], TensorProto.UINT8)


cases = [
    qconv('qconv_u8_groups', 2, 6, 9, 11, 12, 3, 2, 2, [2, 1], [1, 2], [1, 0, 2, 1], False, False),
    qconv('qconv_dw5x5', 2, 16, 10, 10, 16, 5, 5, 16, [1, 1], [2, 1], [4, 2, 4, 2], True, True),
    qconv('qconv_dw3x3_s2', 1, 32, 15, 13, 32, 3, 3, 32, [2, 2], [1, 1], [1, 1, 1, 1], True, True),
    qconv('qconv_1x1_odd', 3, 5, 6, 5, 9, 1, 1, 1, [1, 1], [1, 1], [0, 0, 0, 0], True, True),
    qconv('qconv_3x3_wide', 1, 16, 14, 14, 24, 3, 3, 1, [1, 1], [1, 1], [1, 1, 1, 1], True, True),
]

# QLinearAdd: scalar and broadcast second operand.
for name, bshape in [('qadd_scalar', ()), ('qadd_bcast', (5,)), ('qadd_same', (2, 3, 4, 5))]:
    inits = [init('as', np.float32(0.031)), init('az', np.uint8(121)), init('bs', np.float32(0.017)), init('bz', np.uint8(99)),
             init('cs', np.float32(0.043)), init('cz', np.uint8(87))]
    node = helper.make_node('QLinearAdd', ['in0', 'as', 'az', 'in1', 'bs', 'bz', 'cs', 'cz'], ['y'], domain='com.microsoft')
    a = rng.integers(0, 256, (2, 3, 4, 5)).astype(np.uint8)
    b = rng.integers(0, 256, bshape).astype(np.uint8)
    cases.append(save(name, [node], inits, [(a, TensorProto.UINT8), (b, TensorProto.UINT8)], TensorProto.UINT8, True))

# QLinearGlobalAveragePool, NCHW and NHWC.
for name, last, shape in [('qgap_nchw', 0, (2, 7, 5, 6)), ('qgap_nhwc', 1, (2, 5, 6, 7))]:
    inits = [init('xs', np.float32(0.05)), init('xz', np.uint8(100)), init('ys', np.float32(0.01)), init('yz', np.uint8(128))]
    node = helper.make_node('QLinearGlobalAveragePool', ['in0', 'xs', 'xz', 'ys', 'yz'], ['y'], domain='com.microsoft',
                            channels_last=last)
    x = rng.integers(0, 256, shape).astype(np.uint8)
    cases.append(save(name, [node], inits, [(x, TensorProto.UINT8)], TensorProto.UINT8, True))

# QLinearMatMul with uint8 B and per-column scales and zero points.
inits = [init('as', np.float32(0.02)), init('az', np.uint8(120)), init('b', rng.integers(0, 256, (20, 7)).astype(np.uint8)),
         init('bs', rng.uniform(0.001, 0.01, 7).astype(np.float32)), init('bz', rng.integers(100, 160, 7).astype(np.uint8)),
         init('ys', np.float32(0.3)), init('yz', np.uint8(128))]
node = helper.make_node('QLinearMatMul', ['in0', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'], ['y'])
cases.append(save('qmatmul_percol', [node], inits, [(rng.integers(0, 256, (3, 20)).astype(np.uint8), TensorProto.UINT8)], TensorProto.UINT8))

# QuantizeLinear to uint8 and int8, with exact halves and out-of-range values.
for name, zp in [('quantize_u8', np.uint8(114)), ('quantize_s8', np.int8(-3))]:
    x = (rng.normal(0, 2, (4, 50)) ).astype(np.float32)
    x[0, :8] = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 1e6, -1e6, 0], np.float32) * np.float32(0.02)
    node = helper.make_node('QuantizeLinear', ['in0', 's', 'z'], ['y'])
    cases.append(save(name, [node], [init('s', np.float32(0.02)), init('z', zp)], [(x, TensorProto.FLOAT)],
                      TensorProto.UINT8 if zp.dtype == np.uint8 else TensorProto.INT8))

with open(OUT + 'cases.txt', 'w') as f:
    f.write('\n'.join(cases) + '\n')
print(len(cases), 'cases')
