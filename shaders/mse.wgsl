// Mean squared error and its gradient, float32, in two stages for an accurate sum:
//   mse_partials: dy[i] = 2 (y[i] - tgt[i]) / n; partials[w] = sum of (y - target)^2 over block w
//                 (block = BLOCK consecutive elements; one workgroup per block; strided loads, then a
//                 shared-memory tree)
//   mse_finish:   loss[0] = (sum_w partials[w]) / n   (one workgroup)
// Bindings: mse_partials: 0 params, 1 y, 2 target, 3 dy (rw), 4 partials (rw);
//           mse_finish:   0 params, 1 partials (read), 2 loss (rw).
// Params {n, blocks, grad_scale = 2 / n}. Block index = workgroup_index(wid, nwg) (grid1d folding).

override WG: u32 = 256;
override BLOCK: u32 = 4096;

#include grid
#include workgroup_reduce

struct Params { n: u32, blocks: u32, grad_scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> tgt: array<f32>;
@group(0) @binding(3) var<storage, read_write> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;
@group(0) @binding(1) var<storage, read> partials_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;

// dy on block w's elements and partials[w] = their squared-error sum.
@compute @workgroup_size(WG)
fn mse_partials(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32, @builtin(num_workgroups) nwg: vec3u) {
  let w = workgroup_index(wid, nwg);
  if (w >= p.blocks) { return; }
  let start = w * BLOCK;
  let end = min(start + BLOCK, p.n);
  var acc = 0.0;
  for (var i = start + lane; i < end; i += WG) {
    let e = y[i] - tgt[i];
    dy[i] = p.grad_scale * e;
    acc += e * e;
  }
  let total = workgroup_sum(lane, acc);
  if (lane == 0u) { partials[w] = total; }
}

// loss = sum of partials / n.
@compute @workgroup_size(WG)
fn mse_finish(@builtin(local_invocation_index) lane: u32) {
  var acc = 0.0;
  for (var w = lane; w < p.blocks; w += WG) { acc += partials_in[w]; }
  let total = workgroup_sum(lane, acc);
  if (lane == 0u) { loss[0] = total / f32(p.n); }
}
