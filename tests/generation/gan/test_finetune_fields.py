import pytest
import torch

from generation.gan.config import ConfigError
from generation.gan.finetune import init_from_checkpoint
from generation.gan.trainer import Trainer


def _parent_checkpoint(tmp_path, toy_dataset, config, *, drop=()):
    parent = Trainer(config=config, dataset=toy_dataset, device="cpu", out_dir=tmp_path / "parent")
    path = parent.run(max_steps=1).checkpoint_path
    state = torch.load(path, weights_only=True)
    for name in drop:  # a checkpoint written before the field existed
        del state["config"][name]
    torch.save(state, path)
    return path


def test_a_parent_from_before_mbstd_group_fine_tunes_a_child_without_it(tmp_path, toy_dataset, tiny_config):
    config = tiny_config(steps=4)
    path = _parent_checkpoint(tmp_path, toy_dataset, config, drop=("mbstd_group",))
    child = Trainer(config=config, dataset=toy_dataset, device="cpu")
    init_from_checkpoint(child, path)


def test_a_fine_tune_keeps_the_parents_mbstd_group(tmp_path, toy_dataset, tiny_config):
    path = _parent_checkpoint(tmp_path, toy_dataset, tiny_config(steps=4))
    child = Trainer(config=tiny_config(steps=4, mbstd_group=4), dataset=toy_dataset, device="cpu")
    with pytest.raises(ConfigError) as caught:
        init_from_checkpoint(child, path)
    assert caught.value.field == "mbstd_group"
