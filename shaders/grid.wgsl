// Indexing of 1-D dispatches (shared: a kernel pulls it in with `#include grid`; no bindings, no entry
// points). grid1d (src/gpu/kernel.ts) folds ceil(n / WG) workgroups of WG invocations into x and y so
// that no dimension exceeds 65535; the including shader declares `override WG: u32` and passes its
// entry point's @builtin(global_invocation_id) gid, @builtin(workgroup_id) wid and
// @builtin(num_workgroups) nwg. Invocations past the element count return early.

// The flat invocation index of a grid1d dispatch.
fn flat_index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// The flat workgroup index of a grid1d dispatch (one workgroup per row, plane, partial sum...).
fn workgroup_index(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}
