// Mean squared error and its gradient, float32, in two stages for an accurate sum:
//   mse_partials: dy[i] = 2 (y[i] - tgt[i]) / n; partials[w] = sum of (y - target)^2 over block w
//                 (block = BLOCK consecutive elements; one workgroup per block; strided loads, then a
//                 shared-memory tree)
//   mse_finish:   loss[0] = (sum_w partials[w]) / n   (one workgroup)
// Bindings: mse_partials: 0 params, 1 y, 2 target, 3 dy (rw), 4 partials (rw);
//           mse_finish:   0 params, 1 partials (read), 2 loss (rw).
// Params {n, blocks, grad_scale = 2 / n}. Block index = wid.x + wid.y * nwg.x (grid1d folding).

override WG: u32 = 256;
override BLOCK: u32 = 4096;

struct Params { n: u32, blocks: u32, grad_scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> tgt: array<f32>;
@group(0) @binding(3) var<storage, read_write> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;
@group(0) @binding(1) var<storage, read> partials_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;

var<workgroup> red: array<f32, WG>;

// Sum of v over the workgroup, valid in lane 0. Every lane must call it.
fn tree_sum(lane: u32, v: f32) -> f32 {
  red[lane] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lane < s) { red[lane] += red[lane + s]; }
    workgroupBarrier();
  }
  return red[0];
}

// dy on block w's elements and partials[w] = their squared-error sum.
@compute @workgroup_size(WG)
fn mse_partials(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32, @builtin(num_workgroups) nwg: vec3u) {
  let w = wid.x + wid.y * nwg.x;
  if (w >= p.blocks) { return; }
  let start = w * BLOCK;
  let end = min(start + BLOCK, p.n);
  var acc = 0.0;
  for (var i = start + lane; i < end; i += WG) {
    let e = y[i] - tgt[i];
    dy[i] = p.grad_scale * e;
    acc += e * e;
  }
  let total = tree_sum(lane, acc);
  if (lane == 0u) { partials[w] = total; }
}

// loss = sum of partials / n.
@compute @workgroup_size(WG)
fn mse_finish(@builtin(local_invocation_index) lane: u32) {
  var acc = 0.0;
  for (var w = lane; w < p.blocks; w += WG) { acc += partials_in[w]; }
  let total = tree_sum(lane, acc);
  if (lane == 0u) { loss[0] = total / f32(p.n); }
}
