// float64 reference of the feature classifier, composed from the per-layer references and reading the
// same parameter names as src/eval/classifier.ts: blocks of conv 3x3 (stride s) + GroupNorm + SiLU
// (the last block SiLU only), global average pooling (the features), linear (the logits).
import type { ClassifierConfig } from '../../src/eval/classifier.ts';
import { conv2dRef } from './conv2d.ts';
import { groupNormRef } from './groupnorm.ts';
import { avgPoolRef } from './avgpool.ts';
import { linearRef } from './linear.ts';
import { siluRef } from './elementwise.ts';

export type ParamLookup = (name: string) => Float64Array;

export function classifierRef(cfg: ClassifierConfig, p: ParamLookup, x: Float64Array, n: number): { features: Float64Array; logits: Float64Array } {
  let data = x;
  let c = cfg.inChannels;
  let size = cfg.imageSize;
  cfg.widths.forEach((cout, i) => {
    const stride = cfg.strides[i]!;
    data = conv2dRef(data, p(`block.${i}.conv.weight`), p(`block.${i}.conv.bias`), { n, cin: c, h: size, w: size, cout, k: 3, stride, pad: 1 });
    size = Math.floor((size - 1) / stride) + 1;
    c = cout;
    if (i < cfg.widths.length - 1) data = groupNormRef(data, p(`block.${i}.norm.weight`), p(`block.${i}.norm.bias`), { n, c, hw: size * size, groups: cfg.groups, eps: 1e-5, silu: true }).y;
    else data = siluRef(data);
  });
  const features = avgPoolRef(data, n * c, size * size);
  const logits = linearRef(features, p('head.weight'), p('head.bias'), { n, in: c, out: cfg.classes });
  return { features, logits };
}
