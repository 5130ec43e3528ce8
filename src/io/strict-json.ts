// JSON.parse keeps the last of two equal keys in one object without a word, so a file whose header
// names a tensor twice (or a metadata field twice) would load whichever copy came last: two swapped
// tensors would load silently. parseJsonStrict parses as JSON.parse does and then refuses any object
// that repeats a key (comparing the decoded keys, so "a" and "\u0061" are the same key). One linear
// pass over the text. Browser-safe.

/** JSON.parse, but a SyntaxError naming the key and where it is when an object repeats a key. */
export function parseJsonStrict(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const dup = firstDuplicateKey(text);
  if (dup) throw new SyntaxError(`the key ${JSON.stringify(dup.key)} appears twice in ${dup.path}`);
  return value;
}

/**
 * The first repeated key of a valid JSON text, with a readable path of the object holding it
 * ('the top-level object', 'object "__metadata__"'), or null. The text must already parse.
 */
export function firstDuplicateKey(text: string): { key: string; path: string } | null {
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
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        if (top.keys.has(key)) return { key, path: top.name === null ? (stack.length === 1 ? 'the top-level object' : 'an object') : `object ${JSON.stringify(top.name)}` };
        top.keys.add(key);
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
