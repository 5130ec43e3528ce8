"""The engine's U-Net phi_theta(x_t, t) as a torch.nn.Module (docs/unet.md), with the engine's
parameter names and PyTorch layouts, so `state_dict()` keys are the names in an engine checkpoint
(conv weight [out, in, kh, kw], linear weight [out, in], GroupNorm weight/bias [C]).

    feat = sinusoid(1000 t); temb = Dense(SiLU(Dense(feat))); a = SiLU(temb)
    h = conv_in(x); down levels (ResBlock [+ attention], keep skip; stride-2 conv but at the bottom)
    mid ResBlock [attention, ResBlock]; up levels (ResBlock(concat(h, skip)) [+ attention]; nearest
    2x upsample + conv but at the top); phi = out.conv(SiLU(out.norm(h)))   (out.conv starts at 0)

The initial weights are the engine's for the same seed (src/nn/plan.ts initialParameters: one
mulberry32 stream over the parameters in forward order, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for conv
and linear weights and biases, GroupNorm 1 and 0, out.conv 0).
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import res_block_plan, unet_config
from .rng import uniform_stream

GROUPNORM_EPS = 1e-5
TIME_SCALE = 1000.0


def _conv(cin, cout, k, stride=1):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)


class ResBlock(nn.Module):
    """h = conv1(SiLU(norm1(x))) + temb(a); h = conv2(SiLU(norm2(h))); out = h + (x or skip(x))."""

    def __init__(self, cin, cout, temb_dim, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=GROUPNORM_EPS)
        self.conv1 = _conv(cin, cout, 3)
        self.temb = nn.Linear(temb_dim, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=GROUPNORM_EPS)
        self.conv2 = _conv(cout, cout, 3)
        self.skip = _conv(cin, cout, 1) if cin != cout else None

    def forward(self, x, a):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(a)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (x if self.skip is None else self.skip(x))

    def engine_order(self):
        names = ['norm1', 'conv1', 'temb', 'norm2', 'conv2'] + (['skip'] if self.skip is not None else [])
        return [(n, getattr(self, n)) for n in names]


class AttentionBlock(nn.Module):
    """qkv = Conv1x1(c -> 3c)(GN(x)) (rows q, k, v); softmax(q^T k / sqrt(c / heads)) v per head; x + proj(o)."""

    def __init__(self, c, groups, heads):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, c, eps=GROUPNORM_EPS)
        self.qkv = _conv(c, 3 * c, 1)
        self.proj = _conv(c, c, 1)

    def forward(self, x):
        n, c, hh, ww = x.shape
        d = c // self.heads
        qkv = self.qkv(self.norm(x)).reshape(n, 3, self.heads, d, hh * ww)
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]  # [n, heads, d, L]; head h = channels h*d .. h*d+d-1
        p = torch.softmax(torch.einsum('nhdi,nhdj->nhij', q, k) / math.sqrt(d), dim=-1)
        o = torch.einsum('nhij,nhdj->nhdi', p, v).reshape(n, c, hh, ww)
        return x + self.proj(o)

    def engine_order(self):
        return [('norm', self.norm), ('qkv', self.qkv), ('proj', self.proj)]


class TimeEmbedding(nn.Module):
    """Sinusoidal features of 1000 t (sines then cosines), Dense, SiLU, Dense, SiLU -> a."""

    def __init__(self, features, dim):
        super().__init__()
        half = features // 2
        # turns[k] = 1000 f_k / (2 pi), rounded once to float32 as the engine's kernel receives it, so
        # the angle is reduced to a fraction of a turn exactly before sin/cos (shaders/timeembed.wgsl).
        turns = np.array([TIME_SCALE * math.exp(-math.log(10000) * k / half) / (2 * math.pi) for k in range(half)], dtype=np.float32)
        self.register_buffer('turns', torch.from_numpy(turns), persistent=False)
        self.dense0 = nn.Linear(features, dim)
        self.dense1 = nn.Linear(dim, dim)

    def features(self, t):
        turn = t.to(self.turns.dtype)[:, None] * self.turns[None, :]
        angle = (2 * math.pi) * (turn - torch.round(turn))
        return torch.cat([torch.sin(angle), torch.cos(angle)], dim=1)

    def forward(self, t):
        return F.silu(self.dense1(F.silu(self.dense0(self.features(t)))))

    def engine_order(self):
        return [('dense0', self.dense0), ('dense1', self.dense1)]


class _Level(nn.Module):
    """One resolution level: `res` blocks, `attn` blocks where attended, and the resampling conv."""


class _Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = _conv(c, c, 3)

    def forward(self, h):
        return self.conv(F.interpolate(h, scale_factor=2, mode='nearest'))


class _Out(nn.Module):
    def __init__(self, c, cout, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, c, eps=GROUPNORM_EPS)
        self.conv = _conv(c, cout, 3)

    def forward(self, h):
        return self.conv(F.silu(self.norm(h)))


class UNet(nn.Module):
    """phi_theta(x_t, t); `denoise(x_t, t)` = phi + x_t = x0_hat (SPEC section 2)."""

    def __init__(self, config, seed=0):
        super().__init__()
        cfg = self.config = unet_config(config)
        L = len(cfg['channelMults'])
        width = lambda i: cfg['baseChannels'] * cfg['channelMults'][i]
        attn_at = lambda i: (cfg['imageSize'] // 2 ** i) in cfg['attentionResolutions']
        g, tdim, nb = cfg['groups'], cfg['timeEmbedDim'], cfg['numResBlocks']
        self.time = TimeEmbedding(cfg['timeFeatures'], tdim)
        self.conv_in = _conv(cfg['inChannels'], width(0), 3)
        self.down = nn.ModuleList()
        ch, skips = width(0), []
        for i in range(L):
            lvl = _Level()
            lvl.res = nn.ModuleList()
            for j in range(nb):
                lvl.res.append(ResBlock(ch, width(i), tdim, g))
                ch = width(i)
                skips.append(ch)
            if attn_at(i):
                lvl.attn = nn.ModuleList([AttentionBlock(ch, g, cfg['attentionHeads']) for _ in range(nb)])
            if i < L - 1:
                lvl.downsample = _conv(ch, ch, 3, stride=2)
            self.down.append(lvl)
        self.mid = _Level()
        self.mid.res = nn.ModuleList([ResBlock(ch, ch, tdim, g)])
        if cfg['midAttention']:
            self.mid.attn = nn.ModuleList([AttentionBlock(ch, g, cfg['attentionHeads'])])
            self.mid.res.append(ResBlock(ch, ch, tdim, g))
        up = [None] * L
        for i in reversed(range(L)):
            lvl = _Level()
            lvl.res = nn.ModuleList()
            for j in range(nb):
                lvl.res.append(ResBlock(ch + skips.pop(), width(i), tdim, g))
                ch = width(i)
            if attn_at(i):
                lvl.attn = nn.ModuleList([AttentionBlock(ch, g, cfg['attentionHeads']) for _ in range(nb)])
            if i > 0:
                lvl.upsample = _Upsample(ch)
            up[i] = lvl
        self.up = nn.ModuleList(up)
        self.out = _Out(width(0), cfg['inChannels'], g)
        self.reset_parameters(seed)

    # -- the engine's parameter order and initialisation ---------------------------------------------

    def engine_layers(self):
        """(prefix, layer) for every Conv2d / Linear / GroupNorm in the engine's forward (= file) order."""
        cfg = self.config
        L = len(cfg['channelMults'])
        out = [(f'time.{n}', m) for n, m in self.time.engine_order()] + [('conv_in', self.conv_in)]

        def block(prefix, b):
            return [(f'{prefix}.{n}', m) for n, m in b.engine_order()]
        for i in range(L):
            lvl = self.down[i]
            for j in range(cfg['numResBlocks']):
                out += block(f'down.{i}.res.{j}', lvl.res[j])
                if hasattr(lvl, 'attn'):
                    out += block(f'down.{i}.attn.{j}', lvl.attn[j])
            if hasattr(lvl, 'downsample'):
                out.append((f'down.{i}.downsample', lvl.downsample))
        out += block('mid.res.0', self.mid.res[0])
        if hasattr(self.mid, 'attn'):
            out += block('mid.attn.0', self.mid.attn[0]) + block('mid.res.1', self.mid.res[1])
        for i in reversed(range(L)):
            lvl = self.up[i]
            for j in range(cfg['numResBlocks']):
                out += block(f'up.{i}.res.{j}', lvl.res[j])
                if hasattr(lvl, 'attn'):
                    out += block(f'up.{i}.attn.{j}', lvl.attn[j])
            if hasattr(lvl, 'upsample'):
                out.append((f'up.{i}.upsample.conv', lvl.upsample.conv))
        return out + [('out.norm', self.out.norm), ('out.conv', self.out.conv)]

    def engine_parameter_names(self):
        """Every parameter name in the engine's order (docs/unet.md: the order of the file)."""
        return [f'{p}.{k}' for p, _ in self.engine_layers() for k in ('weight', 'bias')]

    @torch.no_grad()
    def reset_parameters(self, seed=0):
        """The engine's initial weights for `seed` (bit-identical to UNet.create(..., { seed }))."""
        drawn = 0
        for prefix, layer in self.engine_layers():
            for p in (layer.weight, layer.bias):
                if isinstance(layer, nn.GroupNorm):
                    p.fill_(1.0 if p is layer.weight else 0.0)
                elif prefix == 'out.conv':
                    p.zero_()
                else:
                    bound = 1.0 / math.sqrt(float(np.prod(layer.weight.shape[1:])))
                    u = uniform_stream(seed, p.numel(), drawn)
                    drawn += p.numel()
                    p.copy_(torch.from_numpy(((2 * u - 1) * bound).astype(np.float32)).reshape(p.shape))

    # -- forward ---------------------------------------------------------------------------------------

    def forward(self, x, t):
        """phi [n, C, S, S] for x_t [n, C, S, S] and t [n] (or a levels tensor [n, 4], t = column 0)."""
        if t.dim() == 2:
            t = t[:, 0]
        a = self.time(t)
        h = self.conv_in(x)
        skips = []
        for lvl in self.down:
            for j, rb in enumerate(lvl.res):
                h = rb(h, a)
                if hasattr(lvl, 'attn'):
                    h = lvl.attn[j](h)
                skips.append(h)
            if hasattr(lvl, 'downsample'):
                h = lvl.downsample(h)
        h = self.mid.res[0](h, a)
        if hasattr(self.mid, 'attn'):
            h = self.mid.res[1](self.mid.attn[0](h), a)
        for lvl in reversed(self.up):
            for j, rb in enumerate(lvl.res):
                h = rb(torch.cat([h, skips.pop()], dim=1), a)
                if hasattr(lvl, 'attn'):
                    h = lvl.attn[j](h)
            if hasattr(lvl, 'upsample'):
                h = lvl.upsample(h)
        return self.out(h)

    def denoise(self, x, t):
        """x0_hat = phi(x_t, t) + x_t."""
        return self(x, t) + x


def parameter_shapes(config):
    """{name: shape} of every parameter in the engine's order, from the config alone (nothing is
    allocated: a checkpoint's config is checked against its tensors before a module is built)."""
    cfg = unet_config(config)
    L = len(cfg['channelMults'])
    width = lambda i: cfg['baseChannels'] * cfg['channelMults'][i]
    attn_at = lambda size: size in cfg['attentionResolutions']
    out = {}

    def conv(name, cin, cout, k):
        out[f'{name}.weight'], out[f'{name}.bias'] = (cout, cin, k, k), (cout,)

    def lin(name, cin, cout):
        out[f'{name}.weight'], out[f'{name}.bias'] = (cout, cin), (cout,)

    def norm(name, c):
        out[f'{name}.weight'], out[f'{name}.bias'] = (c,), (c,)

    def res(name, cin, cout):
        norm(f'{name}.norm1', cin)
        conv(f'{name}.conv1', cin, cout, 3)
        lin(f'{name}.temb', cfg['timeEmbedDim'], cout)
        norm(f'{name}.norm2', cout)
        conv(f'{name}.conv2', cout, cout, 3)
        if cin != cout:
            conv(f'{name}.skip', cin, cout, 1)

    def attn(name, c):
        norm(f'{name}.norm', c)
        conv(f'{name}.qkv', c, 3 * c, 1)
        conv(f'{name}.proj', c, c, 1)
    lin('time.dense0', cfg['timeFeatures'], cfg['timeEmbedDim'])
    lin('time.dense1', cfg['timeEmbedDim'], cfg['timeEmbedDim'])
    conv('conv_in', cfg['inChannels'], width(0), 3)
    blocks = {name: (cin, cout, size) for name, cin, cout, size in res_block_plan(cfg)}
    for i in range(L):
        for j in range(cfg['numResBlocks']):
            cin, cout, size = blocks[f'down.{i}.res.{j}']
            res(f'down.{i}.res.{j}', cin, cout)
            if attn_at(size):
                attn(f'down.{i}.attn.{j}', cout)
        if i < L - 1:
            conv(f'down.{i}.downsample', width(i), width(i), 3)
    res('mid.res.0', width(L - 1), width(L - 1))
    if cfg['midAttention']:
        attn('mid.attn.0', width(L - 1))
        res('mid.res.1', width(L - 1), width(L - 1))
    for i in reversed(range(L)):
        for j in range(cfg['numResBlocks']):
            cin, cout, size = blocks[f'up.{i}.res.{j}']
            res(f'up.{i}.res.{j}', cin, cout)
            if attn_at(size):
                attn(f'up.{i}.attn.{j}', cout)
        if i > 0:
            conv(f'up.{i}.upsample.conv', width(i), width(i), 3)
    norm('out.norm', width(0))
    conv('out.conv', width(0), cfg['inChannels'], 3)
    return out
