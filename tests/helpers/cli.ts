// Running the CLI in-process for tests: main() with captured output, and the tiny training flags
// (8x8 blobs, width 4, batch 2) that make a training step take milliseconds on lavapipe.
import { main } from '../../src/cli/main.ts';

export const TINY_MODEL = JSON.stringify({ baseChannels: 4, channelMults: [1, 2], groups: 2, timeFeatures: 8, timeEmbedDim: 8 });
export const TINY_ARGS = ['--size', '8', '--model', TINY_MODEL, '--batch', '2', '--sample-count', '4', '--sample-steps', '3', '--log-every', '2', '--progress', 'off'];
/** A tiny synthetic run: 12 blobs and the tiny model, no previews. */
export const TINY_BLOBS = ['--data', 'blobs', '--length', '12', ...TINY_ARGS, '--sample-every', '0'];

export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

/** Poll `ready` every 20 ms until it holds (or `ms` pass: then throw). */
export async function waitFor(ready: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
