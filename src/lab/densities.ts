// The lab's densities: named shapes built as Gaussian mixtures (so their score is exact), and
// mixtures given by the user as JSON. The 2-D shapes use elongated components laid along a curve
// (tangential std about half the spacing, a small normal std), which approximates a ring, a spiral
// or a moon with few components. In D > 2 a 2-D shape is embedded in the first two coordinates with
// N(0, EXTRA_STD^2) in the others; `gaussian` and `grid` are defined in any dimension.
import { ValueError } from '../gpu/errors.ts';
import { GaussianMixture, diagonal, type MixtureComponent } from './mixture.ts';

export const DENSITY_NAMES = ['rings', 'grid', 'spiral', 'moons', 'gaussian'] as const;
export type DensityName = (typeof DENSITY_NAMES)[number];

/** Std of the extra coordinates when a 2-D shape is embedded in D > 2. */
export const EXTRA_STD = 0.3;
/** Upper bound on components (each GPU score evaluation loops over all of them). */
export const MAX_COMPONENTS = 4096;

export function namedDensity(name: string, dim = 2): GaussianMixture {
  if (!Number.isInteger(dim) || dim < 1) throw new ValueError(`Density dimension must be a positive integer, got ${dim}.`);
  switch (name as DensityName) {
    case 'gaussian':
      return gaussian(dim);
    case 'grid':
      return grid(dim);
    case 'rings':
      return embed(rings(), dim, name);
    case 'spiral':
      return embed(spiral(), dim, name);
    case 'moons':
      return embed(moons(), dim, name);
    default:
      throw new ValueError(`Unknown density '${name}'.`, `Use one of ${DENSITY_NAMES.join(', ')}, or give a mixture as JSON.`);
  }
}

/** One correlated Gaussian: unit variances, correlation 0.5 between neighbouring coordinates. */
function gaussian(dim: number): GaussianMixture {
  const cov = diagonal(dim, 1);
  for (let i = 0; i + 1 < dim; i++) cov[i * dim + i + 1] = cov[(i + 1) * dim + i] = 0.5;
  return new GaussianMixture(dim, [{ weight: 1, mean: new Array(dim).fill(0), cov }]);
}

/** A square grid of isotropic modes: 5 x 5 in 2-D (spacing 1), 3 per axis in other dimensions. */
function grid(dim: number): GaussianMixture {
  const per = dim === 2 ? 5 : 3;
  const spacing = dim === 2 ? 1 : 1.5;
  const count = per ** dim;
  if (count > MAX_COMPONENTS) throw new ValueError(`The grid in ${dim} dimensions has ${count} modes (more than ${MAX_COMPONENTS}).`, 'Use a smaller dimension.');
  const means: number[][] = [];
  for (let k = 0; k < count; k++) {
    const m: number[] = [];
    for (let i = 0, r = k; i < dim; i++, r = Math.floor(r / per)) m.push(((r % per) - (per - 1) / 2) * spacing);
    means.push(m);
  }
  return GaussianMixture.isotropic(means, 0.15);
}

/** A component elongated along the unit tangent (tx, ty): std `along` on it, `across` normal to it. */
function along(x: number, y: number, tx: number, ty: number, alongStd: number, acrossStd: number): MixtureComponent {
  const a = alongStd * alongStd;
  const c = acrossStd * acrossStd;
  return { weight: 1, mean: [x, y], cov: [a * tx * tx + c * ty * ty, (a - c) * tx * ty, (a - c) * tx * ty, a * ty * ty + c * tx * tx] };
}

/** Components spaced `spacing` apart along the curve t -> point(t), t in [t0, t1]. */
function alongCurve(point: (t: number) => [number, number], t0: number, t1: number, spacing: number, acrossStd: number): MixtureComponent[] {
  // Arc length on a fine grid, then one component every `spacing` of it.
  const steps = 2000;
  const pts: [number, number][] = [];
  const arc: number[] = [0];
  for (let i = 0; i <= steps; i++) {
    pts.push(point(t0 + ((t1 - t0) * i) / steps));
    if (i > 0) arc.push(arc[i - 1]! + Math.hypot(pts[i]![0] - pts[i - 1]![0], pts[i]![1] - pts[i - 1]![1]));
  }
  const total = arc[steps]!;
  const n = Math.max(1, Math.round(total / spacing));
  const out: MixtureComponent[] = [];
  for (let k = 0; k < n; k++) {
    const s = ((k + 0.5) * total) / n;
    let i = 1;
    while (i < steps && arc[i]! < s) i++;
    const [x0, y0] = pts[i - 1]!;
    const [x1, y1] = pts[i]!;
    const f = (s - arc[i - 1]!) / Math.max(arc[i]! - arc[i - 1]!, 1e-12);
    const len = Math.hypot(x1 - x0, y1 - y0) || 1;
    out.push(along(x0 + f * (x1 - x0), y0 + f * (y1 - y0), (x1 - x0) / len, (y1 - y0) / len, 0.55 * (total / n), acrossStd));
  }
  return out;
}

/** Two concentric rings, radii 1 and 2.2. */
function rings(): MixtureComponent[] {
  const ring = (r: number) => alongCurve((t) => [r * Math.cos(t), r * Math.sin(t)], 0, 2 * Math.PI, 0.45, 0.08);
  return [...ring(1), ...ring(2.2)];
}

/** An Archimedean spiral r = 0.35 theta, theta from 0.8 to 7.2 rad. */
function spiral(): MixtureComponent[] {
  return alongCurve((t) => [0.35 * t * Math.cos(t), 0.35 * t * Math.sin(t)], 0.8, 7.2, 0.35, 0.08);
}

/** Two interleaved half circles (the "two moons"), centred at the origin, radius 1.5. */
function moons(): MixtureComponent[] {
  const r = 1.5;
  const upper = alongCurve((t) => [r * Math.cos(t) - 0.75, r * Math.sin(t) - 0.375], 0, Math.PI, 0.4, 0.1);
  const lower = alongCurve((t) => [r * (1 - Math.cos(t)) - 0.75, -r * Math.sin(t) + 0.375], 0, Math.PI, 0.4, 0.1);
  return [...upper, ...lower];
}

function embed(comps: MixtureComponent[], dim: number, name: string): GaussianMixture {
  if (dim < 2) throw new ValueError(`The '${name}' density is two-dimensional; it needs dim >= 2, got ${dim}.`);
  if (dim === 2) return new GaussianMixture(2, comps);
  const e2 = EXTRA_STD * EXTRA_STD;
  return new GaussianMixture(
    dim,
    comps.map((c) => {
      const cov = diagonal(dim, e2);
      for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) cov[i * dim + j] = c.cov[i * 2 + j]!;
      return { weight: c.weight, mean: [...c.mean, ...new Array(dim - 2).fill(0)], cov };
    }),
  );
}

/**
 * A user mixture from JSON (a string or a parsed value):
 *   {"components": [{"weight": 2, "mean": [0, 1], "std": 0.3},
 *                   {"mean": [1, -1], "cov": [[0.5, 0.1], [0.1, 0.2]]}]}
 * `weight` defaults to 1 (weights are normalised); a component gives `std` (isotropic), `cov`
 * (a D x D nested array or D*D numbers, row-major), or neither (std 1). All means share one length.
 */
export function parseMixture(json: string | unknown, what = 'the mixture'): GaussianMixture {
  let v: unknown = json;
  if (typeof json === 'string') {
    try {
      v = JSON.parse(json);
    } catch (e) {
      throw new ValueError(`${what} is not valid JSON: ${(e as Error).message}`, 'Write it as {"components": [{"mean": [0, 0], "std": 0.5}, ...]}.');
    }
  }
  const comps = (v as { components?: unknown })?.components;
  if (!Array.isArray(comps) || comps.length === 0)
    throw new ValueError(`${what} needs a non-empty "components" array.`, 'Write it as {"components": [{"mean": [0, 0], "std": 0.5}, ...]}.');
  if (comps.length > MAX_COMPONENTS) throw new ValueError(`${what} has ${comps.length} components; at most ${MAX_COMPONENTS} are allowed.`);
  const first = (comps[0] as { mean?: unknown })?.mean;
  if (!Array.isArray(first) || first.length < 1) throw new ValueError(`${what}: component 0 needs a "mean" array.`);
  const dim = first.length;
  const out: MixtureComponent[] = comps.map((c: unknown, k: number) => {
    const o = (c ?? {}) as { weight?: unknown; mean?: unknown; std?: unknown; cov?: unknown };
    const mean = o.mean;
    if (!Array.isArray(mean) || mean.length !== dim || !mean.every((x) => typeof x === 'number' && Number.isFinite(x)))
      throw new ValueError(`${what}: component ${k} needs "mean": ${dim} finite numbers (as component 0 has).`);
    const weight = o.weight === undefined ? 1 : Number(o.weight);
    let cov: number[];
    if (o.cov !== undefined) {
      const flat = Array.isArray(o.cov) && o.cov.every(Array.isArray) ? (o.cov as unknown[][]).flat() : o.cov;
      if (!Array.isArray(flat) || flat.length !== dim * dim || !flat.every((x) => typeof x === 'number'))
        throw new ValueError(`${what}: component ${k} "cov" must be ${dim}x${dim} numbers.`);
      cov = flat as number[];
    } else {
      const std = o.std === undefined ? 1 : Number(o.std);
      if (!(Number.isFinite(std) && std > 0)) throw new ValueError(`${what}: component ${k} "std" must be a positive number, got ${String(o.std)}.`);
      cov = diagonal(dim, std * std);
    }
    return { weight, mean: mean as number[], cov };
  });
  return new GaussianMixture(dim, out);
}
