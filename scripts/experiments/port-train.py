#!/usr/bin/env python3
"""Train one recipe with the PyTorch port (python/train.py's Trainer, step for step the engine's) under
TrainerOptions given as JSON over the main job's, and write an engine checkpoint (and optional
intermediate ones) for `port-grid.py` (sampling) and `softdiff eval` (scoring). Issue 17's ablations:
the engine's training on lavapipe costs ~15 minutes per 1,200-step run on this machine, the port 2-5.

  python3 scripts/experiments/port-train.py --out runs/x --steps 1200 --opts '{"noise": {"kind": "geometric", "min": 0.01, "max": 1}}'
"""
import argparse, json, os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'python'))
import torch
import train as T
from softdiff_torch import checkpoint as ckpt
from softdiff_torch.data import load_dataset
from softdiff_torch.options import resolve_options

p = argparse.ArgumentParser()
p.add_argument('--out', required=True)
p.add_argument('--steps', type=int, default=1200)
p.add_argument('--opts', default='{}', help='TrainerOptions JSON merged over the main job (mnist preset, batch 16, lr 2e-3, warm-up 50)')
p.add_argument('--ckpt-at', default='', help='comma list of steps at which to also save step-N.safetensors')
p.add_argument('--threads', type=int, default=1)
p.add_argument('--resume', help='continue from this checkpoint (its options win over --opts) up to --steps')
p.add_argument('--x0-weight', type=float, help='shorthand for --opts x0Weight (the soft loss plus this times the x0 loss)')
a = p.parse_args()
torch.set_num_threads(a.threads)
os.makedirs(a.out, exist_ok=True)
ds = load_dataset('mnist', 32)
base = dict(model='mnist', batch=16, lr=2e-3, warmupSteps=50)
opts = resolve_options({**base, **json.loads(a.opts), **({'x0Weight': a.x0_weight} if a.x0_weight is not None else {})}, ds.channels, ds.size)
if a.resume:
    state = ckpt.read_state(a.resume)
    opts = state.options
tr = T.Trainer(ds, opts, torch.device('cpu'))
if a.resume:
    tr.restore(state)
json.dump(opts, open(os.path.join(a.out, 'options.json'), 'w'), indent=1)
at = {int(s) for s in a.ckpt_at.split(',') if s}
t0 = time.time()
with open(os.path.join(a.out, 'loss.jsonl'), 'a') as log:
    while tr.step_count < a.steps:
        loss = tr.step(read_loss=(tr.step_count + 1) % 50 == 0)
        if loss is not None:
            log.write(json.dumps({'step': tr.step_count, 'loss': loss, 'elapsed': round(time.time() - t0, 1)}) + '\n')
            log.flush()
        if tr.step_count in at:
            ckpt.write_state(os.path.join(a.out, f'step-{tr.step_count}.safetensors'), tr.state())
ckpt.write_state(os.path.join(a.out, 'checkpoint.safetensors'), tr.state())
print(json.dumps({'out': a.out, 'opts': json.loads(a.opts), 'steps': tr.step_count, 'train_s': round(time.time() - t0, 1)}), flush=True)
