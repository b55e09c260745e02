// Runs ONNX models on ONNX Runtime and compares its logits with those recorded beside them: Stratum's for
// Stratum's exports, PyTorch's for bench/torch_nets.py --export's (DIR/<net>_opset<k>/pytorch.json).
//
// tools/export --reference-out=PREFIX writes, beside the model, PREFIX.json (the model's file, the input and
// logits files and their shapes, paths relative to the JSON), PREFIX.input.f32 (a fixed batch, raw
// little-endian f32) and PREFIX.logits.f32 (Stratum's logits for it, from the reference backend). For each
// PREFIX.json given, this script runs the model on that batch with onnxruntime-node (CPU) and prints the
// largest absolute difference from Stratum's logits, with the largest logit for scale. It is a check to run
// by hand, not a build or test dependency:
//   (cd /tmp/ortenv && npm install --ignore-scripts onnxruntime-node)
//   bazel run //tools:export -- --net=resnet18 --batch=4 --out=/tmp/x/resnet18.onnx --reference-out=/tmp/x/resnet18
//   NODE_PATH=/tmp/ortenv/node_modules node bench/ort_check.js [--tolerance=1e-4] /tmp/x/*.json
// With --tolerance it exits 1 when any net's difference exceeds it.
'use strict';
const ort = require('onnxruntime-node');
const fs = require('fs');
const path = require('path');

// The file's f32 elements (copied: a Buffer's offset need not be a multiple of 4).
function readF32(file, shape) {
  const buf = fs.readFileSync(file);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`${file} holds ${data.length} floats, not ${count} ([${shape}])`);
  return data;
}

async function check(manifest) {
  const meta = JSON.parse(fs.readFileSync(manifest));
  const dir = path.dirname(manifest);
  const session = await ort.InferenceSession.create(path.join(dir, meta.onnx));
  const x = new ort.Tensor('float32', readF32(path.join(dir, meta.input), meta.input_shape), meta.input_shape);
  const logits = (await session.run({[session.inputNames[0]]: x}))[session.outputNames[0]];
  if (logits.dims.join() !== meta.logits_shape.join())
    throw new Error(`${manifest}: ONNX Runtime's logits are [${logits.dims}], the recorded ones [${meta.logits_shape}]`);
  const want = readF32(path.join(dir, meta.logits), meta.logits_shape);
  let diff = 0, scale = 0;
  logits.data.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(v - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  });
  console.log(`${path.join(path.basename(dir), path.basename(manifest))} (${meta.net}, batch ${meta.input_shape[0]}): max abs diff ${diff.toExponential(2)} ` +
              `(largest |logit| ${scale.toExponential(2)})`);
  return diff;
}

(async () => {
  const args = process.argv.slice(2);
  const tolerance = args.filter((a) => a.startsWith('--tolerance=')).map((a) => +a.split('=')[1])[0];
  const manifests = args.filter((a) => !a.startsWith('--'));
  if (manifests.length === 0) {
    console.error('usage: node ort_check.js [--tolerance=T] PREFIX.json ...');
    process.exit(2);
  }
  let worst = 0;
  for (const manifest of manifests) worst = Math.max(worst, await check(manifest));
  if (tolerance !== undefined && !(worst <= tolerance)) {
    console.error(`max abs diff ${worst} exceeds --tolerance=${tolerance}`);
    process.exit(1);
  }
})().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(2);
});
