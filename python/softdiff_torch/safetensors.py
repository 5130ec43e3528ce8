"""The safetensors format, read and written with numpy alone (src/io/safetensors.ts):
    8 bytes little-endian u64 N; N bytes of UTF-8 JSON {name: {dtype, shape, data_offsets}, ...,
    "__metadata__": {str: str}} padded with spaces so the data starts 8-byte aligned; then the raw
    little-endian tensors, tiling the data section exactly.
Written like the engine writes it: larger dtypes first, then by name. Reading validates the whole
header (offsets in range, no overlaps or holes) before returning anything."""
import json
import os

import numpy as np

DTYPES = {'F64': np.float64, 'F32': np.float32, 'F16': np.float16, 'I64': np.int64, 'U64': np.uint64, 'I32': np.int32,
          'U32': np.uint32, 'I16': np.int16, 'U16': np.uint16, 'I8': np.int8, 'U8': np.uint8, 'BOOL': np.bool_}
_NAMES = {np.dtype(v): k for k, v in DTYPES.items()}
MAX_HEADER_BYTES = 100 * 1024 * 1024


class CheckpointError(ValueError):
    """A file that is not what it should be; the message names the file and what is wrong."""


def encode(tensors, metadata=None):
    """bytes of a safetensors file: tensors {name: numpy array}, metadata {str: str}."""
    items = []
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        if a.dtype not in _NAMES:
            raise CheckpointError(f'Tensor {name!r}: dtype {a.dtype} cannot be stored.')
        items.append((name, _NAMES[a.dtype], a))
    items.sort(key=lambda it: (-np.dtype(DTYPES[it[1]]).itemsize, it[0]))
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(v, str):
                raise CheckpointError(f'Checkpoint metadata {k!r} must be a string, got {type(v).__name__}.')
        header['__metadata__'] = dict(metadata)
    offset = 0
    for name, dt, a in items:
        header[name] = {'dtype': dt, 'shape': list(a.shape), 'data_offsets': [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((-(8 + len(text))) % 8)
    parts = [len(text).to_bytes(8, 'little'), text] + [a.astype(a.dtype.newbyteorder('<'), copy=False).tobytes() for _, _, a in items]
    return b''.join(parts)


def decode(data, source='checkpoint'):
    """(tensors {name: numpy array}, metadata {str: str}); CheckpointError when anything is wrong."""
    def fail(what):
        raise CheckpointError(f'{source} is not a valid safetensors file: {what}. The file is truncated or corrupted; use an earlier checkpoint or retrain.')
    if len(data) < 8:
        fail(f'it has {len(data)} bytes, fewer than the 8-byte header length')
    n = int.from_bytes(data[:8], 'little')
    if n > len(data) - 8:
        fail(f'the header claims {n} bytes but only {len(data) - 8} follow')
    if n > MAX_HEADER_BYTES:
        fail(f'the header claims {n} bytes (more than {MAX_HEADER_BYTES})')
    try:
        header = json.loads(bytes(data[8:8 + n]).decode('utf-8'))
    except (UnicodeDecodeError, ValueError) as e:
        fail(f'its header is not valid UTF-8 JSON ({e})')
    if not isinstance(header, dict):
        fail('its header is not a JSON object')
    start, size = 8 + n, len(data) - 8 - n
    metadata, specs = {}, []
    for name, t in header.items():
        if name == '__metadata__':
            if not isinstance(t, dict) or not all(isinstance(v, str) for v in t.values()):
                fail('__metadata__ is not an object of strings')
            metadata = dict(t)
            continue
        if not isinstance(t, dict) or t.get('dtype') not in DTYPES:
            fail(f"tensor {name!r} has an unknown dtype {t.get('dtype') if isinstance(t, dict) else t!r}")
        shape, off = t.get('shape'), t.get('data_offsets')
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            fail(f'tensor {name!r} has an invalid shape {shape!r}')
        if not isinstance(off, list) or len(off) != 2 or not all(isinstance(d, int) and d >= 0 for d in off) or off[0] > off[1] or off[1] > size:
            fail(f'tensor {name!r} has invalid data_offsets {off!r}')
        want = int(np.prod(shape, dtype=np.int64)) * np.dtype(DTYPES[t['dtype']]).itemsize
        if off[1] - off[0] != want:
            fail(f"tensor {name!r} has shape {shape} {t['dtype']} ({want} bytes) but spans {off[1] - off[0]} bytes")
        specs.append((name, t['dtype'], shape, off[0], off[1]))
    at = 0
    for name, _, _, b, e in sorted(specs, key=lambda s: (s[3], s[4])):
        if b != at:
            fail(f'tensor {name!r} (bytes {b}..{e}) overlaps another tensor' if b < at else f'bytes {at}..{b} of the data belong to no tensor')
        at = e
    if at != size:
        fail(f'the data section has {size} bytes but the tensors cover {at}')
    buf = memoryview(data)
    tensors = {name: np.frombuffer(buf[start + b:start + e], dtype=np.dtype(DTYPES[dt]).newbyteorder('<')).astype(DTYPES[dt]).reshape(shape)
               for name, dt, shape, b, e in specs}
    return tensors, metadata


def read_file(path):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise CheckpointError(f'Cannot read checkpoint {path}: {e.strerror}. Check the path.') from None
    return decode(data, str(path))


def write_file_atomic(path, data):
    """Replace `path` with `data` atomically (temp file in the same folder, fsync, rename)."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f'.{os.path.basename(path)}.{os.getpid()}.tmp')
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise CheckpointError(f'Could not write {path}: {e.strerror}. Check that the folder exists, is writable and has free space; the previous file is unchanged.') from None
