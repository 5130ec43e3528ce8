"""The PyTorch side of the interop tests (tests/interop/*.test.ts call it with /usr/bin/python3):
    torch_side.py <command> <args.json>
reads an engine checkpoint and inputs (safetensors written by the test), computes with
python/softdiff_torch, and writes its results as safetensors for the test to compare. Commands:
    init     the initial weights for a config and seed                     -> {name: weights}
    forward  phi(x, levels) with the checkpoint's model weights, float32 and float64
    grad     one soft-loss step on (x0, eta, levels): loss, per-sample, gradients, and after one
             AdamW step (the checkpoint's options) the weights, Adam moments and EMA
    sample   a sampler run from the checkpoint's EMA weights and prior bank, with the noise read from
             a file (the engine's numbers; then also a run with the noise drawn here, own.result) or
             drawn here (Philox), every step's x_t and x0_hat
    philox   the Philox normals for (seed, step, stream)
    resave   load(checkpoint) then save(path, module, options): the public API's round trip
"""
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'python'))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from softdiff_torch import checkpoint, safetensors  # noqa: E402
from softdiff_torch.corruption import corruption_from_json  # noqa: E402
from softdiff_torch.losses import corrupt, training_loss  # noqa: E402
from softdiff_torch.rng import philox_normals  # noqa: E402
from softdiff_torch.samplers import sample  # noqa: E402
from softdiff_torch.schedule import Schedule  # noqa: E402
from softdiff_torch.unet import UNet, parameter_shapes  # noqa: E402

torch.set_num_threads(1)


def write(path, tensors):
    safetensors.write_file_atomic(path, safetensors.encode({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}))


def cmd_init(a):
    net = UNet(a['config'], seed=a['seed'])
    out = {k: v.numpy() for k, v in net.state_dict().items()}
    write(a['out'], out)
    with open(a['out'] + '.order.json', 'w') as f:  # the module's order, and the shapes computed from the config alone
        json.dump({'order': net.engine_parameter_names(), 'shapes': parameter_shapes(a['config'])}, f)


def cmd_forward(a):
    net, _ = checkpoint.load(a['checkpoint'], weights='model')
    inp, _ = safetensors.read_file(a['inputs'])
    x, levels = torch.from_numpy(inp['x']), torch.from_numpy(inp['levels'])
    with torch.no_grad():
        phi32 = net(x, levels)
        phi64 = net.double()(x.double(), levels.double())
    write(a['out'], {'phi32': phi32.numpy(), 'phi64': phi64.numpy()})


def cmd_grad(a):
    st = checkpoint.read_state(a['checkpoint'])
    o = st.options
    net = UNet(o['model'])
    net.load_state_dict(st.copies['model'])
    inp, _ = safetensors.read_file(a['inputs'])
    x0, eta, levels = (torch.from_numpy(inp[k]) for k in ('x0', 'eta', 'levels'))
    corr = corruption_from_json(o['corruption'])
    xt = corrupt(corr, x0, eta, levels)
    loss, per = training_loss(a.get('loss', o['loss']), corr, net(xt, levels), xt, x0, eta, levels, a.get('x0Weight', o.get('x0Weight', 0)))
    loss.backward()
    params = dict(net.named_parameters())
    grads = {f'grad.{k}': p.grad.clone().numpy() for k, p in params.items()}
    decay = [p for p in params.values() if p.dim() >= 2]
    rest = [p for p in params.values() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': o['weightDecay']}, {'params': rest, 'weight_decay': 0.0}],
                            lr=o['lr'] * min(1.0, 1 / o['warmupSteps']) if o['warmupSteps'] > 0 else o['lr'], eps=1e-8)
    norm = torch.nn.utils.clip_grad_norm_(list(params.values()), o['clipNorm'] if o['clipNorm'] > 0 else float('inf'))
    opt.step()
    out = {'loss': loss.detach().reshape(1).numpy(), 'perSample': per.detach().numpy(), 'xt': xt.detach().numpy(),
           'gradNorm': norm.reshape(1).numpy(), **grads}
    d = o['emaDecay']
    for k, p in params.items():
        out[f'model.{k}'] = p.detach().numpy()
        out[f'adam_m.{k}'] = opt.state[p]['exp_avg'].numpy()
        out[f'adam_v.{k}'] = opt.state[p]['exp_avg_sq'].numpy()
        out[f'ema.{k}'] = (d * st.copies['model'][k] + (1 - d) * p.detach()).numpy()
    write(a['out'], out)


def cmd_sample(a):
    net, o = checkpoint.load(a['checkpoint'], weights='ema')
    net.eval()
    s = o['model']['imageSize']
    shape = (a['count'], o['model']['inChannels'], s, s)
    noise = None
    if a.get('noise'):
        fed, _ = safetensors.read_file(a['noise'])
        noise = lambda step, stream: torch.from_numpy(fed[f'{stream}.{step}']).reshape(shape)
    out = {}

    def on_step(done, t, xt, x0hat):
        out[f'xt.{done}'] = xt.numpy().copy()
        out[f'x0hat.{done}'] = x0hat.numpy().copy()
    run = lambda noise, on_step: sample(lambda x, lv: net.denoise(x, lv), corruption_from_json(o['corruption']), Schedule.from_json(o['noise']),
                                        shape, a['steps'], kind=a['kind'], seed=a['seed'], prior_bank=net.prior_bank, noise=noise,
                                        langevin_steps=a.get('langevinSteps', 100), on_step=on_step).numpy()
    out['result'] = run(noise, on_step)
    if noise is not None:  # and with this package's own Philox numbers for the seed
        out['own.result'] = run(None, None)
    write(a['out'], out)


def cmd_philox(a):
    write(a['out'], {'z': philox_normals(a['n'], a['seed'], a['step'], a['stream'])})


def cmd_resave(a):
    net, options = checkpoint.load(a['checkpoint'])
    checkpoint.save(a['path'], net, options)
    write(a['out'], {})


if __name__ == '__main__':
    with open(sys.argv[2]) as f:
        args = json.load(f)
    {'init': cmd_init, 'forward': cmd_forward, 'grad': cmd_grad, 'sample': cmd_sample, 'philox': cmd_philox, 'resave': cmd_resave}[sys.argv[1]](args)
