#!/usr/bin/env python3
"""PyTorch-eager reference for `npm run bench -- unet`: one training step of the same U-Net (docs/unet.md,
src/nn/unet-graph.ts) on the same batch shape, forward + MSE loss + backward + AdamW (lr 2e-4), timed
the same way (median of --steps timed steps after --warmup, each waited for). Prints one JSON line in
the benchmark contract (bench/types.ts), so the engine's and PyTorch's figures sit side by side:

    python3 bench/reference/unet_step.py --preset bench --batch 8        # CUDA when available, else CPU
    python3 bench/reference/unet_step.py --preset mnist --batch 16 --device cpu --threads 2

The network is written out here (a few dozen lines) rather than imported, so the script runs from the
benchmark bundle with nothing but torch installed; its parameter count is checked against the
engine's for the preset, which pins the architecture (not the initial values: timing does not
depend on them). Works with torch >= 1.13.
"""
import argparse
import json
import math
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

# src/nn/config.ts presets and the engine's parameter counts for them (bench/unet.bench.ts reports them).
_BENCH = dict(inChannels=3, imageSize=32, baseChannels=32, channelMults=[1, 2, 2], numResBlocks=1, attentionResolutions=[],
              midAttention=False, attentionHeads=1, groups=8, timeFeatures=64, timeEmbedDim=128)
PRESETS = {
    'bench': _BENCH,
    'mnist': {**_BENCH, 'inChannels': 1, 'baseChannels': 16, 'timeFeatures': 32, 'timeEmbedDim': 64},
    'rgb32': {**_BENCH, 'baseChannels': 64, 'numResBlocks': 2, 'attentionResolutions': [16], 'midAttention': True,
              'groups': 32, 'timeEmbedDim': 256},
    'rgb64': {**_BENCH, 'imageSize': 64, 'baseChannels': 64, 'channelMults': [1, 2, 2, 4], 'numResBlocks': 2,
              'attentionResolutions': [16], 'midAttention': True, 'groups': 32, 'timeEmbedDim': 256},
}
ENGINE_PARAMS = {'bench': 699811, 'mnist': 175761}


class ResBlock(nn.Module):
    def __init__(self, cin, cout, tdim, groups):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(groups, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(tdim, cout)
        self.norm2, self.conv2 = nn.GroupNorm(groups, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, a):
        h = self.conv1(F.silu(self.norm1(x))) + self.temb(a)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (x if self.skip is None else self.skip(x))


class Attention(nn.Module):
    def __init__(self, c, groups, heads):
        super().__init__()
        self.heads, self.norm = heads, nn.GroupNorm(groups, c)
        self.qkv, self.proj = nn.Conv2d(c, 3 * c, 1), nn.Conv2d(c, c, 1)

    def forward(self, x):
        n, c, hh, ww = x.shape
        d = c // self.heads
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, self.heads, d, hh * ww).unbind(1)
        p = torch.softmax(q.transpose(-1, -2) @ k / math.sqrt(d), dim=-1)  # [n, heads, L, L]
        return x + self.proj((v @ p.transpose(-1, -2)).reshape(n, c, hh, ww))


class UNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        width = [cfg['baseChannels'] * m for m in cfg['channelMults']]
        levels, g, tdim, heads = len(width), cfg['groups'], cfg['timeEmbedDim'], cfg['attentionHeads']
        self.features = cfg['timeFeatures']
        self.dense0, self.dense1 = nn.Linear(self.features, tdim), nn.Linear(tdim, tdim)
        self.conv_in = nn.Conv2d(cfg['inChannels'], width[0], 3, padding=1)
        self.down, skips, ch = nn.ModuleList(), [], width[0]
        for i in range(levels):
            size = cfg['imageSize'] >> i
            for _ in range(cfg['numResBlocks']):
                attn = Attention(width[i], g, heads) if size in cfg['attentionResolutions'] else None
                self.down.append(nn.ModuleList([ResBlock(ch, width[i], tdim, g), attn]))
                ch = width[i]
                skips.append(ch)
            if i < levels - 1:
                self.down.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
        mid = [ResBlock(ch, ch, tdim, g)]
        if cfg['midAttention']:
            mid += [Attention(ch, g, heads), ResBlock(ch, ch, tdim, g)]
        self.mid = nn.ModuleList(mid)
        self.up = nn.ModuleList()
        for i in reversed(range(levels)):
            size = cfg['imageSize'] >> i
            for _ in range(cfg['numResBlocks']):
                attn = Attention(width[i], g, heads) if size in cfg['attentionResolutions'] else None
                self.up.append(nn.ModuleList([ResBlock(ch + skips.pop(), width[i], tdim, g), attn]))
                ch = width[i]
            if i > 0:
                self.up.append(nn.Conv2d(ch, width[i], 3, padding=1))
                ch = width[i]
        self.out_norm, self.out_conv = nn.GroupNorm(g, ch), nn.Conv2d(ch, cfg['inChannels'], 3, padding=1)

    def forward(self, x, t):
        half = self.features // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=x.device) / half)
        arg = 1000.0 * t[:, None] * freqs[None]
        a = F.silu(self.dense1(F.silu(self.dense0(torch.cat([arg.sin(), arg.cos()], 1)))))
        h, skips = self.conv_in(x), []
        for m in self.down:
            if isinstance(m, nn.Conv2d):
                h = m(h)
            else:
                h = m[0](h, a)
                h = h if m[1] is None else m[1](h)
                skips.append(h)
        for m in self.mid:
            h = m(h, a) if isinstance(m, ResBlock) else m(h)
        for m in self.up:
            if isinstance(m, nn.Conv2d):
                h = m(F.interpolate(h, scale_factor=2, mode='nearest'))
            else:
                h = m[0](torch.cat([h, skips.pop()], 1), a)
                h = h if m[1] is None else m[1](h)
        return self.out_conv(F.silu(self.out_norm(h)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--preset', default='bench', choices=sorted(PRESETS))
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--threads', type=int, default=0, help='CPU threads (default: torch\'s own choice)')
    args = ap.parse_args()
    if not 1 <= args.batch <= 4096 or not 1 <= args.steps <= 100000 or not 0 <= args.warmup <= 1000:
        ap.error('--batch must be in [1, 4096], --steps in [1, 100000], --warmup in [0, 1000]')
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg, dev = PRESETS[args.preset], torch.device(args.device)
    torch.manual_seed(1)
    net = UNet(cfg).to(dev)
    params = sum(p.numel() for p in net.parameters())
    if args.preset in ENGINE_PARAMS and params != ENGINE_PARAMS[args.preset]:
        raise SystemExit(f'architecture differs from the engine: {params} parameters, engine {ENGINE_PARAMS[args.preset]}')
    c, s = cfg['inChannels'], cfg['imageSize']
    x = torch.rand(args.batch, c, s, s, device=dev) * 2 - 1
    target = torch.rand(args.batch, c, s, s, device=dev) * 2 - 1
    t = (torch.arange(args.batch, device=dev) + 0.5) / args.batch
    opt = torch.optim.AdamW(net.parameters(), lr=2e-4)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(net(x, t), target)
        loss.backward()
        opt.step()
        return loss

    first = step().item()
    for _ in range(args.warmup):
        step()
    sync()
    times, cpu0 = [], time.process_time()
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - t0) * 1000)
    cpu_ms = (time.process_time() - cpu0) * 1000 / args.steps
    last = step().item()
    # FLOPs of the conv/linear arithmetic as the engine counts them (2 per MAC; backward 2x forward,
    # minus the input gradient of conv_in and the first dense layer), for a GFLOP/s figure on the same basis.
    macs, first_layers = 0, 0
    hooks = []

    def count(mod, inp, out):
        nonlocal macs, first_layers
        if isinstance(mod, nn.Conv2d):
            m = out.numel() * mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1]
        else:
            m = out.numel() * mod.in_features
        macs += m
        if mod is net.conv_in or mod is net.dense0:
            first_layers += m
    for mod in net.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            hooks.append(mod.register_forward_hook(count))
    with torch.no_grad():
        net(x, t)
    for h in hooks:
        h.remove()
    flops = 2 * macs + 4 * macs - 2 * first_layers
    ms = statistics.median(times)
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f'cpu ({torch.get_num_threads()} threads)'
    print(json.dumps({
        'bench': 'unet', 'runtime': 'pytorch-eager', 'adapter': name, 'torch': torch.__version__,
        'shape': {'preset': args.preset, 'batch': args.batch, 'channels': c, 'size': s, 'params': params},
        'variant': 'train-step', 'ms': ms, 'msMin': min(times), 'msMax': max(times), 'cpuMs': cpu_ms,
        'gflops': flops / ms / 1e6, 'gflopPerStep': flops / 1e9, 'loss': {'first': first, 'last': last},
        'load1': round(os.getloadavg()[0], 2),
    }))


if __name__ == '__main__':
    main()
