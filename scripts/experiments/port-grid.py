#!/usr/bin/env python3
"""Sample a checkpoint with the PyTorch port (python/softdiff_torch) and write ONE grid PNG of all the
images, to be scored by the engine: `softdiff eval --images <grid.png>`.

Why: the engine's samplers on lavapipe (CPU Vulkan) run 1,000 samples x 50 steps in about 1-2 hours
on this 2-core machine; the port runs the same sampler (matches the engine to <= 1.1e-6 per step,
docs/pytorch.md) in minutes. The score stays the engine's. The noise is torch.randn from one
generator seeded --seed (not the engine's Philox numbers): every row sampled with the same
--seed/--count/--batch draws the same prior and the same noise.

  python3 scripts/experiments/port-grid.py --checkpoint C --sampler momentum --steps 50 --count 1000 --out grid.png
"""
import argparse, json, os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'python'))
import torch
from softdiff_torch import checkpoint as ckpt
from softdiff_torch.corruption import corruption_from_json
from softdiff_torch.schedule import Schedule
from softdiff_torch.samplers import sample, SAMPLERS
from softdiff_torch.png import grid, write_png

p = argparse.ArgumentParser()
p.add_argument('--checkpoint', required=True)
p.add_argument('--sampler', default='momentum', choices=SAMPLERS)
p.add_argument('--steps', type=int, default=50)
p.add_argument('--count', type=int, default=1000)
p.add_argument('--batch', type=int, default=128, help='images per sampler run (fixes which noise each image gets)')
p.add_argument('--seed', type=int, default=1234)
p.add_argument('--langevin-steps', type=int, default=5)
p.add_argument('--clip', action='store_true', help='clip x0hat to [0, 1] after every evaluation')
p.add_argument('--weights', default='ema', choices=['ema', 'model'])
p.add_argument('--threads', type=int, default=1)
p.add_argument('--out', required=True, help='grid PNG of all --count images')
a = p.parse_args()
torch.set_num_threads(a.threads)
net, o = ckpt.load(a.checkpoint, a.weights)
net.eval()
corruption = corruption_from_json(o['corruption'])
noise_schedule = Schedule.from_json(o['noise'])
c, s = o['model']['inChannels'], o['model']['imageSize']
den = (lambda x, lv: net.denoise(x, lv).clamp(0, 1)) if a.clip else (lambda x, lv: net.denoise(x, lv))
t0 = time.time()
out = []
for k in range(0, a.count, a.batch):
    n = min(a.batch, a.count - k)
    g = torch.Generator().manual_seed(a.seed * 1000 + k // a.batch)
    shape = (a.batch, c, s, s)
    noise = lambda step, stream=0: torch.randn(shape, generator=g)
    imgs = sample(den, corruption, noise_schedule, shape, a.steps, kind=a.sampler, seed=a.seed, prior_bank=net.prior_bank,
                  noise=noise, langevin_steps=a.langevin_steps)
    out.append(imgs[:n])
imgs = torch.cat(out)
os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
write_png(a.out, grid(imgs.numpy()))
print(json.dumps({'checkpoint': a.checkpoint, 'step': net.state_fields.get('step'), 'sampler': a.sampler, 'steps': a.steps,
                  'count': a.count, 'seed': a.seed, 'clip': a.clip, 'seconds': round(time.time() - t0, 1), 'out': a.out}), flush=True)
