"""A training run's options exactly as the engine resolves and stores them (src/train/options.ts):
the same keys, defaults and checks, so a checkpoint written here resumes in the engine (which
re-resolves the stored options and refuses any difference)."""
import math

from .config import unet_config
from .corruption import CORRUPTIONS, make_corruption
from .losses import LOSSES
from .samplers import SAMPLERS
from .schedule import Schedule, default_noise_schedule

WEIGHTINGS = ('uniform', 'inverse-variance')


def resolve_options(o, channels, size):
    """Fill in the engine's defaults and validate; the model takes the data's channels and size."""
    model = o.get('model', 'mnist')
    overrides = {**(o.get('modelOverrides') or {}), 'inChannels': channels, 'imageSize': size}
    corr = o.get('corruption', 'blur')
    corr_name = str(corr['name']) if isinstance(corr, dict) else corr
    r = {
        'model': unet_config(model, overrides),
        'batch': o.get('batch', 16),
        'lr': o.get('lr', 1e-3),
        'warmupSteps': o.get('warmupSteps', 50),
        'clipNorm': o.get('clipNorm', 1),
        'weightDecay': o.get('weightDecay', 0),
        'emaDecay': o.get('emaDecay', 0.995),
        'corruption': make_corruption(corr, size).to_json(),
        'noise': o.get('noise') or default_noise_schedule(corr_name).to_json(),
        'loss': o.get('loss', 'soft'),
        'x0Weight': o.get('x0Weight', 0),
        'weighting': o.get('weighting', 'uniform'),
        'stratified': o.get('stratified', True),
        'tMin': o.get('tMin', 1e-5),
        'seed': o.get('seed', 0),
        'flip': o.get('flip', False),
        'logEvery': o.get('logEvery', 10),
        'sampleCount': o.get('sampleCount', 16),
        'sampleSteps': o.get('sampleSteps', 50),
        'sampler': o.get('sampler', 'momentum'),
        'priorBank': o.get('priorBank', 64),
    }
    pos_int = lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0

    def check(ok, what, hint):
        if not ok:
            raise ValueError(f'Invalid training option {what}: {r[what]!r}. {hint}')
    check(pos_int(r['batch']), 'batch', 'Use a positive integer such as 16.')
    check(math.isfinite(r['lr']) and r['lr'] > 0, 'lr', 'Use a positive learning rate such as 1e-3.')
    check(isinstance(r['warmupSteps'], int) and r['warmupSteps'] >= 0, 'warmupSteps', 'Use a non-negative integer.')
    check(r['clipNorm'] >= 0, 'clipNorm', 'Use 0 (off) or a positive norm such as 1.')
    check(r['weightDecay'] >= 0, 'weightDecay', 'Use 0 or a small positive value.')
    check(0 <= r['emaDecay'] <= 1, 'emaDecay', 'Use a decay in [0, 1] such as 0.999.')
    check(corr_name in CORRUPTIONS, 'corruption', f"Use one of {', '.join(CORRUPTIONS)}.")
    check(r['loss'] in LOSSES, 'loss', f"Use one of {', '.join(LOSSES)}.")
    check(isinstance(r['x0Weight'], (int, float)) and not isinstance(r['x0Weight'], bool) and math.isfinite(r['x0Weight'])
          and 0 <= r['x0Weight'] <= 1000, 'x0Weight', 'Use 0 (the soft loss alone) or a weight up to 1000 such as 0.1.')
    check(r['x0Weight'] == 0 or r['loss'] == 'soft', 'x0Weight', 'The x0 weight applies to the soft loss only; use 0.')
    check(r['weighting'] in WEIGHTINGS, 'weighting', f"Use one of {', '.join(WEIGHTINGS)}.")
    check(0 < r['tMin'] < 1, 'tMin', 'Use a small positive value such as 1e-5.')
    check(isinstance(r['seed'], int) and 0 <= r['seed'] <= 0xFFFFFFFF, 'seed', 'Use an integer in [0, 2^32).')
    for k in ('logEvery', 'sampleCount', 'sampleSteps', 'priorBank'):
        check(pos_int(r[k]), k, 'Use a positive integer.')
    check(r['sampler'] in SAMPLERS, 'sampler', f"Use one of {', '.join(SAMPLERS)}.")
    Schedule.from_json(r['noise'])
    return r
