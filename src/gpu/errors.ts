// Typed errors. Each one says what went wrong and what to do about it, so that a user who hits one
// does not have to read the engine's source.

export class EngineError extends Error {
  /** What the user can do about it. */
  readonly hint: string;
  constructor(message: string, hint = '') {
    super(hint ? `${message}\n  -> ${hint}` : message);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** No WebGPU adapter: no driver, or WebGPU disabled in the browser. */
export class NoAdapterError extends EngineError {
  constructor(where: 'browser' | 'node', detail = '') {
    super(
      `No WebGPU adapter is available${detail ? ` (${detail})` : ''}.`,
      where === 'browser'
        ? 'Use a browser with WebGPU (Chrome/Edge 113+, Safari 26+, Firefox 141+); on Linux start Chromium with ' +
            '--enable-unsafe-webgpu, and serve the page from https:// or http://127.0.0.1 (a secure context).'
        : 'Install a GPU driver with Vulkan (or Metal/D3D12). On a CPU-only Linux machine install Mesa\'s ' +
            'lavapipe 24 or newer (Debian bookworm: `apt-get install -t bookworm-backports mesa-vulkan-drivers ' +
            'libvulkan1`, or run `npm run setup`).',
    );
  }
}

/** A tensor has the wrong shape for an operation. */
export class ShapeError extends EngineError {
  constructor(what: string, expected: readonly number[] | string, got: readonly number[] | string) {
    const fmt = (s: readonly number[] | string) => (typeof s === 'string' ? s : `[${s.join(', ')}]`);
    super(`Shape mismatch for ${what}: expected ${fmt(expected)}, got ${fmt(got)}.`);
  }
}

/** A device limit would be exceeded. */
export class LimitError extends EngineError {
  constructor(limit: string, needed: number, available: number, setting: string) {
    super(`${limit} exceeded: needs ${needed}, the adapter allows ${available}.`, `Lower ${setting}.`);
  }
}

/** A value that must be finite is not (input data, a schedule, a loss). */
export class NonFiniteError extends EngineError {}

/** A value is out of its valid range, or an option is unknown. */
export class ValueError extends EngineError {}

/** The GPU device was lost (driver reset, destroy(), out of memory). */
export class DeviceLostError extends EngineError {
  constructor(reason: string, message: string) {
    super(`The GPU device was lost (${reason}): ${message}`, 'Create a new engine; work in flight is gone.');
  }
}

/** WGSL failed to compile or a pipeline failed to build. */
export class ShaderError extends EngineError {}

/** A checkpoint file is truncated, corrupted or does not match the model. */
export class CheckpointError extends EngineError {}
