"""softdiff_torch: the softdiff engine's model, corruptions, schedules, losses and samplers in PyTorch,
reading and writing the engine's checkpoints (docs/pytorch.md)."""
from .checkpoint import TrainingState, load, read_state, save, write_state
from .config import PRESETS, unet_config
from .corruption import DctBlur, Identity, SoftMask, corruption_from_json, make_corruption
from .losses import corrupt, dsm_loss, soft_score_loss, training_loss, x0_loss
from .options import resolve_options
from .safetensors import CheckpointError
from .samplers import SAMPLERS, engine_noise, sample
from .schedule import Schedule, fill_levels
from .unet import UNet

__all__ = ['TrainingState', 'load', 'read_state', 'save', 'write_state', 'PRESETS', 'unet_config', 'DctBlur', 'Identity',
           'SoftMask', 'corruption_from_json', 'make_corruption', 'corrupt', 'dsm_loss', 'soft_score_loss', 'training_loss',
           'x0_loss', 'resolve_options', 'CheckpointError', 'SAMPLERS', 'engine_noise', 'sample', 'Schedule', 'fill_levels', 'UNet']
