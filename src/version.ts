// The release of this package (package.json's version; tests/package/version.test.ts keeps the two
// equal). Written into every checkpoint, so that a file refused by an older release can name the
// release that reads it.
export const VERSION = '0.1.0';
