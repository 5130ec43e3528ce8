// Tree reductions over one workgroup (shared: a kernel pulls them in with `#include workgroup_reduce`;
// no bindings, no entry points). The including shader declares `override WG: u32`, a power of two
// equal to the workgroup size of the entry points that call these. Every invocation of the workgroup
// must call them, from uniform control flow; each returns the total to every invocation and leaves
// its scratch free for the next call. The order of the additions is fixed (halving: lane i adds lane
// i + s for s = WG/2, WG/4, ..., 1), so a result does not depend on timing.

var<workgroup> wg_red: array<f32, WG>;
var<workgroup> wg_red2: array<vec2f, WG>;

// Sum of v over the workgroup.
fn workgroup_sum(lid: u32, v: f32) -> f32 {
  wg_red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { wg_red[lid] = wg_red[lid] + wg_red[lid + s]; }
    workgroupBarrier();
  }
  let total = wg_red[0];
  workgroupBarrier();
  return total;
}

// Maximum of v over the workgroup.
fn workgroup_max(lid: u32, v: f32) -> f32 {
  wg_red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { wg_red[lid] = max(wg_red[lid], wg_red[lid + s]); }
    workgroupBarrier();
  }
  let m = wg_red[0];
  workgroupBarrier();
  return m;
}

// Sums of the pair (a, b) over the workgroup, in one pass.
fn workgroup_sum2(lid: u32, a: f32, b: f32) -> vec2f {
  wg_red2[lid] = vec2f(a, b);
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { wg_red2[lid] = wg_red2[lid] + wg_red2[lid + s]; }
    workgroupBarrier();
  }
  let total = wg_red2[0];
  workgroupBarrier();
  return total;
}
