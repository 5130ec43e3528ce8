// The shipped classifier weights in Node: assets/mnist-classifier.safetensors of the installed package
// (found from this module's location: dist/ in the package, src/node/ in a checkout), or a path given
// by the user. The browser fetches the same file (the package exports ./assets/*).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../gpu/errors.ts';
import { decodeClassifierWeights, type ClassifierWeights } from '../eval/classifier-weights.ts';

export const CLASSIFIER_ASSET = 'assets/mnist-classifier.safetensors';

/** Path of the shipped weights: the nearest `assets/mnist-classifier.safetensors` above this module. */
export function shippedClassifierPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    const candidate = join(dir, CLASSIFIER_ASSET);
    if (existsSync(candidate)) return candidate;
    dir = resolve(dir, '..');
  }
  throw new EngineError(`The shipped classifier weights (${CLASSIFIER_ASSET}) were not found next to the softdiff package.`, 'Reinstall softdiff, or pass --classifier <file> (make one with `softdiff classifier`).');
}

/** Read and validate classifier weights (default: the shipped ones). */
export async function readClassifierWeights(path = shippedClassifierPath()): Promise<ClassifierWeights & { path: string }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new EngineError(`Cannot read the classifier weights ${path}: ${(e as Error).message}`, 'Check the path given to --classifier.');
  }
  return { ...decodeClassifierWeights(bytes, path), path };
}
