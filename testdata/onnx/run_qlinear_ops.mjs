// Runs each qlinear/<name>.onnx made by make_qlinear_ops.py through ONNX Runtime
// (onnxruntime-node 1.20.1, CPU, all optimisations, 1 thread) and writes
// qlinear/<name>.out.npy. From this directory, with onnxruntime-node installed
// in bench/onnx (npm install --ignore-scripts there):
//   ORT_DIR=../../bench/onnx node run_qlinear_ops.mjs
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(process.env.ORT_DIR ? process.env.ORT_DIR + '/' : import.meta.url);
const ort = require('onnxruntime-node');

function readNpy(file) {
  const buf = fs.readFileSync(file);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim()).filter(Boolean).map(Number);
  const data = buf.subarray(10 + hlen);
  const types = { '<f4': ['float32', Float32Array], '|u1': ['uint8', Uint8Array], '|i1': ['int8', Int8Array] };
  const [t, Arr] = types[descr];
  return { type: t, shape, data: new Arr(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}
function writeNpy(file, t) {
  const descr = { uint8: '|u1', int8: '|i1', float32: '<f4' }[t.type];
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1'); pre[6] = 1; pre[7] = 0; pre.writeUInt16LE(header.length, 8);
  const d = t.data;
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(d.buffer, d.byteOffset, d.byteLength)]));
}

const dir = 'qlinear/';
for (const name of fs.readFileSync(dir + 'cases.txt', 'utf8').split('\n').filter(Boolean)) {
  const sess = await ort.InferenceSession.create(dir + name + '.onnx',
    { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = {};
  for (let i = 0; fs.existsSync(`${dir}${name}.in${i}.npy`); i++) {
    const x = readNpy(`${dir}${name}.in${i}.npy`);
    feeds['in' + i] = new ort.Tensor(x.type, x.data, x.shape);
  }
  const y = (await sess.run(feeds)).y;
  writeNpy(`${dir}${name}.out.npy`, y);
  console.log(name, y.type, y.dims.join('x'));
}
