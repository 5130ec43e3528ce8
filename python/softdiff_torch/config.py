"""The U-Net's hyper-parameters: the engine's presets and validation (src/nn/config.ts), as plain
dicts with the engine's camelCase keys, so a config read from a checkpoint's JSON is used as is."""

CONFIG_KEYS = ('inChannels', 'imageSize', 'baseChannels', 'channelMults', 'numResBlocks', 'attentionResolutions',
               'midAttention', 'attentionHeads', 'groups', 'timeFeatures', 'timeEmbedDim')

_BENCH = dict(inChannels=3, imageSize=32, baseChannels=32, channelMults=[1, 2, 2], numResBlocks=1, attentionResolutions=[],
              midAttention=False, attentionHeads=1, groups=8, timeFeatures=64, timeEmbedDim=128)

PRESETS = {
    'bench': _BENCH,
    'mnist': {**_BENCH, 'inChannels': 1, 'baseChannels': 16, 'timeFeatures': 32, 'timeEmbedDim': 64},
    'rgb32': {**_BENCH, 'baseChannels': 64, 'channelMults': [1, 2, 2], 'numResBlocks': 2, 'attentionResolutions': [16],
              'midAttention': True, 'groups': 32, 'timeFeatures': 64, 'timeEmbedDim': 256},
    'rgb64': {**_BENCH, 'imageSize': 64, 'baseChannels': 64, 'channelMults': [1, 2, 2, 4], 'numResBlocks': 2,
              'attentionResolutions': [16], 'midAttention': True, 'groups': 32, 'timeFeatures': 64, 'timeEmbedDim': 256},
}


def unet_config(preset='mnist', overrides=None):
    """A preset (name or dict) with overrides, validated; a new dict with exactly CONFIG_KEYS."""
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(f"Unknown U-Net preset {preset!r}. Use one of {', '.join(PRESETS)}.")
        base = PRESETS[preset]
    else:
        base = preset
    cfg = {**base, **(overrides or {})}
    unknown = set(cfg) - set(CONFIG_KEYS)
    if unknown:
        raise ValueError(f"Invalid U-Net config: unknown setting(s) {', '.join(sorted(unknown))}. Known: {', '.join(CONFIG_KEYS)}.")
    cfg = {k: cfg[k] for k in CONFIG_KEYS if k in cfg}
    cfg['channelMults'] = list(cfg.get('channelMults', []))
    cfg['attentionResolutions'] = list(cfg.get('attentionResolutions', []))
    validate_config(cfg)
    return cfg


def _pos_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def validate_config(cfg):
    """Raises ValueError naming the setting when cfg cannot describe a working network."""
    def bad(setting, why, fix):
        raise ValueError(f'Invalid U-Net config: {setting} {why}. {fix}')
    for k in CONFIG_KEYS:
        if k not in cfg:
            bad(k, 'is missing', f'Set {k}.')
    for k in ('inChannels', 'imageSize', 'baseChannels', 'numResBlocks', 'groups', 'timeFeatures', 'timeEmbedDim', 'attentionHeads'):
        if not _pos_int(cfg[k]):
            bad(k, f'must be a positive integer (got {cfg[k]!r})', f'Set {k} to a positive integer.')
    if not cfg['channelMults'] or not all(_pos_int(m) for m in cfg['channelMults']):
        bad('channelMults', f"must be a non-empty list of positive integers (got {cfg['channelMults']})", 'Use e.g. [1, 2, 2].')
    if cfg['timeFeatures'] % 2:
        bad('timeFeatures', f"must be even (half sines, half cosines; got {cfg['timeFeatures']})", 'Use an even width such as 64.')
    levels = len(cfg['channelMults'])
    factor = 2 ** (levels - 1)
    if cfg['imageSize'] % factor:
        bad('imageSize', f"{cfg['imageSize']} is not divisible by 2^(levels-1) = {factor}", f'Use fewer channelMults entries or an image size divisible by {factor}.')
    resolutions = [cfg['imageSize'] // 2 ** i for i in range(levels)]
    for r in cfg['attentionResolutions']:
        if r not in resolutions:
            bad('attentionResolutions', f"contains {r}, which is not one of the levels' resolutions {resolutions}", 'Pick resolutions from that list.')
    for name, channels in normalised_widths(cfg):
        if channels % cfg['groups']:
            bad('groups', f"({cfg['groups']}) does not divide the {channels} channels normalised at {name}", 'Pick groups dividing every normalised width.')
    widths = {cfg['baseChannels'] * m for i, m in enumerate(cfg['channelMults']) if resolutions[i] in cfg['attentionResolutions']}
    if cfg['midAttention']:
        widths.add(cfg['baseChannels'] * cfg['channelMults'][-1])
    for c in widths:
        if c % cfg['attentionHeads']:
            bad('attentionHeads', f"({cfg['attentionHeads']}) does not divide the attention width {c}", 'Use a head count dividing every attended width.')


def res_block_plan(cfg):
    """The residual blocks in forward order: (name, cin, cout, size)."""
    width = lambda i: cfg['baseChannels'] * cfg['channelMults'][i]
    levels = len(cfg['channelMults'])
    blocks, skips, ch = [], [], width(0)
    for i in range(levels):
        for j in range(cfg['numResBlocks']):
            blocks.append((f'down.{i}.res.{j}', ch, width(i), cfg['imageSize'] // 2 ** i))
            ch = width(i)
            skips.append(ch)
    low = cfg['imageSize'] // 2 ** (levels - 1)
    blocks.append(('mid.res.0', ch, ch, low))
    if cfg['midAttention']:
        blocks.append(('mid.res.1', ch, ch, low))
    for i in reversed(range(levels)):
        for j in range(cfg['numResBlocks']):
            blocks.append((f'up.{i}.res.{j}', ch + skips.pop(), width(i), cfg['imageSize'] // 2 ** i))
            ch = width(i)
    return blocks


def normalised_widths(cfg):
    out = []
    for name, cin, cout, _ in res_block_plan(cfg):
        out += [(f'{name}.norm1', cin), (f'{name}.norm2', cout)]
    out.append(('out.norm', cfg['baseChannels'] * cfg['channelMults'][0]))
    return out
