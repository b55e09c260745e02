// Times an ONNX model's inference on ONNX Runtime (onnxruntime-node, CPU), the way //tools:bench times
// Stratum's: one untimed run, then STEPS timed runs on a random batch of [BATCH, 1, SIZE, SIZE].
//   NODE_PATH=DIR/node_modules node bench/ort_bench.js MODEL.onnx BATCH SIZE STEPS [THREADS]
// Prints "<img/s> img/s <ms/step> ms/step". THREADS (default 2) intra-op threads, all graph optimisations.
'use strict';
const ort = require('onnxruntime-node');

(async () => {
  const [model, batch, size, steps, threads = '2'] = process.argv.slice(2);
  if (!(+batch >= 1 && +size >= 1 && +steps >= 1)) {
    console.error('usage: node ort_bench.js MODEL.onnx BATCH SIZE STEPS [THREADS]');
    process.exit(2);
  }
  const session = await ort.InferenceSession.create(
      model, {intraOpNumThreads: +threads, interOpNumThreads: 1, graphOptimizationLevel: 'all'});
  const shape = [+batch, 1, +size, +size];
  const x = Float32Array.from({length: shape.reduce((a, b) => a * b)}, () => Math.random());
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', x, shape)};
  await session.run(feeds);
  const start = process.hrtime.bigint();
  for (let i = 0; i < +steps; ++i) await session.run(feeds);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9 / +steps;
  console.log(`${(+batch / seconds).toFixed(1)} img/s ${(seconds * 1e3).toFixed(2)} ms/step`);
})().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(2);
});
