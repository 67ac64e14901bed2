import json

import pytest

from generation.gan.config import ConfigError, GANConfig, field_specs


def test_config_round_trips_through_json_unchanged():
    config = GANConfig(resolution=128, conditional=True, num_classes=5, loss="hinge", lr_g=1e-4, augment_policy="")
    restored = GANConfig.from_json(json.dumps(config.to_dict()))
    assert restored == config
    assert GANConfig.from_dict(config.to_dict()) == config


def test_partial_dict_takes_defaults_for_missing_fields():
    config = GANConfig.from_dict({"resolution": 32})
    assert config.resolution == 32
    assert config.latent_dim == GANConfig().latent_dim


def test_overrides_apply_on_top_of_base():
    base = GANConfig(batch_size=16, seed=3).to_dict()
    config = GANConfig.from_overrides(base, {"seed": 9})
    assert (config.batch_size, config.seed) == (16, 9)


def test_integer_given_for_float_field_is_accepted_as_float():
    config = GANConfig.from_overrides(None, {"ema_decay": 0})
    assert config.ema_decay == 0.0 and isinstance(config.ema_decay, float)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("resolution", 48),
        ("batch_size", 0),
        ("batch_size", 513),
        ("latent_dim", 2048),
        ("lr_g", 0.5),
        ("beta1", 1.0),
        ("ema_decay", 1.0),
        ("steps", 0),
        ("seed", -1),
        ("sample_count", 257),
        ("loss", "wasserstein"),
        ("augment_policy", "color,rotate"),
        ("augment_policy", "color,color"),
        ("mbstd_group", -1),
        ("mbstd_group", 1),
        ("mbstd_group", 65),
        ("ema_rampup", -0.1),
        ("ema_rampup", 1.5),
    ],
)
def test_out_of_bounds_value_raises_config_error_naming_the_field(field, value):
    with pytest.raises(ConfigError) as caught:
        GANConfig.from_overrides(None, {field: value})
    assert caught.value.field == field
    assert field in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("batch_size", "64"),
        ("batch_size", 64.0),
        ("steps", True),
        ("conditional", 1),
        ("lr_d", "2e-4"),
        ("mbstd_group", True),
    ],
)
def test_wrong_type_raises_config_error_naming_the_field(field, value):
    with pytest.raises(ConfigError) as caught:
        GANConfig.from_overrides(None, {field: value})
    assert caught.value.field == field
    assert "must be a" in caught.value.message


def test_nan_learning_rate_is_rejected():
    with pytest.raises(ConfigError) as caught:
        GANConfig.from_overrides(None, {"lr_g": float("nan")})
    assert caught.value.field == "lr_g"


def test_unknown_setting_is_rejected_by_name():
    with pytest.raises(ConfigError) as caught:
        GANConfig.from_overrides(None, {"learning_rate": 1e-3})
    assert caught.value.field == "learning_rate"


def test_unconditional_model_must_have_one_class():
    with pytest.raises(ConfigError) as caught:
        GANConfig.from_overrides(None, {"num_classes": 4})
    assert caught.value.field == "num_classes"
    assert GANConfig.from_overrides(None, {"num_classes": 4, "conditional": True}).num_classes == 4


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_empty_augment_policy_means_no_augmentation():
    assert GANConfig(augment_policy="").augment_ops == ()
    assert GANConfig(augment_policy="cutout, color").augment_ops == ("cutout", "color")


def test_mbstd_group_is_off_by_default_and_documented_with_its_bounds():
    assert GANConfig().mbstd_group == 0  # stored configs from before the field read back as the run they were
    assert GANConfig(mbstd_group=4).mbstd_group == 4
    spec = field_specs()["mbstd_group"]
    assert (spec["minimum"], spec["maximum"], spec["default"]) == (0, 64, 0)
    assert "0 turns it off" in spec["doc"]
