#!/usr/bin/env python3
"""PyTorch-eager reference for `npm run bench -- unet`: one training step of the same U-Net (the project's
PyTorch model, python/softdiff_torch, whose forward matches the engine's) on the same batch shape,
forward + MSE loss + backward + AdamW (lr 2e-4), timed the same way (median of --steps timed steps
after --warmup, each waited for). Prints one JSON line in the benchmark contract (bench/types.ts), so
the engine's and PyTorch's figures sit side by side:

    python3 bench/reference/unet_step.py --preset bench --batch 8        # CUDA when available, else CPU
    python3 bench/reference/unet_step.py --preset mnist --batch 16 --device cpu --threads 2

softdiff_torch is found next to this script (the benchmark bundle puts it there) or in the
repository's python/ folder. Needs torch (>= 1.13) and numpy.
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
for path in (HERE, os.path.join(HERE, '..', '..', 'python')):
    if os.path.isdir(os.path.join(path, 'softdiff_torch')):
        sys.path.insert(0, path)
        break

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from softdiff_torch import UNet, unet_config  # noqa: E402

# The engine's parameter counts for the presets (bench/unet.bench.ts reports them): a check that
# this is the same network.
ENGINE_PARAMS = {'bench': 699811, 'mnist': 175761}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--preset', default='bench', choices=['bench', 'mnist', 'rgb32', 'rgb64'])
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
    cfg, dev = unet_config(args.preset), torch.device(args.device)
    torch.manual_seed(1)
    net = UNet(cfg, seed=1).to(dev)
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
    # The time embedding's first dense layer, like conv_in, computes no input gradient in the engine.
    first_dense = next(m for m in net.time.modules() if isinstance(m, nn.Linear))

    def count(mod, inp, out):
        nonlocal macs, first_layers
        if isinstance(mod, nn.Conv2d):
            m = out.numel() * mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1]
        else:
            m = out.numel() * mod.in_features
        macs += m
        if mod is net.conv_in or mod is first_dense:
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
