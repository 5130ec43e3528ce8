// User-defined corruptions in WGSL (SPEC.md section 1), validated on registration.
//
//   const shift = await defineCorruption(gpu, {
//     name: 'shift-right',
//     applyWgsl:   'return level * input(b, c, i32(y), i32(x) - 1);',   // body of corrupt(...)
//     adjointWgsl: 'return level * input(b, c, i32(y), i32(x) + 1);',   // body of corrupt_adjoint(...)
//     level: Schedule.geometric(0.1, 1),                                  // or (t) => number
//   });
//
// The bodies are those of
//   fn corrupt(b: u32, c: u32, y: u32, x: u32, level: f32) -> f32          // (C_t x)[b, c, y, x]
//   fn corrupt_adjoint(b: u32, c: u32, y: u32, x: u32, level: f32) -> f32  // (C_t^T x)[b, c, y, x]
// where `input(b, c, y: i32, x: i32) -> f32` reads the input image (0 outside it), CH, H, W are u32
// constants, and level = levels[b, 1] = level(t_b). `adjointWgsl: 'self-adjoint'` reuses `corrupt`;
// `helpersWgsl` may add module-scope functions/constants. The operator must be linear in the input.
// See shaders/user_corruption.wgsl for the prelude the bodies are compiled into.
//
// On registration the engine checks <C x, y> = <x, C^T y> on random x, y at several levels (one batch,
// one level per sample) and throws AdjointMismatchError with the measured mismatch if any sample is off
// by more than `tolerance` (|<Cx,y> - <x,C^T y>| / max(|<Cx,y>|, |<x,C^T y>|), floored at
// 1e-3 (||Cx|| ||y|| + ||x|| ||C^T y||) for inner products near 0). WGSL that fails to compile is a
// ShaderError with the user's line numbers.
import type { Gpu } from '../gpu/gpu.ts';
import { Kernel, Params, grid1d, type Dispatch } from '../gpu/kernel.ts';
import { NonFiniteError, ShaderError, ShapeError, ValueError } from '../gpu/errors.ts';
import { sameShape, type Tensor } from '../gpu/tensor.ts';
import { shaderIncludes, shaderSource } from '../gpu/shaders.ts';
import { HostRng } from '../base/host-rng.ts';
import { LEVEL_STRIDE } from '../kernels/levels.ts';
import type { Corruption } from './types.ts';
import { Schedule } from './schedule.ts';
import { imageDims, overlaps } from './dct.ts';

/** A user corruption whose adjoint does not match its apply. */
export class AdjointMismatchError extends ValueError {
  constructor(
    readonly corruption: string,
    /** The worst relative mismatch measured. */
    readonly mismatch: number,
    readonly level: number,
    tolerance: number,
  ) {
    super(
      `Corruption ${corruption}: <C x, y> != <x, C^T y>: relative mismatch ${mismatch.toExponential(3)} at level ${level} ` +
        `(tolerance ${tolerance.toExponential(1)}).`,
      'Fix adjointWgsl so that it computes the transpose of applyWgsl (for a pixel permutation or shift, the inverse map).',
    );
  }
}

export interface UserCorruptionSpec {
  name: string;
  /** Body of fn corrupt(b: u32, c: u32, y: u32, x: u32, level: f32) -> f32. */
  applyWgsl: string;
  /** Body of fn corrupt_adjoint(...) with the same signature, or 'self-adjoint'. */
  adjointWgsl: string | 'self-adjoint';
  /** Extra module-scope WGSL (helper functions, constants). */
  helpersWgsl?: string;
  /** The level c(t) written into levels[b, 1]. */
  level: Schedule | ((t: number) => number);
  /** Adjointness check: image [C, H, W] (default [2, 7, 9]), times (default 0.1, 0.5, 0.9), tolerance (1e-4). */
  check?: { shape?: [number, number, number]; ts?: number[]; tolerance?: number; seed?: number };
}

const WG = 64;

export class UserCorruption implements Corruption {
  readonly name: string;
  readonly selfAdjoint: boolean;
  private readonly code: string;
  private readonly userLine: number;
  private module: GPUShaderModule | null = null;
  private kernels = new Map<string, Kernel>();

  constructor(private readonly spec: UserCorruptionSpec) {
    if (!spec.name || typeof spec.name !== 'string') throw new ValueError('A user corruption needs a name.');
    if (typeof spec.applyWgsl !== 'string' || typeof spec.adjointWgsl !== 'string') throw new ValueError(`Corruption ${spec.name}: applyWgsl and adjointWgsl must be strings.`);
    this.name = spec.name;
    this.selfAdjoint = spec.adjointWgsl === 'self-adjoint';
    const prelude = shaderSource('user_corruption');
    const adjointBody = this.selfAdjoint ? 'return corrupt(b, c, y, x, level);' : spec.adjointWgsl;
    const sig = '(b: u32, c: u32, y: u32, x: u32, level: f32) -> f32';
    const user = `${spec.helpersWgsl ?? ''}\nfn corrupt${sig} {\n${spec.applyWgsl}\n}\nfn corrupt_adjoint${sig} {\n${adjointBody}\n}\n`;
    this.userLine = prelude.split('\n').length;
    this.code = `${prelude}\n${user}`;
  }

  level(t: number): number {
    const v = this.spec.level instanceof Schedule ? this.spec.level.at(t) : this.spec.level(t);
    if (!Number.isFinite(v)) throw new NonFiniteError(`Corruption ${this.name}: level(${t}) = ${v} is not finite.`);
    return v;
  }

  apply(gpu: Gpu, x: Tensor, out: Tensor, levels: Tensor): Promise<Dispatch[]> {
    return this.plan(gpu, 'apply', x, out, levels);
  }

  adjoint(gpu: Gpu, x: Tensor, out: Tensor, levels: Tensor): Promise<Dispatch[]> {
    return this.plan(gpu, 'adjoint', x, out, levels);
  }

  toJSON(): Record<string, unknown> {
    const s = this.spec;
    return { name: s.name, user: true, applyWgsl: s.applyWgsl, adjointWgsl: s.adjointWgsl, helpersWgsl: s.helpersWgsl ?? '', schedule: s.level instanceof Schedule ? s.level.toJSON() : null };
  }

  private async compile(gpu: Gpu): Promise<GPUShaderModule> {
    if (this.module) return this.module;
    // An error scope keeps the user's mistake out of the device's uncaptured-error log (which the
    // engine reports as an engine bug); the compilation messages say what is wrong instead.
    gpu.device.pushErrorScope('validation');
    const module = gpu.device.createShaderModule({ code: this.code, label: `user:${this.name}` });
    const info = await module.getCompilationInfo();
    await gpu.device.popErrorScope();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length)
      throw new ShaderError(
        `Corruption ${this.name}: WGSL failed to compile:\n` +
          errors.map((m) => `  ${m.lineNum > this.userLine ? `user line ${m.lineNum - this.userLine}` : `prelude line ${m.lineNum}`}:${m.linePos} ${m.message}`).join('\n'),
      );
    gpu.usage.compiledModule('user_corruption', shaderIncludes('user_corruption'));
    return (this.module = module);
  }

  private async kernel(gpu: Gpu, entry: 'apply' | 'adjoint', c: number, h: number, w: number): Promise<Kernel> {
    const key = `${entry}|${c}|${h}|${w}`;
    const hit = this.kernels.get(key);
    if (hit) return hit;
    const module = await this.compile(gpu);
    const bindings = ['uniform', 'read', 'read', 'rw'] as const;
    const layout = gpu.device.createBindGroupLayout({
      label: `user:${this.name}`,
      entries: bindings.map((kind, binding) => ({ binding, visibility: 0x4, buffer: { type: kind === 'uniform' ? 'uniform' : kind === 'read' ? 'read-only-storage' : 'storage' } })),
    });
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await gpu.device.createComputePipelineAsync({
        label: `user:${this.name}:${entry}`,
        layout: gpu.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: entry, constants: { WG, CH: c, H: h, W: w } },
      });
    } catch (e) {
      throw new ShaderError(`Corruption ${this.name}: pipeline ${entry} failed to build: ${(e as Error).message}`);
    }
    const k = new Kernel({ shader: 'user_corruption', entry, bindings }, pipeline, layout, gpu.device);
    gpu.usage.compiledKernel(k.id);
    this.kernels.set(key, k);
    return k;
  }

  private async plan(gpu: Gpu, entry: 'apply' | 'adjoint', x: Tensor, out: Tensor, levels: Tensor): Promise<Dispatch[]> {
    const [b, c, h, w] = imageDims(`${this.name} input`, x);
    if (!sameShape(x.shape, out.shape)) throw new ShapeError(`${this.name} output`, x.shape, out.shape);
    if (!sameShape(levels.shape, [b, LEVEL_STRIDE])) throw new ShapeError(`${this.name} levels`, [b, LEVEL_STRIDE], levels.shape);
    if (overlaps(x, out)) throw new ValueError(`${this.name}: input and output must not overlap.`);
    const k = await this.kernel(gpu, entry, c, h, w);
    const params = gpu.uniform(new Params().u32(x.size), `user:${this.name}:params`);
    return [k.bind([params, levels, x.reshape([x.size]), out.reshape([out.size])], grid1d(x.size, WG), `${this.name}-${entry}`)];
  }

  /** Measure <C x, y> vs <x, C^T y> per level; throws AdjointMismatchError past the tolerance. Returns the worst mismatch. */
  async checkAdjoint(gpu: Gpu): Promise<number> {
    const { shape = [2, 7, 9], ts = [0.1, 0.5, 0.9], tolerance = 1e-4, seed = 1234 } = this.spec.check ?? {};
    const dims = [ts.length, ...shape];
    const n = dims.reduce((a, v) => a * v, 1);
    const rng = new HostRng(seed);
    const xs = Float32Array.from({ length: n }, () => rng.normal());
    const ys = Float32Array.from({ length: n }, () => rng.normal());
    const lv = new Float32Array(ts.length * LEVEL_STRIDE);
    ts.forEach((t, b) => lv.set([t, this.level(t), 0, 0], b * LEVEL_STRIDE));
    const scope = gpu.scope(`${this.name}:adjoint-check`);
    try {
      const x = scope.upload(xs, dims, `${this.name}:check-x`);
      const y = scope.upload(ys, dims, `${this.name}:check-y`);
      const levels = scope.upload(lv, [ts.length, LEVEL_STRIDE], `${this.name}:check-levels`);
      const cx = scope.tensor(dims, `${this.name}:check-cx`);
      const cty = scope.tensor(dims, `${this.name}:check-cty`);
      scope.recorder(`${this.name}:adjoint-check`).run(await this.apply(scope, x, cx, levels)).run(await this.adjoint(scope, y, cty, levels)).submit();
      const [a, b] = [await gpu.read(cx), await gpu.read(cty)];
      const per = n / ts.length;
      let worst = 0;
      let worstLevel = lv[1]!;
      for (let s = 0; s < ts.length; s++) {
        let lhs = 0, rhs = 0, na = 0, ny = 0, nx = 0, nb = 0;
        for (let i = s * per; i < (s + 1) * per; i++) {
          lhs += a[i]! * ys[i]!;
          rhs += xs[i]! * b[i]!;
          na += a[i]! ** 2;
          ny += ys[i]! ** 2;
          nx += xs[i]! ** 2;
          nb += b[i]! ** 2;
        }
        // Relative to the inner products themselves; the norm term only guards an inner product
        // that happens to be near 0 (C x almost orthogonal to y, or C = 0 at this level).
        const scale = Math.max(Math.abs(lhs), Math.abs(rhs), 1e-3 * (Math.sqrt(na * ny) + Math.sqrt(nx * nb)));
        const mismatch = scale > 0 ? Math.abs(lhs - rhs) / scale : 0;
        if (!Number.isFinite(lhs) || !Number.isFinite(rhs))
          throw new NonFiniteError(`Corruption ${this.name}: non-finite output at level ${lv[s * LEVEL_STRIDE + 1]}.`, 'Check the WGSL for divisions by zero.');
        if (mismatch > worst) [worst, worstLevel] = [mismatch, lv[s * LEVEL_STRIDE + 1]!];
      }
      if (worst > tolerance) throw new AdjointMismatchError(this.name, worst, worstLevel, tolerance);
      return worst;
    } finally {
      scope.destroy();
    }
  }
}

/** Compile a user corruption and validate its adjoint; throws ShaderError or AdjointMismatchError. */
export async function defineCorruption(gpu: Gpu, spec: UserCorruptionSpec): Promise<UserCorruption> {
  const c = new UserCorruption(spec);
  await c.checkAdjoint(gpu);
  return c;
}
