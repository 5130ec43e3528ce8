// Every upper bound on a size that comes from outside (a command-line flag, a checkpoint's metadata,
// an image or safetensors header, a folder), in one place. Each is checked before anything of that
// size is allocated, so a typo or a hostile file is refused in milliseconds instead of exhausting the
// machine. The values are generous for real use; each comment says what the bound protects and why
// the value is enough. Browser-safe (no imports).

/** Image side in pixels (--size, a checkpoint's dataset.size / imageSize / blur height). The presets
 * stop at 64 px; at 512 px one RGB image is 3 MB in float32, a batch of 16 already 50 MB. */
export const MAX_IMAGE_SIZE = 512;

/** Images in a data set (--length, dataset.length in a checkpoint). The batch streamer keeps a
 * Uint32 shuffle order per epoch: 4 MB at this bound. MNIST has 10,000 images, the emoji set ~3,700. */
export const MAX_DATASET_IMAGES = 1_000_000;

/** Bytes of a packed image folder (count x channels x size x size). A folder's images are decoded
 * into memory once; 1 GiB is 87,000 RGB images at 64 px. */
export const MAX_DATASET_BYTES = 1024 ** 3;

/** Pixels of one decoded PNG/JPEG (width x height, read from its header before decoding). Decoding
 * takes 4 bytes per pixel plus the decoder's own copy: about 0.4 GB at 50 megapixels, the size of a
 * large camera photo. Training images are resized to at most MAX_IMAGE_SIZE anyway. */
export const MAX_IMAGE_PIXELS = 50_000_000;

/** Bytes of an image file, read whole before decoding (a 50-megapixel PNG is under 150 MB). */
export const MAX_IMAGE_FILE_BYTES = 256 * 1024 ** 2;

/** Images per training batch and per sampling batch (--batch, options.batch). Host staging arrays and
 * GPU activations grow with it; see also MAX_BATCH_BYTES. */
export const MAX_BATCH = 4096;

/** Bytes of one batch of images in float32 (batch x channels x size x size x 4): the host staging
 * array and each GPU tensor of the batch. 1 GiB is 4096 RGB images at 128 px. */
export const MAX_BATCH_BYTES = 1024 ** 3;

/** Images in one preview grid (--sample-count, options.sampleCount): a single PNG; 1024 images make
 * a 32 x 32 grid. */
export const MAX_PREVIEW_IMAGES = 1024;

/** Images written by `softdiff sample --count` (one PNG each, sampled --batch at a time). */
export const MAX_SAMPLE_IMAGES = 100_000;

/** Images tiled into grid.png by `softdiff sample` (the first ones; every image also has its own PNG). */
export const MAX_SAMPLE_GRID_IMAGES = 256;

/** Sampler steps (--sample-steps, sample --steps, options.sampleSteps): the sampler keeps its times
 * on the host; the paper uses at most 1,000. */
export const MAX_SAMPLER_STEPS = 10_000;

/** The x0 weight lambda of the soft loss (--x0-weight, options.x0Weight). Not a size, but read from a
 * flag or a checkpoint: at 1,000 the x0 term outweighs the soft term by three orders of magnitude, far
 * past any useful mix (the main job uses 0.1), while float32 losses stay finite. */
export const MAX_X0_WEIGHT = 1000;

/** Annealed Langevin steps per noise level (sample --langevin-steps); the default is 100. */
export const MAX_LANGEVIN_STEPS = 10_000;

/** Training steps (--steps, a checkpoint's step and adamStep). The GPU noise counter is a u32 of the
 * step, so beyond 2^32 - 1 steps the noise would repeat. */
export const MAX_STEPS = 0xffffffff;

/** Training images kept as the sampler's prior bank (options.priorBank; default 64). */
export const MAX_PRIOR_BANK = 4096;

/** U-Net sizes (--width, --model, a checkpoint's options.model). The rgb64 preset has widths up to
 * 256, 4 levels, 2 blocks per level, 256-wide time embedding; these bounds are 8-16x that. */
export const MAX_CHANNELS = 4096;
export const MAX_LEVELS = 8;
export const MAX_RES_BLOCKS = 16;
export const MAX_TIME_WIDTH = 4096;
export const MAX_ATTENTION_HEADS = 64;

/** Levels and candidates of `softdiff schedule`, and the bytes of the level scheduler's tables: one
 * float64 attenuation per pixel per candidate (candidates x size x size x 8): 33 MB for 4,096
 * candidates at 32 px, 512 MiB allowed in all. */
export const MAX_SCHEDULE_LEVELS = 4096;
export const MAX_SCHEDULE_CANDIDATES = 4096;
export const MAX_SCHEDULE_TABLE_BYTES = 512 * 1024 ** 2;

/** Bytes of a safetensors JSON header. A softdiff checkpoint's header is about 100 KB for the
 * largest preset (4 copies of ~300 tensors plus the options); other tools' files with thousands of
 * tensors stay under 1 MB. Parsing 4 MB of JSON takes tens of milliseconds. */
export const MAX_SAFETENSORS_HEADER_BYTES = 4 * 1024 ** 2;

/** Tensors in one safetensors file (rgb64 checkpoints hold ~1,200). */
export const MAX_SAFETENSORS_TENSORS = 16_384;

/** Bytes of a checkpoint file (read whole): rgb64's training state is 230 MB. */
export const MAX_CHECKPOINT_BYTES = 1024 ** 3;

/** Bytes of a small JSON input file (--blur-schedule): a schedule of 1,000 levels is ~40 KB. */
export const MAX_JSON_FILE_BYTES = 16 * 1024 ** 2;

/** Candidate image files listed in a data folder (names are held in memory and sorted). */
export const MAX_FOLDER_FILES = MAX_DATASET_IMAGES;

/** Kernel variant choices stored in a checkpoint (one per op key; a U-Net plan has ~100 keys). */
export const MAX_VARIANT_CHOICES = 4096;
