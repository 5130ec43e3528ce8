// Counter-based random numbers, shared by every kernel that needs noise (pulled in with
// `#include philox`; this file has no bindings and no entry points).
//
// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a keyed
// bijection of a 128-bit counter. Key = (seed, step), counter = (quad, stream, 0, 0), where element i
// of a tensor belongs to quad i / 4 and takes lane i % 4 of the block. `stream` separates independent
// uses within one step (sampler noise, prior draws). Two 32-bit words give two standard normals by
// Box-Muller; u1 is taken in (0, 1) so log(u1) is finite (|z| <= 5.9).
// Every adapter computes the same integers; the normals differ only by the adapter's log/sin/cos
// rounding. RngState is the key's 16-byte uniform (src/diffusion/rng.ts RngState), which the host
// rewrites before a step's submit.

struct RngState { seed: u32, step: u32, _a: u32, _b: u32 }

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;
const TWO_PI: f32 = 6.283185307179586;

// (hi, lo) 32-bit words of the 64-bit product a * b (WGSL has no mulhi).
fn philox_mulhilo(a: u32, b: u32) -> vec2u {
  let al = a & 0xFFFFu;
  let ah = a >> 16u;
  let bl = b & 0xFFFFu;
  let bh = b >> 16u;
  let ll = al * bl;
  let lh = al * bh;
  let hl = ah * bl;
  let hh = ah * bh;
  let mid = (ll >> 16u) + (lh & 0xFFFFu) + (hl & 0xFFFFu);
  let hi = hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
  return vec2u(hi, a * b);
}

// Philox-4x32 with 10 rounds: four independent uniformly distributed 32-bit words.
fn philox4x32_10(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { k = k + vec2u(PHILOX_W0, PHILOX_W1); }
    let p0 = philox_mulhilo(PHILOX_M0, c.x);
    let p1 = philox_mulhilo(PHILOX_M1, c.z);
    c = vec4u(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
  }
  return c;
}

// Two standard normals from two random words (Box-Muller).
fn box_muller(a: u32, b: u32) -> vec2f {
  let u1 = (f32(a >> 8u) + 0.5) * (1.0 / 16777216.0);
  let u2 = f32(b >> 8u) * (1.0 / 16777216.0);
  let r = sqrt(-2.0 * log(u1));
  // Angle in [-pi, pi): where sin/cos are most accurate.
  let th = TWO_PI * (u2 - 0.5);
  return vec2f(r * cos(th), r * sin(th));
}

// The four standard normals of quad `quad` for (seed, step, stream).
fn normal4(seed: u32, step: u32, stream: u32, quad: u32) -> vec4f {
  let w = philox4x32_10(vec4u(quad, stream, 0u, 0u), vec2u(seed, step));
  return vec4f(box_muller(w.x, w.y), box_muller(w.z, w.w));
}
