// float64 reference of the U-Net phi(x, t), composed from the per-layer references, reading the same
// parameter names as src/nn (so a flat parameter array can be shared through the layout). Written
// independently of src/nn's module classes: it is the specification the GPU network is checked against.
import type { UNetConfig } from '../../src/nn/config.ts';
import { conv2dRef } from './conv2d.ts';
import { groupNormRef } from './groupnorm.ts';
import { siluRef } from './elementwise.ts';
import { addChannelBiasRef, concatChannelsRef } from './channels.ts';
import { linearRef } from './linear.ts';
import { upsample2xRef } from './upsample.ts';
import { timeEmbeddingRef } from './timeembed.ts';
import { attentionRef } from './attention.ts';

export type ParamLookup = (name: string) => Float64Array;

/** A [n, c, h, w] activation. */
interface Act {
  data: Float64Array;
  n: number;
  c: number;
  h: number;
  w: number;
}

function conv(p: ParamLookup, name: string, x: Act, cout: number, k: 1 | 3, stride: 1 | 2 = 1): Act {
  const s = { n: x.n, cin: x.c, h: x.h, w: x.w, cout, k, stride, pad: k === 3 ? 1 : 0 };
  const ho = Math.floor((x.h + 2 * s.pad - k) / stride) + 1;
  const wo = Math.floor((x.w + 2 * s.pad - k) / stride) + 1;
  return { data: conv2dRef(x.data, p(`${name}.weight`), p(`${name}.bias`), s), n: x.n, c: cout, h: ho, w: wo };
}

function gnSilu(p: ParamLookup, name: string, x: Act, groups: number): Act {
  const y = groupNormRef(x.data, p(`${name}.weight`), p(`${name}.bias`), { n: x.n, c: x.c, hw: x.h * x.w, groups, eps: 1e-5, silu: true }).y;
  return { ...x, data: y };
}

function concat(a: Act, b: Act): Act {
  const data = concatChannelsRef(a.data, b.data, { n: a.n, ca: a.c, cb: b.c, hw: a.h * a.w });
  return { data, n: a.n, c: a.c + b.c, h: a.h, w: a.w };
}

function resBlock(p: ParamLookup, name: string, x: Act, tembAct: Float64Array, temb: number, cout: number, groups: number): Act {
  let h = conv(p, `${name}.conv1`, gnSilu(p, `${name}.norm1`, x, groups), cout, 3);
  const bias = linearRef(tembAct, p(`${name}.temb.weight`), p(`${name}.temb.bias`), { n: x.n, in: temb, out: cout });
  const biased = addChannelBiasRef(h.data, bias, { n: x.n, c: cout, hw: h.h * h.w });
  h = conv(p, `${name}.conv2`, gnSilu(p, `${name}.norm2`, { ...h, data: biased }, groups), cout, 3);
  const skip = x.c === cout ? x.data : conv(p, `${name}.skip`, x, cout, 1).data;
  return { ...h, data: h.data.map((v, i) => v + skip[i]!) };
}

function gn(p: ParamLookup, name: string, x: Act, groups: number): Act {
  return { ...x, data: groupNormRef(x.data, p(`${name}.weight`), p(`${name}.bias`), { n: x.n, c: x.c, hw: x.h * x.w, groups, eps: 1e-5, silu: false }).y };
}

/** x + Conv1x1(attention(split(Conv1x1(GroupNorm(x))))), q, k, v = channel thirds of the projection. */
function attentionBlock(p: ParamLookup, name: string, x: Act, groups: number, heads: number): Act {
  const qkv = conv(p, `${name}.qkv`, gn(p, `${name}.norm`, x, groups), 3 * x.c, 1);
  const L = x.h * x.w;
  const part = (k: number) => {
    const out = new Float64Array(x.n * x.c * L);
    for (let b = 0; b < x.n; b++) out.set(qkv.data.subarray((b * 3 + k) * x.c * L, (b * 3 + k + 1) * x.c * L), b * x.c * L);
    return out;
  };
  const { o } = attentionRef(part(0), part(1), part(2), { n: x.n, c: x.c, L, heads });
  const proj = conv(p, `${name}.proj`, { ...x, data: o }, x.c, 1);
  return { ...x, data: proj.data.map((v, i) => v + x.data[i]!) };
}

/** phi(x, t) for a batch: x [n, C, S, S], t [n]. */
export function unetRef(cfg: UNetConfig, p: ParamLookup, x: Float64Array, t: Float64Array): Float64Array {
  const n = t.length;
  const width = (i: number) => cfg.baseChannels * cfg.channelMults[i]!;
  const L = cfg.channelMults.length;
  const feats = timeEmbeddingRef(t, cfg.timeFeatures, 1000);
  const a0 = siluRef(linearRef(feats, p('time.dense0.weight'), p('time.dense0.bias'), { n, in: cfg.timeFeatures, out: cfg.timeEmbedDim }));
  const tembAct = siluRef(linearRef(a0, p('time.dense1.weight'), p('time.dense1.bias'), { n, in: cfg.timeEmbedDim, out: cfg.timeEmbedDim }));
  const rb = (name: string, h: Act, cout: number) => resBlock(p, name, h, tembAct, cfg.timeEmbedDim, cout, cfg.groups);
  const attn = (name: string, h: Act) => (cfg.attentionResolutions.includes(h.h) ? attentionBlock(p, name, h, cfg.groups, cfg.attentionHeads) : h);

  let h = conv(p, 'conv_in', { data: x, n, c: cfg.inChannels, h: cfg.imageSize, w: cfg.imageSize }, width(0), 3);
  const skips: Act[] = [];
  for (let i = 0; i < L; i++) {
    for (let j = 0; j < cfg.numResBlocks; j++) skips.push((h = attn(`down.${i}.attn.${j}`, rb(`down.${i}.res.${j}`, h, width(i)))));
    if (i < L - 1) h = conv(p, `down.${i}.downsample`, h, width(i), 3, 2);
  }
  h = rb('mid.res.0', h, width(L - 1));
  if (cfg.midAttention) h = rb('mid.res.1', attentionBlock(p, 'mid.attn.0', h, cfg.groups, cfg.attentionHeads), width(L - 1));
  for (let i = L - 1; i >= 0; i--) {
    for (let j = 0; j < cfg.numResBlocks; j++) h = attn(`up.${i}.attn.${j}`, rb(`up.${i}.res.${j}`, concat(h, skips.pop()!), width(i)));
    if (i > 0) {
      const up = upsample2xRef(h.data, { n, c: h.c, h: h.h, w: h.w });
      h = conv(p, `up.${i}.upsample.conv`, { ...h, data: up, h: 2 * h.h, w: 2 * h.w }, width(i), 3);
    }
  }
  return conv(p, 'out.conv', gnSilu(p, 'out.norm', h, cfg.groups), cfg.inChannels, 3).data;
}
