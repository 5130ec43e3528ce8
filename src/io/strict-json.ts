// JSON.parse keeps the last of two equal keys in one object without a word, so a file whose header
// names a tensor twice (or a metadata field twice) would load whichever copy came last: two swapped
// tensors would load silently. parseJsonStrict refuses any object that repeats a key (comparing the
// decoded keys, so "a" and "\u0061" are the same key) and, optionally, a top-level object with more
// keys than a bound, before JSON.parse builds anything: one linear pass over the text that stops at
// the first problem. Browser-safe.

/** A JSON text that repeats a key in one object, or has more top-level keys than allowed. */
export class JsonShapeError extends SyntaxError {}

export interface StrictJsonOptions {
  /** Refuse a top-level object with more keys than this (checked while scanning, before parsing). */
  maxTopLevelKeys?: number;
}

/** JSON.parse, but a JsonShapeError naming the key and where it is when an object repeats a key. */
export function parseJsonStrict(text: string, opts: StrictJsonOptions = {}): unknown {
  const max = opts.maxTopLevelKeys ?? Infinity;
  const r = scan(text, max);
  if (r && 'tooMany' in r) throw new JsonShapeError(`the top-level object has more than ${max} keys`); // refused unparsed
  const value: unknown = JSON.parse(text); // a syntax error is reported as such, before a repeated key
  if (r) throw new JsonShapeError(`the key ${JSON.stringify(r.key)} appears twice in ${r.path}`);
  return value;
}

/**
 * The first repeated key of a valid JSON text, with a readable path of the object holding it
 * ('the top-level object', 'object "__metadata__"'), or null.
 */
export function firstDuplicateKey(text: string): { key: string; path: string } | null {
  const r = scan(text, Infinity);
  return r && 'key' in r ? r : null;
}

function scan(text: string, maxTopLevelKeys: number): { key: string; path: string } | { tooMany: true } | null {
  // One frame per open container: the keys seen (null for an array) and the key the container sits
  // under in its parent (for the message).
  const stack: { keys: Set<string> | null; name: string | null }[] = [];
  let expectKey = false;
  let lastKey: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        let key: string;
        try {
          key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        } catch {
          return null; // not valid JSON: JSON.parse reports it
        }
        if (top.keys.has(key)) return { key, path: top.name === null ? (stack.length === 1 ? 'the top-level object' : 'an object') : `object ${JSON.stringify(top.name)}` };
        top.keys.add(key);
        if (stack.length === 1 && top.keys.size > maxTopLevelKeys) return { tooMany: true };
        lastKey = key;
        expectKey = false;
      }
    } else if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), name: stack[stack.length - 1]?.keys ? lastKey : null });
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push({ keys: null, name: null });
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = !!stack[stack.length - 1]?.keys;
    }
  }
  return null;
}
