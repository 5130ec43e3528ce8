// WebGPU's usage bit values from the specification. The core uses these numbers instead of the
// GPUBufferUsage / GPUMapMode globals so that it does not depend on the order in which a runtime
// (Dawn in Node) installs those globals.
export const BufferUsage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  INDIRECT: 0x0100,
  QUERY_RESOLVE: 0x0200,
} as const;
export const MapMode = { READ: 0x0001, WRITE: 0x0002 } as const;
/** The usage of every tensor buffer: bound as storage, copied in and out. */
export const TENSOR_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
