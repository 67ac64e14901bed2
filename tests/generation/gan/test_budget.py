"""The budget planner: presets to configs sized for the device; refusals name the field."""

import dataclasses
import re

import pytest

from generation.gan import budget
from generation.gan.budget import PRESETS, ConfigError, TrainingPlan, plan_training
from generation.gan.config import FIELD_DOCS, GANConfig, field_specs


@pytest.mark.parametrize("preset", PRESETS)
def test_each_preset_plans_a_valid_config_that_fits_its_minutes(preset):
    plan = plan_training(preset=preset, dataset_size=60, measure=False)
    assert isinstance(plan, TrainingPlan) and not plan.measured
    minutes = budget.PRESET_MINUTES["cpu"][preset]
    assert plan.minutes == minutes and plan.config.budget_minutes == minutes
    assert plan.config.resolution == budget.PRESET_RESOLUTION["cpu"][preset]
    assert plan.steps == plan.config.steps >= budget.MIN_STEPS
    # the step count is what the estimated speed buys in the budget
    assert plan.steps * plan.config.batch_size == pytest.approx(plan.images_per_s * minutes * 60, rel=0.01)
    assert re.fullmatch(r"about [\d,.]+ images/s here, about [\d,]+ steps in [\d.]+ minutes \(.*\)", plan.summary)
    assert GANConfig.from_dict(plan.config.to_dict()) == plan.config


def test_presets_buy_more_with_more_time():
    quick, standard, best = (plan_training(preset=p, dataset_size=60, measure=False) for p in PRESETS)
    assert quick.minutes < standard.minutes < best.minutes
    assert quick.config.resolution <= standard.config.resolution <= best.config.resolution


def test_minutes_scale_the_steps_and_overrides_win():
    five = plan_training(minutes=5, dataset_size=60, measure=False, overrides={"resolution": 32, "seed": 7})
    ten = plan_training(minutes=10, dataset_size=60, measure=False, overrides={"resolution": 32, "seed": 7})
    assert ten.steps == pytest.approx(2 * five.steps, rel=0.01)
    assert five.config.seed == 7 and five.config.resolution == 32


def test_a_periodic_set_gets_periodic_maps_on_dcgan_plans_only():
    plain = plan_training(dataset_size=60, measure=False, overrides={"resolution": 32}, periodicity=0.2)
    patterned = plan_training(dataset_size=60, measure=False, overrides={"resolution": 32}, periodicity=1.7)
    assert plain.config.periodic_channels == 0 and "periodic" not in plain.summary
    assert patterned.config.periodic_channels == budget.PERIODIC_CHANNELS > 0
    assert "periodic maps for a patterned set" in patterned.summary
    # a FastGAN plan (asked for, or >= 128 px on a CPU) has no periodic maps; the user's own value wins
    fast = plan_training(dataset_size=60, measure=False, overrides={"resolution": 32, "arch": "fastgan"}, periodicity=2)
    assert fast.config.periodic_channels == 0
    assert plan_training(preset="best", dataset_size=60, measure=False, periodicity=2).config.periodic_channels == 0
    mine = plan_training(
        dataset_size=60, measure=False, overrides={"resolution": 32, "periodic_channels": 3}, periodicity=0.0
    )
    off = plan_training(
        dataset_size=60, measure=False, overrides={"resolution": 32, "periodic_channels": 0}, periodicity=2.0
    )
    assert mine.config.periodic_channels == 3 and off.config.periodic_channels == 0


def test_conditional_dcgan_plans_seek_modes_and_others_do_not():
    def plan(**overrides):
        return plan_training(dataset_size=60, num_classes=3, measure=False, overrides={"resolution": 32, **overrides})

    assert plan(conditional=True).config.mode_seeking == budget.CONDITIONAL_MODE_SEEKING > 0
    assert plan().config.mode_seeking == 0  # unconditional
    assert plan(conditional=True, arch="fastgan").config.mode_seeking == 0
    assert plan(conditional=True, mode_seeking=0.0).config.mode_seeking == 0  # the user's value wins
    assert plan(mode_seeking=2.5).config.mode_seeking == 2.5


def test_conditional_plan_takes_the_datasets_classes_and_fades_conditioning_in():
    plan = plan_training(dataset_size=30, num_classes=3, overrides={"conditional": True}, measure=False)
    assert plan.config.conditional and plan.config.num_classes == 3
    assert plan.config.cond_transition_steps == plan.steps // 3


@pytest.mark.parametrize(
    ("overrides", "minutes", "field"),
    [
        ({"resolution": 512}, 3, "resolution"),  # a CPU trains only a few 512px steps in 3 minutes
        ({"steps": 1_000_000}, 10, "steps"),
        ({"batch_size": 0}, 10, "batch_size"),
        ({"resolution": 48}, 10, "resolution"),
        ({"arch": "stylegan9"}, 10, "arch"),
        ({"learning_rate": 1.0}, 10, "learning_rate"),
        ({}, 0.01, "budget_minutes"),
        ({}, -1, "budget_minutes"),
    ],
)
def test_impossible_requests_are_refused_naming_the_field(overrides, minutes, field):
    with pytest.raises(ConfigError) as caught:
        plan_training(minutes=minutes, dataset_size=60, overrides=overrides, measure=False)
    assert caught.value.field == field
    assert caught.value.message


def _slowed(monkeypatch, factor):
    """A device `factor` times slower than the table (a busy CPU), keeping the table's shape scaling."""
    table = budget.table_images_per_second
    monkeypatch.setattr(budget, "table_images_per_second", lambda config, *, kind: table(config, kind=kind) / factor)


def test_a_busy_device_gets_a_smaller_run_instead_of_a_refusal(monkeypatch):
    normal = plan_training(preset="quick", dataset_size=60, measure=False)
    _slowed(monkeypatch, 30)  # the quick preset's shape buys < MIN_STEPS
    busy = plan_training(preset="quick", dataset_size=60, measure=False)
    assert busy.steps >= budget.MIN_STEPS
    assert busy.minutes == normal.minutes
    smaller = (busy.config.batch_size, busy.config.g_channels, busy.config.d_channels)
    assert smaller < (normal.config.batch_size, normal.config.g_channels, normal.config.d_channels)
    assert busy.steps * busy.config.batch_size == pytest.approx(busy.images_per_s * busy.minutes * 60, rel=0.01)


def test_planning_down_keeps_what_the_user_set_and_drops_resolution_last(monkeypatch):
    _slowed(monkeypatch, 100)
    plan = plan_training(preset="standard", dataset_size=60, measure=False, overrides={"batch_size": 16})
    assert plan.config.batch_size == 16 and plan.steps >= budget.MIN_STEPS
    assert plan.config.resolution < budget.PRESET_RESOLUTION["cpu"]["standard"]  # nothing else was left
    _slowed(monkeypatch, 5)  # 500x: 64px does not fit at any batch or width
    with pytest.raises(ConfigError) as caught:
        plan_training(preset="standard", dataset_size=60, measure=False, overrides={"resolution": 64})
    assert caught.value.field == "resolution" and "smallest shape" in caught.value.message


def test_a_device_too_slow_for_any_shape_is_refused_naming_the_budget(monkeypatch):
    _slowed(monkeypatch, 10_000)
    with pytest.raises(ConfigError) as caught:
        plan_training(preset="quick", dataset_size=60, measure=False)
    assert caught.value.field == "budget_minutes"


def test_unknown_preset_and_empty_dataset_are_refused():
    with pytest.raises(ConfigError) as caught:
        plan_training(preset="ultra", dataset_size=60, measure=False)
    assert caught.value.field == "preset"
    with pytest.raises(ConfigError) as caught:
        plan_training(dataset_size=0, measure=False)
    assert caught.value.field == "dataset"


def test_a_cuda_plan_on_a_machine_without_cuda_is_refused(monkeypatch):
    monkeypatch.setattr(budget.torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError) as caught:
        plan_training(device="cuda", dataset_size=60, measure=False)
    assert caught.value.field == "device"


def test_the_probe_times_the_real_networks_once_per_shape(monkeypatch):
    calls = []
    real_probe = budget.probe_images_per_second

    def counting_probe(config, *, device):
        calls.append(config.resolution)
        return real_probe(config, device=device, seconds=0.0)

    monkeypatch.setattr(budget, "probe_images_per_second", counting_probe)
    monkeypatch.setattr(budget, "_measured", {})
    overrides = {"resolution": 32, "g_channels": 8, "d_channels": 8, "batch_size": 8}
    first = plan_training(minutes=30, dataset_size=60, overrides=overrides)
    again = plan_training(minutes=60, dataset_size=60, overrides={**overrides, "seed": 3})
    assert first.measured and first.images_per_s > 0
    assert calls == [32]  # cached: same device and shape
    assert again.images_per_s == first.images_per_s and again.steps == pytest.approx(2 * first.steps, rel=0.01)


def test_every_config_field_is_documented_with_default_and_bounds():
    specs = field_specs()
    names = {field.name for field in dataclasses.fields(GANConfig)}
    assert specs.keys() == names == FIELD_DOCS.keys()
    defaults = GANConfig()
    for name, spec in specs.items():
        assert spec["doc"] and spec["default"] == getattr(defaults, name)
        if spec["type"] in ("int", "float") and name != "resolution":
            assert spec["minimum"] <= spec["default"] <= spec["maximum"], name
    assert specs["arch"]["choices"] == ["dcgan", "fastgan"]
    assert specs["resolution"]["choices"] == [32, 64, 128, 256, 512]


def test_the_trainer_stops_at_its_budget_with_a_checkpoint_counting_every_resume(tmp_path, toy_dataset, tiny_config):
    from generation.gan.trainer import Trainer, load_checkpoint

    config = tiny_config(steps=100_000, budget_minutes=0.01)  # 0.6 s
    trainer = Trainer(config=config, dataset=toy_dataset, device="cpu", out_dir=tmp_path)
    result = trainer.run()
    assert result.reason == "time_limit" and 1 <= result.step < config.steps
    state = load_checkpoint(result.checkpoint_path)
    assert state["step"] == result.step and state["elapsed_seconds"] >= 0.6
    resumed = Trainer.resume(checkpoint_path=result.checkpoint_path, dataset=toy_dataset, device="cpu")
    assert resumed.run().step == result.step  # the budget is spent: nothing more to train
    more = Trainer.resume(
        checkpoint_path=result.checkpoint_path,
        dataset=toy_dataset,
        device="cpu",
        config_changes={"budget_minutes": 0.02},
    )
    assert more.run().step > result.step
