"""Engine checkpoints (src/train/checkpoint-state.ts): one safetensors file holding the whole
training state, read and written here so that models move between the engine and PyTorch.

Tensors (F32, PyTorch names and layouts, docs/unet.md):
    model.<name>   the weights          ema.<name>     their exponential moving average
    adam_m.<name>  Adam's first moment  adam_v.<name>  Adam's second moment
    prior_bank     C_1 x0 for K training images [K, C, H, W] (the sampler's prior)
Metadata: "format": "softdiff-checkpoint/1", then one JSON-encoded value per field of `FIELDS`.

    model, options = load(path)            # EMA weights by default; model.prior_bank is set
    save(path, model, options)             # a file `softdiff sample` / the browser demo load
    state = read_state(path); write_state(path, state)   # everything, for resuming
"""
import json
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .safetensors import CheckpointError, decode, encode, read_file, write_file_atomic
from .rng import mix_seed
from .unet import UNet, parameter_shapes

CHECKPOINT_FORMAT = 'softdiff-checkpoint/1'
STATE_KIND = 'training-state'
FLAT_COPIES = ('model', 'ema', 'adam_m', 'adam_v')
PRIOR_BANK = 'prior_bank'
# The metadata fields, in the engine's order; each is stored as JSON text. To add a field, add its
# name here and a value in TrainingState.fields.
FIELDS = ('kind', 'options', 'step', 'dataset', 'hostRng', 'streamer', 'gpuRng', 'adamStep', 'lastLoss')
REQUIRED = ('kind', 'options', 'step', 'dataset', 'hostRng', 'streamer', 'gpuRng', 'adamStep')


@dataclass
class TrainingState:
    """Everything a checkpoint holds: four copies of the parameters by name, the prior bank and the fields."""
    options: dict
    copies: dict            # {'model'|'ema'|'adam_m'|'adam_v': {name: float32 tensor}}
    prior_bank: torch.Tensor
    fields: dict = field(default_factory=dict)  # every entry of FIELDS (options included)


def _metadata(fields):
    meta = {'format': CHECKPOINT_FORMAT}
    for k in FIELDS:
        if k in fields:
            meta[k] = json.dumps(fields[k], separators=(',', ':'), allow_nan=False)
    for k, v in fields.items():  # fields this version does not know are carried through
        if k not in meta and k != 'format':
            meta[k] = json.dumps(v, separators=(',', ':'), allow_nan=False)
    return meta


def encode_state(state, names):
    """Checkpoint bytes; `names` is every parameter name in the engine's order."""
    tensors = {}
    for copy in FLAT_COPIES:
        src = state.copies[copy]
        for n in names:
            if n not in src:
                raise CheckpointError(f'Training state {copy} lacks {n}.')
            tensors[f'{copy}.{n}'] = src[n].detach().to('cpu', torch.float32).contiguous().numpy()
    tensors[PRIOR_BANK] = state.prior_bank.detach().to('cpu', torch.float32).contiguous().numpy()
    return encode(tensors, _metadata({**state.fields, 'options': state.options}))


def decode_state(data, source='checkpoint'):
    """A validated TrainingState (tensors checked against the network its options describe)."""
    tensors, meta = decode(data, source)
    if meta.get('format') != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{source} is not a softdiff checkpoint (metadata format is {meta.get('format')!r}, expected {CHECKPOINT_FORMAT!r}). Pass a file written by softdiff.")
    fields = {}
    for k, text in meta.items():
        if k == 'format':
            continue
        try:
            fields[k] = json.loads(text)
        except ValueError:
            raise CheckpointError(f'{source}: metadata field {k!r} is not valid JSON. The file is corrupted; use an earlier checkpoint.') from None
    missing = [k for k in REQUIRED if k not in fields]
    if missing:
        raise CheckpointError(f"{source} lacks metadata {', '.join(missing)}. It was written by an older or different version.")
    if fields['kind'] != STATE_KIND:
        raise CheckpointError(f"{source} is not a training checkpoint (kind {fields['kind']!r}).")
    o = fields['options']
    if not isinstance(o, dict) or not all(k in o for k in ('model', 'corruption', 'noise')):
        raise CheckpointError(f'{source}: the stored options are incomplete. The file is damaged or from another version.')
    try:
        shapes = parameter_shapes(o['model'])  # from the config alone: nothing is allocated before the tensors are checked
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f'{source}: the stored model config is not valid ({e}).') from None
    known = {PRIOR_BANK}
    copies = {}
    for copy in FLAT_COPIES:
        copies[copy] = {}
        for n, shape in shapes.items():
            key = f'{copy}.{n}'
            known.add(key)
            copies[copy][n] = torch.from_numpy(_f32(tensors.get(key), key, shape, source))
    extra = [k for k in tensors if k not in known]
    if extra:
        raise CheckpointError(f'{source} holds tensor {extra[0]}, which this network does not have. The checkpoint was written for another model configuration.')
    ds = fields['dataset']
    bank = tensors.get(PRIOR_BANK)
    if bank is None or bank.ndim != 4:
        raise CheckpointError(f'{source} lacks the prior bank tensor {PRIOR_BANK} [K, C, H, W].')
    bank = _f32(bank, PRIOR_BANK, (bank.shape[0], ds['channels'], ds['size'], ds['size']), source)
    return TrainingState(options=o, copies=copies, prior_bank=torch.from_numpy(bank), fields=fields)


def _f32(a, key, shape, source):
    if a is None:
        raise CheckpointError(f'{source} lacks tensor {key}. The checkpoint was written for another model configuration, or is damaged.')
    if a.dtype != np.float32:
        raise CheckpointError(f'{source}: tensor {key} is {a.dtype}, expected float32.')
    if tuple(a.shape) != tuple(shape):
        raise CheckpointError(f'{source}: tensor {key} has shape {list(a.shape)}, this network needs {list(shape)}.')
    if not np.isfinite(a).all():
        i = int(np.flatnonzero(~np.isfinite(a.reshape(-1)))[0])
        raise CheckpointError(f'{source}: tensor {key} holds a non-finite value ({a.reshape(-1)[i]}) at element {i}. The file is damaged; use an earlier checkpoint.')
    return a


def read_state(path):
    with open(path, 'rb') as f:
        return decode_state(f.read(), str(path))


def write_state(path, state):
    names = list(parameter_shapes(state.options['model']))
    write_file_atomic(path, encode_state(state, names))


def load(path, weights='ema', device=None):
    """(UNet with the checkpoint's EMA or raw weights, the resolved options dict). The module also
    carries .prior_bank [K, C, H, W] and .state_fields (step, dataset, ...) so save() can write it back."""
    if weights not in ('ema', 'model'):
        raise ValueError(f"weights must be 'ema' or 'model', got {weights!r}.")
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise CheckpointError(f'Cannot read checkpoint {path}: {e.strerror}. Check the path.') from None
    state = decode_state(data, str(path))
    net = UNet(state.options['model'])
    net.load_state_dict(state.copies[weights])
    net.prior_bank = state.prior_bank
    net.state_fields = {k: v for k, v in state.fields.items() if k != 'options'}
    return net.to(device) if device is not None else net, state.options


def default_fields(options, prior_bank, step=0):
    """The fields of a checkpoint with no training history: step 0 streams from the options' seed."""
    seed = options['seed']
    _, c, s, _ = prior_bank.shape
    return {
        'kind': STATE_KIND,
        'step': step,
        'dataset': {'name': 'torch', 'channels': c, 'size': s, 'length': int(prior_bank.shape[0])},
        'hostRng': mix_seed(seed, 3),
        'streamer': {'seed': mix_seed(seed, 1), 'epoch': 0, 'cursor': 0},
        'gpuRng': {'seed': mix_seed(seed, 2), 'counter': step},
        'adamStep': 0,
        'lastLoss': None,
    }


def save(path, module, options, ema=None, adam_m=None, adam_v=None, prior_bank=None, fields=None):
    """Write an engine training-state checkpoint of `module` (a UNet, or DDP around one).

    ema: a module or state dict of the EMA weights (default: the module's own); adam_m / adam_v:
    {name: tensor} (default zeros, with adamStep 0: the engine's Adam then starts afresh); prior_bank:
    C_1 x0 of training images [K, C, H, W] (default module.prior_bank, which load() and train.py set);
    fields: step, dataset, RNG states... (default: module.state_fields, else a fresh run's).
    """
    net = getattr(module, 'module', module)
    if not isinstance(net, UNet):
        raise TypeError(f'save() needs a softdiff_torch UNet (or DDP around one), got {type(net).__name__}.')
    if json.dumps(net.config, sort_keys=True) != json.dumps(options['model'], sort_keys=True):
        raise ValueError("save(): options['model'] does not describe this module's configuration.")
    bank = prior_bank if prior_bank is not None else getattr(net, 'prior_bank', None)
    if bank is None:
        raise ValueError('save() needs the prior bank (C_1 x0 of training images, [K, C, H, W]): pass prior_bank=..., '
                         'e.g. softdiff_torch.data.prior_bank(images, corruption, 64, seed), or save a module from load()/train.py.')
    sd = {k: v.detach() for k, v in net.state_dict().items()}
    ema_sd = sd if ema is None else (getattr(ema, 'module', ema).state_dict() if hasattr(ema, 'state_dict') else ema)
    zeros = {k: torch.zeros_like(v) for k, v in sd.items()}
    f = {**default_fields(options, bank), **(getattr(net, 'state_fields', None) or {}), **(fields or {})}
    if adam_m is None and 'adamStep' not in (fields or {}):
        f['adamStep'] = 0
    state = TrainingState(options=options, prior_bank=bank,
                          copies={'model': sd, 'ema': ema_sd, 'adam_m': adam_m or zeros, 'adam_v': adam_v or zeros}, fields=f)
    if f.get('lastLoss') is not None and not math.isfinite(f['lastLoss']):
        f['lastLoss'] = None
    write_file_atomic(path, encode_state(state, net.engine_parameter_names()))
