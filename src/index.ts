// softdiff: Soft Diffusion on WebGPU. The browser-safe core: everything here takes a Gpu (made from
// navigator.gpu, Dawn's GPU object, or an existing GPUDevice) and touches no browser or Node API.
/**
 * The browser-safe core: everything takes a `Gpu` and touches no browser or Node API. Start with
 * {@link SoftDiffusion}.
 * @module softdiff
 */
/// <reference types="@webgpu/types" preserve="true" />
export * from './gpu/errors.ts';
export { Gpu, describeAdapter, assertFinite, type AdapterDescription, type GpuOptions } from './gpu/gpu.ts';
export { BufferCensus, type CensusSnapshot } from './gpu/census.ts';
export { SharedBuffers } from './gpu/shared.ts';
export { Tensor, numel, type DType } from './gpu/tensor.ts';
export { FlatLayout, alignElements } from './gpu/flat-layout.ts';
export { Kernel, KernelCache, Params, grid1d, type Dispatch, type KernelSpec, type BindingKind } from './gpu/kernel.ts';
export { Recorder } from './gpu/recorder.ts';
export { preprocess } from './gpu/wgsl.ts';
export { shaderNames, shaderSource } from './gpu/shaders.ts';
export { elementwise, type ElementwiseOp } from './kernels/elementwise.ts';
export { pickVariant, timeDispatches, VariantChoices, type Variant, type VariantChoice, type Operands } from './gpu/autotune.ts';
export { BufferUsage, MapMode, TENSOR_USAGE } from './gpu/usage.ts';
// Data sets (host side, browser-safe) and their GPU batch streamer.
export { PackedDataset, imageElements, type Dataset } from './data/dataset.ts';
export { HostRng, mixSeed, permutation } from './base/host-rng.ts';
export { mnistDataset, MNIST_SIZE, type MnistDataset } from './data/mnist.ts';
export { emojiDataset, EMOJI_SHEET_SIZES, type EmojiEntry, type EmojiOptions } from './data/emoji.ts';
export { ImageSetBuilder, imageSetDataset } from './data/image-set.ts';
export { BlobsDataset, StripesDataset, type SyntheticOptions } from './data/synthetic.ts';
export { BatchStreamer, flipRows, type BatchStreamerOptions, type StreamerState } from './data/batch-streamer.ts';
export { resizeCenterCrop, rgbaToChw, cropRgba, type RgbaImage, type ImageDecoder } from './data/image.ts';
// Checkpoint format and image grids (browser-safe encoders).
export { encodeSafetensors, decodeSafetensors, type ExpectedLayout, type SafeTensor, type SafetensorsFile, type TensorToWrite } from './io/safetensors.ts';
export { encodeCheckpointMetadata, decodeCheckpointMetadata, checkpointFormat, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, type CheckpointFormat } from './io/checkpoint-metadata.ts';
export { VERSION } from './version.ts';
export { tileGrid, sampleImage, imageToRgba, type Image8, type GridOptions, type BatchShape } from './io/grid.ts';
// Soft Diffusion core: corruptions C_t, schedules, losses.
export { LEVEL_STRIDE, type Corruption, type Denoiser } from './diffusion/types.ts';
export { Schedule, defaultBlurSchedule, defaultNoiseSchedule, inverseVarianceWeight, fillLevels, type ScheduleJSON } from './diffusion/schedule.ts';
export { dctMatrix, heatEigenvalues, blurSpectrum, dctForward, dctInverse, spectralMultiply, spectralFilter, dctScale, type SpectralMultiplier } from './diffusion/dct.ts';
export { DctBlur, blurCombination, type DctBlurOptions, type BlurCombination } from './diffusion/blur.ts';
export { SoftMask, MASK_KINDS, type MaskKind, type SoftMaskOptions } from './diffusion/mask.ts';
export { IdentityCorruption } from './diffusion/identity.ts';
export { defineCorruption, UserCorruption, AdjointMismatchError, type UserCorruptionSpec } from './diffusion/user-corruption.ts';
export { softScoreLoss, coldX0Loss, dsmLoss, corruptBatch, type LossTensors, type LossOptions, type DsmTensors } from './diffusion/losses.ts';
// Random numbers, samplers, the prior p_1 and the level scheduler.
export { RngState, RngStream, randomNormal, randomBits, type RandomNormalOptions } from './diffusion/rng.ts';
export { Sampler, sample, samplerTimes, type SamplerKind, type SamplerOptions, type SampleRunOptions, type Intermediate, type PriorSource } from './diffusion/samplers.ts';
export { GaussianDenoiser, type GaussianDenoiserOptions } from './diffusion/gaussian-denoiser.ts';
export { GaussianPrior, BlurredImagePrior, choleskyLower, addPriorNoise, type GaussianPriorJSON, type GaussianPriorFitOptions } from './diffusion/prior.ts';
export { datasetSpectrum, scheduleLevels, levelSchedule, greedyPath, LevelDistance, type DatasetSpectrum, type LevelScheduleOptions, type LevelScheduleResult } from './diffusion/level-scheduler.ts';
export { forEachBatch, type ImageBatches } from './diffusion/batches.ts';
// Network layers (forward and backward).
export { groupNormForward, groupNormBackward, GROUPNORM_VARIANTS, type GroupNormShape, type GroupNormVariant, type GroupNormOptions, type GroupNormBackwardOptions } from './kernels/groupnorm.ts';
export { addChannelBias, channelBiasBackward, concatChannels, splitChannelsBackward, type ChannelBiasShape, type ConcatShape } from './kernels/channels.ts';
export { upsample2xForward, upsample2xBackward, type Upsample2xShape } from './kernels/upsample.ts';
export { linearForward, linearBackward, type LinearShape } from './kernels/linear.ts';
export { timeEmbedding, timeEmbeddingTurns, type TimeEmbeddingShape } from './kernels/timeembed.ts';
export { mseLoss } from './kernels/mse.ts';
// The network h_theta: a time-conditioned U-Net with explicit forward and backward.
export { addInto } from './kernels/accumulate.ts';
export { PRESETS, unetConfig, validateConfig, normalisedWidths, resBlockPlan, type UNetConfig, type PresetName } from './nn/config.ts';
export { Graph, memoryPlan, checkLimits, initialParameters, type MemoryPlan, type MemoryCategory, type KernelVariants } from './nn/plan.ts';
export { UNetGraph, UNET_IO, type UNetPlanOptions } from './nn/unet-graph.ts';
export { UNet, type UNetOptions } from './nn/unet.ts';
export { TrainingStep, type TrainingStepParts } from './nn/training-step.ts';
export { WEIGHTS_FORMAT, encodeUNetWeights, decodeUNetWeights, saveUNetWeights, loadUNetWeights } from './nn/weights.ts';
export type { Module } from './nn/module.ts';
export { attentionForward, attentionBackward, ATTENTION_VARIANTS, type AttentionShape, type AttentionVariant, type AttentionOptions } from './kernels/attention.ts';
export { AdamW, decayMask, type AdamWOptions, type AdamWState } from './kernels/adamw.ts';
// Training and sampling runs (shared by the CLI and the browser demo).
export { Trainer, type StepResult, type LogRecord, type RunCallbacks } from './train/trainer.ts';
export { resolveOptions, makeCorruption, corruptionFromJSON, lossWeight, CORRUPTIONS, LOSSES, WEIGHTINGS, SAMPLERS, type TrainerOptions, type ResolvedOptions, type CorruptionName, type LossName, type WeightingName } from './train/options.ts';
export { encodeTrainingState, decodeCheckpointFile, stateForLayout, FLAT_COPIES, type TrainingState, type DecodedCheckpoint } from './train/checkpoint-state.ts';
export { SampleRun, type SampleRunOptions as SampleRunConfig, type SampleResult } from './sample/sample-run.ts';
export { UNetDenoiser } from './sample/unet-denoiser.ts';
export { BankPrior } from './sample/bank-prior.ts';
// The one-call API (src/api/): load a checkpoint and sample, or train, in a few lines.
export { SoftDiffusion, type LoadOptions, type ModelInfo } from './api/soft-diffusion.ts';
export { SoftDiffusionTrainer, type TrainOptions, type TrainRunOptions, type TrainRunResult } from './api/training.ts';
export { type SampleOptions, type Samples, type SamplePlan } from './api/sampling.ts';
export { samplesToRgba, samplesToImageData, type PictureOptions, type RgbaPicture } from './api/pictures.ts';
export { trainingDataset, type TrainingData, type ImageListData, type SyntheticData } from './api/data.ts';
export type { DatasetInfo } from './train/checkpoint-state.ts';
export { conv2dForward, conv2dBackwardInput, conv2dBackwardWeight, conv2dOutSize, CONV2D_VARIANTS, type Conv2dShape, type Conv2dVariant } from './kernels/conv2d.ts';
export { matmul, matmulShape, MATMUL_VARIANTS, type MatmulOptions, type MatmulShape, type MatmulVariant } from './kernels/matmul.ts';
export { reduce, planReduce, reduceRows, type ReduceOp, type ReduceOptions, type ReducePlan } from './kernels/reduce.ts';
// Sample quality: the feature classifier, its weights file, the metrics and the evaluator.
export { Classifier, ClassifierGraph, MNIST_CLASSIFIER, CLASSIFIER_IO, validateClassifierConfig, type ClassifierConfig, type ClassifierOptions } from './eval/classifier.ts';
export { CLASSIFIER_FORMAT, encodeClassifierWeights, decodeClassifierWeights, type ClassifierWeights, type ClassifierInfo } from './eval/classifier-weights.ts';
export { FeatureExtractor, type ImageFeatures } from './eval/features.ts';
export { gaussianFit, frechetDistance, diagonalFrechetDistance, precisionRecall, kthNeighbourRadii2, classStatistics, type GaussianFit, type PrecisionRecall, type ClassStatistics } from './eval/metrics.ts';
export { symmetricEigen, psdSqrt } from './eval/linalg.ts';
export { Evaluator, dctSpectrum, clip01, PR_NEIGHBOURS, type QualityScores, type EvaluatorOptions } from './eval/evaluator.ts';
export { stratifiedSplit, HELD_OUT_FRACTION, SPLIT_SEED, type Split } from './eval/split.ts';
export { referenceImages, realImages, imagesAt, classifierSplit } from './eval/reference.ts';
export { EvalSampler, sampleSet, batchSeed, type SampleSetOptions } from './eval/sample-set.ts';
export { trainClassifier, type ClassifierTrainingOptions, type TrainedClassifier } from './eval/train-classifier.ts';
export { distort, parseDistortion, type Distortion, type DistortionKind } from './eval/distortions.ts';
export { gridCells, gridLayout } from './eval/grid-cells.ts';
export { softmaxRows, softmaxCrossEntropy, type SoftmaxShape, type XentTensors } from './kernels/softmax-xent.ts';
export { avgPoolForward, avgPoolBackward, type AvgPoolShape } from './kernels/avgpool.ts';
