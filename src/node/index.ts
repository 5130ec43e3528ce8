// softdiff/node: the Node runtime (Dawn device, file system helpers) plus the whole core.
export * from '../index.ts';
export { createNodeGpu, nodeGpuObject, releaseNodeGpu } from './device.ts';
