// Entry of the portable benchmark bundle (`npm run bench:bundle`, scripts/bench-bundle.mjs): the
// Node benchmark runner built into one file that runs next to a Node binary and Dawn, with no npm.
// With no benchmark named it runs the set that characterises an adapter.
import { main } from './node.ts';

const DEFAULT = ['unet', 'matmul', 'conv', 'sampler'];
const argv = process.argv.slice(2);
await main(argv.some((a) => !a.startsWith('--')) ? argv : [...DEFAULT, ...argv]);
