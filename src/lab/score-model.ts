// Score models s_theta: R^D -> R^D on the GPU, with Jacobian-vector products and the parameter
// gradients of anything computed from both (shaders/lab_mlp.wgsl explains the stacked rows):
//   - an MLP: D (+1 with `conditional`: log sigma as an extra input, output divided by sigma, as in
//     NCSN's noise-conditional networks) -> width -> ... -> D, `depth` hidden layers, activation phi;
//   - Vincent's tied-weight autoencoder (2011, section 4.1): s(x) = (W^T sigmoid(W x + b) + c - x) /
//     sigma^2, the score of the energy whose DSM loss is the denoising autoencoder's. Its "raw"
//     output (plan option) is the reconstruction r(x) = W^T sigmoid(W x + b) + c.
// A ModelSpec describes the layers; a ScoreModel holds the parameters (one flat buffer, so AdamW
// updates them in one dispatch); a ModelPlan holds the activations for R = B (1 + M) rows and the
// forward and backward dispatches.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ValueError } from '../gpu/errors.ts';
import { FlatLayout } from '../gpu/flat-layout.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { HostRng } from '../base/host-rng.ts';
import { MAX_GPU_DIM } from './mixture.ts';

export const ACTIVATIONS = ['tanh', 'softplus', 'sigmoid', 'silu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export interface MlpConfig {
  dim: number;
  width: number;
  /** Hidden layers (1 or more). */
  depth: number;
  activation?: Activation;
  /** Noise-conditional: input (x, log sigma), output divided by sigma. */
  conditional?: boolean;
}

export interface TiedConfig {
  dim: number;
  width: number;
  /** The noise level whose score the autoencoder's energy defines (s = (r(x) - x) / sigma^2). */
  sigma: number;
}

export interface DenseLayer {
  weight: string;
  bias: string;
  nin: number;
  nout: number;
  /** Reads the stored [nin, nout] weight as its transpose (the tied autoencoder's decoder). */
  transposed: boolean;
  /** phi after this layer (every layer but the last). */
  activation: boolean;
}

export interface ModelSpec {
  kind: 'mlp' | 'tied';
  dim: number;
  /** Columns of an input row: dim, or dim + 1 (log sigma) when conditional. */
  inputDim: number;
  layers: DenseLayer[];
  activation: Activation;
  /** out = alpha (last layer + skip * x), alpha = scale (/ sigma when conditional). */
  output: { scale: number; skip: number; conditional: boolean };
  layout: FlatLayout;
}

export const LIMITS = { dim: MAX_GPU_DIM, width: 1024, depth: 8 } as const;

function checkInt(what: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new ValueError(`${what} must be an integer in [${lo}, ${hi}], got ${v}.`);
}

export function mlpSpec(cfg: MlpConfig): ModelSpec {
  checkInt('Model dimension', cfg.dim, 1, LIMITS.dim);
  checkInt('Model width', cfg.width, 1, LIMITS.width);
  checkInt('Model depth', cfg.depth, 1, LIMITS.depth);
  const activation = cfg.activation ?? 'tanh';
  if (!ACTIVATIONS.includes(activation)) throw new ValueError(`Unknown activation '${activation}'.`, `Use one of ${ACTIVATIONS.join(', ')}.`);
  const conditional = !!cfg.conditional;
  const inputDim = cfg.dim + (conditional ? 1 : 0);
  const layout = new FlatLayout();
  const layers: DenseLayer[] = [];
  for (let l = 0; l <= cfg.depth; l++) {
    const nin = l === 0 ? inputDim : cfg.width;
    const nout = l === cfg.depth ? cfg.dim : cfg.width;
    layout.add(`layer${l}.weight`, [nout, nin]);
    layout.add(`layer${l}.bias`, [nout]);
    layers.push({ weight: `layer${l}.weight`, bias: `layer${l}.bias`, nin, nout, transposed: false, activation: l < cfg.depth });
  }
  return { kind: 'mlp', dim: cfg.dim, inputDim, layers, activation, output: { scale: 1, skip: 0, conditional }, layout };
}

export function tiedSpec(cfg: TiedConfig): ModelSpec {
  checkInt('Model dimension', cfg.dim, 1, LIMITS.dim);
  checkInt('Model width', cfg.width, 1, LIMITS.width);
  if (!(Number.isFinite(cfg.sigma) && cfg.sigma > 0)) throw new ValueError(`The tied autoencoder's sigma must be a positive number, got ${cfg.sigma}.`);
  const layout = new FlatLayout();
  layout.add('W', [cfg.width, cfg.dim]);
  layout.add('b', [cfg.width]);
  layout.add('c', [cfg.dim]);
  const layers: DenseLayer[] = [
    { weight: 'W', bias: 'b', nin: cfg.dim, nout: cfg.width, transposed: false, activation: true },
    { weight: 'W', bias: 'c', nin: cfg.width, nout: cfg.dim, transposed: true, activation: false },
  ];
  return { kind: 'tied', dim: cfg.dim, inputDim: cfg.dim, layers, activation: 'sigmoid', output: { scale: 1 / (cfg.sigma * cfg.sigma), skip: -1, conditional: false }, layout };
}

/** Glorot-uniform weights, zero biases, from a seeded host generator; zero in the layout's padding. */
export function initialParameters(spec: ModelSpec, seed: number): Float32Array {
  const rng = new HostRng(seed);
  const out = new Float32Array(spec.layout.size);
  const done = new Set<string>();
  for (const l of spec.layers) {
    if (done.has(l.weight)) continue;
    done.add(l.weight);
    const e = spec.layout.entries.get(l.weight)!;
    const a = Math.sqrt(6 / (l.nin + l.nout));
    for (let i = 0; i < l.nin * l.nout; i++) out[e.offset + i] = a * (2 * rng.next() - 1);
  }
  return out;
}

const MLP_FLAGS = ['TRANSPOSED', 'FORWARD', 'OUTPUT', 'COND', 'OUTPUT_BACKWARD', 'ACT_FORWARD', 'ACT_BACKWARD', 'DX', 'DW', 'DB', 'ACCUMULATE'] as const;
const ENTRY_FLAG: Record<string, (typeof MLP_FLAGS)[number]> = {
  dense_forward: 'FORWARD',
  output_backward: 'OUTPUT_BACKWARD',
  act_forward: 'ACT_FORWARD',
  act_backward: 'ACT_BACKWARD',
  dense_dx: 'DX',
  dense_dw: 'DW',
  dense_db: 'DB',
};
const WG = 64;

function mlpKernel(gpu: Gpu, entry: string, bindings: ('uniform' | 'read' | 'rw')[], activation: Activation, set: Partial<Record<(typeof MLP_FLAGS)[number], boolean>> = {}) {
  const flags: Record<string, boolean> = {};
  for (const f of MLP_FLAGS) flags[f] = !!set[f];
  flags[ENTRY_FLAG[entry]!] = true;
  return gpu.kernel({ shader: 'lab_mlp', entry, bindings, flags, constants: { WG, ACT: ACTIVATIONS.indexOf(activation) } });
}

export interface PlanOptions {
  /** The last layer without the output transform (the tied autoencoder's reconstruction). */
  raw?: boolean;
}

/** Activations and dispatches for R = primal (1 + tangents) stacked rows. */
export class ModelPlan {
  readonly rows: number;
  private constructor(
    private readonly gpu: Gpu,
    readonly primal: number,
    readonly tangents: number,
    /** [R, inputDim]: points, then tangent directions. */
    readonly input: Tensor,
    /** [R, dim]: s(x_b), then J_s(x_b) v_m. */
    readonly output: Tensor,
    /** [R, dim]: dL/doutput, written by an objective before backward runs. */
    readonly dOutput: Tensor,
    readonly forward: Dispatch[],
    readonly backward: Dispatch[],
  ) {
    this.rows = primal * (1 + tangents);
  }

  static async create(parent: Gpu, spec: ModelSpec, params: Tensor, grads: Tensor, primal: number, tangents: number, opts: PlanOptions = {}): Promise<ModelPlan> {
    checkInt('Batch (points)', primal, 1, 1 << 22);
    checkInt('Tangent directions', tangents, 0, 64);
    const gpu = parent.scope('lab:model-plan');
    try {
      const R = primal * (1 + tangents);
      const input = gpu.tensor([R, spec.inputDim], 'lab:model:input');
      const output = gpu.tensor([R, spec.dim], 'lab:model:output');
      const dOutput = gpu.tensor([R, spec.dim], 'lab:model:dOutput');
      const pv = spec.layout.views(params.buffer);
      const gv = spec.layout.views(grads.buffer);
      // views() gives offsets relative to the buffer; the params tensor itself starts at offset 0
      const act = spec.activation;
      const last = spec.layers.length - 1;
      const scale = opts.raw ? 1 : spec.output.scale;
      const skip = opts.raw ? 0 : spec.output.skip;
      const cond = !opts.raw && spec.output.conditional;
      const uniform = (l: DenseLayer, label: string) =>
        gpu.uniform(new Params().u32(R, primal, l.nin, l.nout, spec.dim, spec.inputDim).f32(scale, skip), label);

      const pre: Tensor[] = [];
      const post: Tensor[] = [];
      const forward: Dispatch[] = [];
      for (let i = 0; i <= last; i++) {
        const l = spec.layers[i]!;
        const x = i === 0 ? input : post[i - 1]!;
        const isOut = i === last;
        const y = isOut ? output : gpu.tensor([R, l.nout], `lab:model:pre${i}`);
        const u = uniform(l, `lab:dense${i}`);
        const k = await mlpKernel(gpu, 'dense_forward', ['uniform', 'read', 'read', 'read', 'read', 'rw'], act, { TRANSPOSED: l.transposed, OUTPUT: isOut, COND: isOut && cond });
        forward.push(k.bind([u, x, pv.get(l.weight)!, pv.get(l.bias)!, input, y], grid1d(R * l.nout, WG), `lab dense${i}`));
        if (!isOut) {
          pre.push(y);
          const h = gpu.tensor([R, l.nout], `lab:model:post${i}`);
          post.push(h);
          const ka = await mlpKernel(gpu, 'act_forward', ['uniform', 'read', 'rw'], act);
          forward.push(ka.bind([u, y, h], grid1d(primal * l.nout, WG), `lab act${i}`));
        }
      }

      const backward: Dispatch[] = [];
      let dy = dOutput;
      if (scale !== 1 || cond) {
        dy = gpu.tensor([R, spec.dim], 'lab:model:dPreOut');
        const k = await mlpKernel(gpu, 'output_backward', ['uniform', 'read', 'read', 'rw'], act, { COND: cond });
        backward.push(k.bind([uniform(spec.layers[last]!, 'lab:output-backward'), dOutput, input, dy], grid1d(R * spec.dim, WG), 'lab output backward'));
      }
      const hidden = spec.layers.length > 1 ? spec.layers[0]!.nout : 0;
      const scratch = hidden ? [gpu.tensor([R, hidden], 'lab:model:dPost'), gpu.tensor([R, hidden], 'lab:model:dPre')] : [];
      const written = new Set<string>();
      for (let i = last; i >= 0; i--) {
        const l = spec.layers[i]!;
        const x = i === 0 ? input : post[i - 1]!;
        const u = uniform(l, `lab:dense${i}:backward`);
        const kw = await mlpKernel(gpu, 'dense_dw', ['uniform', 'read', 'read', 'rw'], act, { TRANSPOSED: l.transposed, ACCUMULATE: written.has(l.weight) });
        backward.push(kw.bind([u, dy, x, gv.get(l.weight)!], grid1d(l.nin * l.nout, WG), `lab dense${i} dW`));
        written.add(l.weight);
        const kb = await mlpKernel(gpu, 'dense_db', ['uniform', 'read', 'rw'], act);
        backward.push(kb.bind([u, dy, gv.get(l.bias)!], grid1d(l.nout, WG), `lab dense${i} db`));
        if (i > 0) {
          const [dPost, dPre] = scratch as [Tensor, Tensor];
          const kx = await mlpKernel(gpu, 'dense_dx', ['uniform', 'read', 'read', 'rw'], act, { TRANSPOSED: l.transposed });
          backward.push(kx.bind([u, dy, pv.get(l.weight)!, dPost], grid1d(R * l.nin, WG), `lab dense${i} dx`));
          const ka = await mlpKernel(gpu, 'act_backward', ['uniform', 'read', 'read', 'rw'], act);
          backward.push(ka.bind([uniform(spec.layers[i - 1]!, `lab:act${i - 1}:backward`), pre[i - 1]!, dPost, dPre], grid1d(primal * l.nin, WG), `lab act${i - 1} backward`));
          dy = dPre;
        }
      }
      return new ModelPlan(gpu, primal, tangents, input, output, dOutput, forward, backward);
    } catch (e) {
      gpu.destroy();
      throw e;
    }
  }

  destroy(): void {
    this.gpu.destroy();
  }
}

/** A score model's parameters and gradients on the GPU. */
export class ScoreModel {
  readonly gpu: Gpu;
  readonly params: Tensor;
  readonly grads: Tensor;

  constructor(
    parent: Gpu,
    readonly spec: ModelSpec,
    seed = 0,
  ) {
    this.gpu = parent.scope(`lab:${spec.kind}`);
    const n = spec.layout.size;
    this.params = this.gpu.tensor([n], `lab:${spec.kind}:params`, 'f32', 'the model width or depth');
    this.grads = this.gpu.tensor([n], `lab:${spec.kind}:grads`, 'f32', 'the model width or depth');
    this.gpu.write(this.params, initialParameters(spec, seed));
  }

  get dim(): number {
    return this.spec.dim;
  }

  get parameterCount(): number {
    return this.spec.layout.used;
  }

  /** Activations and dispatches for `primal` points with `tangents` directions each. */
  plan(primal: number, tangents = 0, opts: PlanOptions = {}): Promise<ModelPlan> {
    return ModelPlan.create(this.gpu, this.spec, this.params, this.grads, primal, tangents, opts);
  }

  setParameters(values: Float32Array): void {
    this.gpu.write(this.params, values);
  }

  readParameters(): Promise<Float32Array> {
    return this.gpu.read(this.params);
  }

  readGradients(): Promise<Float32Array> {
    return this.gpu.read(this.grads);
  }

  /** Releases the parameters and every plan made from this model. */
  destroy(): void {
    this.gpu.destroy();
  }
}
