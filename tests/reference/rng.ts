// Host reference of the GPU RNG (shaders/philox.wgsl): Philox-4x32-10 with BigInt-free 32-bit
// arithmetic, and the same Box-Muller mapping in float64.
const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

function mulhilo(a: number, b: number): [number, number] {
  const p = BigInt(a >>> 0) * BigInt(b >>> 0);
  return [Number(p >> 32n) >>> 0, Number(p & 0xffffffffn) >>> 0];
}

export function philox4x32_10(ctr: readonly number[], key: readonly number[]): number[] {
  let [c0, c1, c2, c3] = ctr.map((v) => v >>> 0) as [number, number, number, number];
  let [k0, k1] = key.map((v) => v >>> 0) as [number, number];
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const [h0, l0] = mulhilo(M0, c0);
    const [h1, l1] = mulhilo(M1, c2);
    [c0, c1, c2, c3] = [(h1 ^ c1 ^ k0) >>> 0, l1, (h0 ^ c3 ^ k1) >>> 0, l0];
  }
  return [c0, c1, c2, c3];
}

export function boxMuller(a: number, b: number): [number, number] {
  const u1 = ((a >>> 8) + 0.5) / 16777216;
  const u2 = (b >>> 8) / 16777216;
  const r = Math.sqrt(-2 * Math.log(u1));
  const th = 2 * Math.PI * (u2 - 0.5);
  return [r * Math.cos(th), r * Math.sin(th)];
}

/** The n normals the GPU writes for (seed, step, stream): element i from quad i / 4, lane i % 4. */
export function philoxNormals(n: number, seed: number, step: number, stream = 0): Float64Array {
  const out = new Float64Array(n);
  for (let q = 0; 4 * q < n; q++) {
    const w = philox4x32_10([q, stream, 0, 0], [seed, step]);
    const z = [...boxMuller(w[0]!, w[1]!), ...boxMuller(w[2]!, w[3]!)];
    for (let j = 0; j < 4 && 4 * q + j < n; j++) out[4 * q + j] = z[j]!;
  }
  return out;
}

export function philoxWords(n: number, seed: number, step: number, stream = 0): Uint32Array {
  const out = new Uint32Array(n);
  for (let q = 0; 4 * q < n; q++) {
    const w = philox4x32_10([q, stream, 0, 0], [seed, step]);
    for (let j = 0; j < 4 && 4 * q + j < n; j++) out[4 * q + j] = w[j]!;
  }
  return out;
}
