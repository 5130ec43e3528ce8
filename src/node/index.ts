// softdiff/node: the Node runtime (Dawn device, file system helpers) plus the whole core.
/**
 * The Node runtime (a Dawn device from `createNodeGpu()`, data sets and checkpoints on disk, PNG
 * output) plus everything in `softdiff`.
 * @module softdiff/node
 */
export * from '../index.ts';
export { createNodeGpu, nodeGpuObject, releaseNodeGpu } from './device.ts';
export { decodeImage, sniffImageFormat, type ImageFormat } from './image-decode.ts';
export { loadMnist, loadEmoji, loadImageFolder, loadDataset, DATASET_NAMES, type FolderOptions, type DatasetSpecOptions } from './datasets.ts';
export { writeFileAtomic, writeCheckpoint, readCheckpoint, type Checkpoint, type ReadCheckpointOptions } from './checkpoint.ts';
export { encodePng, writePng, writeGridPng, writeSamplePngs } from './png.ts';
export { Progress, type ProgressMode, type ProgressOptions, type ProgressInfo } from './progress.ts';
export { JsonlLog, readJsonl } from './jsonl-log.ts';
export { shippedClassifierPath, readClassifierWeights, CLASSIFIER_ASSET } from './classifier-asset.ts';
