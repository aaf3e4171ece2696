// ONNX Runtime (onnxruntime-node 1.20.1, CPU) timing of the int8 MobileNetV2:
// ms per image at batch B, THREADS intra-op threads (default 2), all graph
// optimisations.
// Usage: node ort_bench.mjs MODEL.onnx [BATCH] [SECONDS] [THREADS]
import ort from 'onnxruntime-node';

const [model, batchArg, secArg, threadArg] = process.argv.slice(2);
const batch = Number(batchArg || 1), seconds = Number(secArg || 3), threads = Number(threadArg || 2);
const sess = await ort.InferenceSession.create(model, {
  executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
});
const x = new Float32Array(batch * 3 * 224 * 224);
let seed = 1;
for (let i = 0; i < x.length; i++) { seed = (seed * 1103515245 + 12345) % 2147483648; x[i] = seed / 2147483648 * 4 - 2; }
const feeds = { input: new ort.Tensor('float32', x, [batch, 3, 224, 224]) };
for (let i = 0; i < 5; i++) await sess.run(feeds);
let runs = 0;
const t0 = process.hrtime.bigint();
let t = t0;
while (Number(t - t0) < seconds * 1e9) { await sess.run(feeds); runs++; t = process.hrtime.bigint(); }
const ms = Number(t - t0) / 1e6 / runs / batch;
console.log(JSON.stringify({ runtime: 'onnxruntime-node ' + (await import('onnxruntime-node/package.json', { with: { type: 'json' } })).default.version, batch, threads, runs, ms_per_image: ms }));
