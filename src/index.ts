// softdiff: Soft Diffusion on WebGPU. The browser-safe core: everything here takes a Gpu (made from
// navigator.gpu, Dawn's GPU object, or an existing GPUDevice) and touches no browser or Node API.
export * from './gpu/errors.ts';
export { Gpu, describeAdapter, assertFinite, type AdapterDescription, type GpuOptions } from './gpu/gpu.ts';
export { Tensor, numel, type DType } from './gpu/tensor.ts';
export { BufferPool, FlatLayout, alignElements } from './gpu/pool.ts';
export { Kernel, KernelCache, Params, grid1d, type Dispatch, type KernelSpec, type BindingKind } from './gpu/kernel.ts';
export { Recorder } from './gpu/recorder.ts';
export { preprocess } from './gpu/wgsl.ts';
export { shaderNames, shaderSource } from './gpu/shaders.ts';
export { elementwise, type ElementwiseOp } from './kernels/elementwise.ts';
