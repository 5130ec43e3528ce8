// Checkpoints on disk. Writes are atomic: the bytes go to a temporary file in the same folder, are
// flushed to disk (fsync), and the file is renamed over the target, so a crash or a full disk leaves
// the previous checkpoint intact rather than a truncated one. Reads validate the whole file first.
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from '../gpu/errors.ts';
import { decodeCheckpointMetadata, encodeCheckpointMetadata } from '../io/checkpoint-metadata.ts';
import { readSafetensorsFile } from './files.ts';
import { decodeSafetensors, encodeSafetensors, type ExpectedLayout, type SafeTensor, type TensorToWrite } from '../io/safetensors.ts';

/** Replace `path` with `bytes` atomically (temp file + fsync + rename + fsync of the folder). */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  let fh;
  try {
    fh = await open(tmp, 'wx');
    await fh.writeFile(bytes);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw new CheckpointError(`Could not write ${path}: ${(e as Error).message}`, 'Check that the folder exists, is writable and has free space; the previous file is unchanged.');
  }
  // Make the rename itself durable. Some file systems refuse fsync on a directory: that is not fatal.
  try {
    const d = await open(dir, 'r');
    await d.sync().catch(() => {});
    await d.close();
  } catch {
    /* best effort */
  }
}

export interface Checkpoint {
  tensors: Map<string, SafeTensor>;
  /** The parsed JSON metadata fields (model, corruption, schedules, dataset, step, rng, ...). */
  fields: Record<string, unknown>;
}

/** Write tensors plus JSON-encodable metadata fields as a softdiff checkpoint. */
export async function writeCheckpoint(path: string, tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>, fields: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, encodeCheckpointMetadata(fields)));
}

export interface ReadCheckpointOptions {
  /** Tensors the model needs, with their shapes: missing or mismatched ones are a CheckpointError. */
  expected?: ExpectedLayout;
  /** Refuse tensors not in `expected`. */
  strict?: boolean;
  /** Metadata fields that must be present. */
  required?: readonly string[];
}

/** Read and validate a checkpoint; a CheckpointError (never partial state) when anything is wrong. */
export async function readCheckpoint(path: string, opts: ReadCheckpointOptions = {}): Promise<Checkpoint> {
  const bytes = await readSafetensorsFile(path);
  const file = decodeSafetensors(bytes, { expected: opts.expected, strict: opts.strict, source: path });
  return { tensors: file.tensors, fields: decodeCheckpointMetadata(file.metadata, opts.required ?? [], path) };
}
