// Tree reductions over one workgroup (shared: a kernel pulls them in with `#include workgroup_reduce`;
// no bindings, no entry points). The including shader declares `override WG: u32`, a power of two
// equal to the workgroup size of the entry points that call these. Every invocation of the workgroup
// must call them, from uniform control flow; each returns the total to every invocation and leaves
// its scratch free for the next call. The order of the additions is fixed (halving: lane i adds lane
// i + s for s = WG/2, WG/4, ..., 1), so a result does not depend on timing. One implementation on
// pairs serves all three (its scratch is 8 * WG bytes of workgroup memory).

var<workgroup> wg_red: array<vec2f, WG>;

const REDUCE_SUM: u32 = 0u;
const REDUCE_MAX: u32 = 1u;

// The pair v summed (REDUCE_SUM) or maximised (REDUCE_MAX) component-wise over the workgroup. `op`
// is a constant at every call, so the branch is uniform (and folds away where the compiler inlines).
fn workgroup_reduce(lid: u32, v: vec2f, op: u32) -> vec2f {
  wg_red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      let a = wg_red[lid];
      let b = wg_red[lid + s];
      wg_red[lid] = select(a + b, max(a, b), op == REDUCE_MAX);
    }
    workgroupBarrier();
  }
  let total = wg_red[0];
  workgroupBarrier();
  return total;
}

// Sum of v over the workgroup.
fn workgroup_sum(lid: u32, v: f32) -> f32 {
  return workgroup_reduce(lid, vec2f(v, 0.0), REDUCE_SUM).x;
}

// Maximum of v over the workgroup.
fn workgroup_max(lid: u32, v: f32) -> f32 {
  return workgroup_reduce(lid, vec2f(v, 0.0), REDUCE_MAX).x;
}

// Sums of the pair (a, b) over the workgroup, in one pass.
fn workgroup_sum2(lid: u32, a: f32, b: f32) -> vec2f {
  return workgroup_reduce(lid, vec2f(a, b), REDUCE_SUM);
}
