// The work clock of a software adapter in Node (Gpu.workClock): the CPU time of the threads that run
// its kernels, which load from other processes barely changes, unlike wall time. lavapipe runs a
// dispatch's workgroups on a pool of threads of this process; they are found once by running a busy
// kernel and seeing which threads' CPU time grew (Linux: /proc/self/task/<tid>/schedstat, ns on the
// CPU). Left out: the main thread, which polls Dawn for as long as a wait lasts, and V8's and libuv's
// helper threads (garbage collection, file system), whose CPU time has nothing to do with a kernel.
// Elsewhere, or if no thread stands out: the whole process's CPU time less the main thread's.
import { readdirSync, readFileSync } from 'node:fs';
import type { Gpu } from '../gpu/gpu.ts';
import { BufferUsage } from '../gpu/usage.ts';

const TASKS = '/proc/self/task';

/** ns on the CPU of each thread of this process, or null where /proc has no schedstat. */
function threadTimes(): Map<string, number> | null {
  try {
    const out = new Map<string, number>();
    for (const tid of readdirSync(TASKS)) {
      try {
        out.set(tid, Number(readFileSync(`${TASKS}/${tid}/schedstat`, 'utf8').split(' ')[0]));
      } catch {
        // the thread ended between the listing and the read
      }
    }
    return out;
  } catch {
    return null;
  }
}

// A kernel that keeps every lane busy for a while and writes one value (so it is not optimised away).
const BUSY = `
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn busy(@builtin(global_invocation_id) gid: vec3u) {
  var v = f32(gid.x);
  for (var i = 0u; i < 20000u; i++) { v = fma(v, 0.999, 1.0); }
  if (v == 0.5) { out[0] = v; }
}`;

/** The work clock (ms) for `gpu`: its kernel threads' CPU time, or the fallback above. */
export async function kernelThreadClock(gpu: Gpu): Promise<() => number> {
  const fallback = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000 - mainThreadMs();
  };
  if (!threadTimes()) return fallback;
  const device = gpu.device;
  const scope = gpu.scope('work clock calibration');
  try {
    const out = scope.buffer(16, 'work-clock:out', BufferUsage.STORAGE);
    const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code: BUSY }), entryPoint: 'busy' } });
    const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }] });
    const t0 = threadTimes()!;
    gpu.recorder('work clock calibration').run([{ pipeline, bindGroup, workgroups: [256, 1, 1], label: 'work-clock', kernel: 'work-clock:busy' }]).submit();
    await gpu.done();
    const t1 = threadTimes()!;
    const main = String(process.pid);
    const grew = [...t1].filter(([tid]) => tid !== main && t0.has(tid)).map(([tid, ns]) => [tid, ns - t0.get(tid)!] as const);
    const most = Math.max(0, ...grew.map(([, d]) => d));
    // The pool's threads share the busy kernel about evenly; helper threads do next to nothing.
    const workers = grew.filter(([, d]) => most > 1e6 && d > most / 4).map(([tid]) => tid);
    if (!workers.length) return fallback;
    const files = workers.map((tid) => `${TASKS}/${tid}/schedstat`);
    return () => {
      let ns = 0;
      for (const f of files) {
        try {
          ns += Number(readFileSync(f, 'utf8').split(' ')[0]);
        } catch {
          // a worker that ended counts no further
        }
      }
      return ns / 1e6;
    };
  } finally {
    scope.destroy();
  }
}

function mainThreadMs(): number {
  try {
    return Number(readFileSync(`${TASKS}/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return 0;
  }
}
