// The U-Net training step of bench/unet.bench.ts run from ANY checkout of this project, including
// ones older than the work clock, so that two trees are timed the same way on a loaded machine:
//   ROOT=/path/to/checkout node /path/to/checkout/scripts/run-ts.mjs $PWD/bench/compare-tree.ts <preset> <batch> [steps]
// It loads the network, loss and optimizer from ROOT's sources, finds lavapipe's worker threads with a
// busy kernel (as src/node/work-clock.ts does) and prints one JSON line: dispatches per step, the
// worker threads' CPU ms of every timed step and of the cheapest (workMsMin), the wall median, the
// planning time and the load average. Linux only (/proc/self/task/<tid>/schedstat).
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

const ROOT = process.env.ROOT ?? process.cwd();
function times(): Map<string, number> {
  const m = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try { m.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0])); } catch {}
  }
  return m;
}
let workers: string[] | null = null; // lavapipe's pool threads (found by a busy kernel), else all but main
function threadNs(): number {
  let ns = 0;
  for (const [tid, v] of times()) if (workers ? workers.includes(tid) : tid !== String(process.pid)) ns += v;
  return ns;
}
async function calibrate(device: GPUDevice) {
  const code = `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64) fn busy(@builtin(global_invocation_id) gid: vec3u) { var v = f32(gid.x); for (var i = 0u; i < 20000u; i++) { v = fma(v, 0.999, 1.0); } if (v == 0.5) { out[0] = v; } }`;
  const buf = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'busy' } });
  const bg = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
  const t0 = times();
  const enc = device.createCommandEncoder(); const pass = enc.beginComputePass(); pass.setPipeline(pipeline); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(256); pass.end();
  device.queue.submit([enc.finish()]); await device.queue.onSubmittedWorkDone();
  const grew = [...times()].filter(([t]) => t !== String(process.pid) && t0.has(t)).map(([t, v]) => [t, v - t0.get(t)!] as const);
  const most = Math.max(0, ...grew.map(([, d]) => d));
  const w = grew.filter(([, d]) => most > 1e6 && d > most / 4).map(([t]) => t);
  workers = w.length ? w : null;
  buf.destroy();
}
export async function main(argv: string[]) {
  const [preset = 'bench', b = '8', s = '6'] = argv;
  const { unetConfig } = await import(`${ROOT}/src/nn/config.ts`);
  const { UNet } = await import(`${ROOT}/src/nn/unet.ts`);
  const { TrainingStep } = await import(`${ROOT}/src/nn/training-step.ts`);
  const { mseLoss } = await import(`${ROOT}/src/kernels/mse.ts`);
  const { AdamW } = await import(`${ROOT}/src/kernels/adamw.ts`);
  const { createNodeGpu, releaseNodeGpu } = await import(`${ROOT}/src/node/device.ts`);
  const gpu = await createNodeGpu();
  await calibrate(gpu.device);
  const batch = Number(b), steps = Number(s);
  const cfg = unetConfig(preset);
  const t0 = performance.now();
  const net = await UNet.create(gpu, cfg, { batch, seed: 1 });
  const rand = (n: number, seed: number) => { let x = seed; return Float32Array.from({ length: n }, () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1); };
  gpu.write(net.x, rand(net.x.size, 1));
  gpu.write(net.levels, Float32Array.from({ length: batch * 4 }, (_, i) => (i % 4 === 0 ? (i / 4 + 0.5) / batch : 0)));
  const target = gpu.upload(rand(net.x.size, 2), net.x.shape, 'target');
  const loss = gpu.tensor([1], 'loss');
  const optimizer = await AdamW.create(gpu, net.flatLayout, net.flatParams, net.flatGrads, { lr: 2e-4 });
  const step = new TrainingStep(gpu, net, { loss: await mseLoss(gpu, net.phi, target, loss, net.dPhi, { n: net.phi.size }), lossTensor: loss, optimizer: optimizer.dispatches() });
  const planMs = performance.now() - t0;
  await step.run({ readLoss: true });
  step.run(); await gpu.done();
  const walls: number[] = []; let work = Infinity; const works: number[] = [];
  for (let i = 0; i < steps; i++) {
    const w0 = threadNs(); const s0 = performance.now();
    step.run(); await gpu.done();
    walls.push(performance.now() - s0); const w = (threadNs() - w0) / 1e6; works.push(w); work = Math.min(work, w);
  }
  walls.sort((a, c) => a - c);
  console.log(JSON.stringify({ tree: ROOT, workerThreads: workers?.length ?? 'all but main', preset, batch, steps, dispatches: step.dispatchesPerStep, workMsMin: +work.toFixed(1), workMs: works.map((w) => +w.toFixed(0)), wallMsMedian: +walls[Math.floor(walls.length / 2)]!.toFixed(0), planMs: Math.round(planMs), load1: loadavg()[0] }));
  step.destroy(); net.destroy(); gpu.destroy(); releaseNodeGpu();
}
