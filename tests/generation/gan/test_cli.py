import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generation.gan import sample, train
from generation.gan.export import read_model_metadata

REPO = Path(__file__).resolve().parents[3]
TINY = ["--resolution", "32", "--batch-size", "8"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, request):
    toy_dir = request.getfixturevalue("toy_dir")
    out = tmp_path_factory.mktemp("cli") / "run"
    assert train.main(["--data", str(toy_dir), "--out", str(out), "--steps", "3", "--conditional", *TINY]) == 0
    return toy_dir, out


def test_train_writes_a_parity_checked_model_and_a_sample_grid(trained_run):
    _, out = trained_run
    metadata = read_model_metadata(out / "model.onnx")
    assert metadata["step"] == 3 and metadata["conditional"] and metadata["num_classes"] == 3
    assert metadata["config"]["batch_size"] == 8
    assert Image.open(out / "samples.png").format == "PNG"
    assert (out / "checkpoints" / "latest.pt").is_file() and (out / "loss_curve.png").is_file()


def test_same_sample_arguments_write_byte_identical_pngs(trained_run, tmp_path):
    _, out = trained_run
    args = ["--model", str(out / "model.onnx"), "--count", "3", "--seed", "40", "--truncation", "0.7"]
    assert sample.main([*args, "--out", str(tmp_path / "a")]) == 0
    assert sample.main([*args, "--out", str(tmp_path / "b")]) == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["seed0000000040-class1.png", "seed0000000041-class2.png", "seed0000000042-class0.png"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert Image.open(tmp_path / "a" / names[0]).size == (32, 32)


def test_sample_class_can_be_named_and_changes_the_image(trained_run, tmp_path):
    _, out = trained_run
    base = ["--model", str(out / "model.onnx"), "--count", "1", "--seed", "5"]
    assert sample.main([*base, "--out", str(tmp_path / "named"), "--class", "square"]) == 0
    assert sample.main([*base, "--out", str(tmp_path / "index"), "--class", "1"]) == 0
    assert sample.main([*base, "--out", str(tmp_path / "other"), "--class", "0"]) == 0
    named = (tmp_path / "named" / "seed0000000005-class1.png").read_bytes()
    assert named == (tmp_path / "index" / "seed0000000005-class1.png").read_bytes()
    assert named != (tmp_path / "other" / "seed0000000005-class0.png").read_bytes()


def test_sample_rejects_unknown_class_with_one_line(trained_run, tmp_path, capsys):
    _, out = trained_run
    code = sample.main(
        [
            "--model",
            str(out / "model.onnx"),
            "--count",
            "1",
            "--seed",
            "0",
            "--out",
            str(tmp_path),
            "--class",
            "hexagon",
        ]
    )
    assert code != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --class") and "\n" not in err


def test_resume_continues_a_finished_run_to_more_steps(trained_run, tmp_path):
    toy_dir, out = trained_run
    copy = tmp_path / "run"
    subprocess.run(["cp", "-r", str(out), str(copy)], check=True)
    assert train.main(["--data", str(toy_dir), "--out", str(copy), "--resume", "--steps", "5"]) == 0
    assert read_model_metadata(copy / "model.onnx")["step"] == 5


def test_existing_run_is_not_overwritten_without_resume(trained_run, capsys):
    toy_dir, out = trained_run
    assert train.main(["--data", str(toy_dir), "--out", str(out), "--steps", "3", *TINY]) != 0
    assert "--resume" in capsys.readouterr().err


def test_a_budget_too_short_to_learn_anything_is_refused_naming_it(toy_dir, tmp_path, capsys):
    out = tmp_path / "timed"
    assert train.main(["--data", str(toy_dir), "--out", str(out), "--minutes", "0.01", "--preset", "quick"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: budget_minutes") and "steps fit" in err
    assert not (out / "checkpoints").exists()


def test_the_estimate_is_printed_before_training(toy_dir, tmp_path, capsys):
    assert train.main(["--data", str(toy_dir), "--out", str(tmp_path / "e"), "--steps", "2", *TINY]) == 0
    err = capsys.readouterr().err
    assert "estimate: about" in err and "images/s here, 2 steps take about" in err
    assert err.index("estimate:") < err.index("training:")


@pytest.mark.parametrize("arch", ["dcgan", "fastgan"])
def test_arch_flag_picks_the_network_family(toy_dir, tmp_path, arch):
    out = tmp_path / arch
    assert train.main(["--data", str(toy_dir), "--out", str(out), "--steps", "2", "--arch", arch, *TINY]) == 0
    assert read_model_metadata(out / "model.onnx")["config"]["arch"] == arch


def test_dry_run_checks_and_times_one_step_without_writing(toy_dir, tmp_path, capsys):
    out = tmp_path / "never"
    assert train.main(["--data", str(toy_dir), "--out", str(out), "--dry-run", *TINY]) == 0
    assert not out.exists()
    printed = capsys.readouterr().out
    # dcgan: the CPU plan at 32 px
    assert "dry run ok: dcgan, 24 images in 3 class(es)" in printed and "would train" in printed


def test_a_patterned_folder_is_planned_with_periodic_maps(tmp_path, capsys):
    folder = tmp_path / "stripes"
    folder.mkdir()
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:32, 0:32]
    for i in range(12):
        angle, period = rng.uniform(0, np.pi), rng.uniform(3, 9)
        on = (np.floor((xx * np.cos(angle) + yy * np.sin(angle)) / period) % 2).astype(bool)
        colours = rng.integers(0, 256, (2, 3))
        Image.fromarray(np.where(on[..., None], colours[0], colours[1]).astype(np.uint8)).save(folder / f"{i}.png")
    out = tmp_path / "run"
    assert train.main(["--data", str(folder), "--out", str(out), "--steps", "2", "--resolution", "32"]) == 0
    assert read_model_metadata(out / "model.onnx")["config"]["periodic_channels"] > 0  # exported, parity checked
    assert "periodic maps" in capsys.readouterr().err
    assert (
        train.main(
            [
                "--data",
                str(folder),
                "--out",
                str(tmp_path / "off"),
                "--steps",
                "2",
                "--resolution",
                "32",
                "--set",
                "periodic_channels=0",
            ]
        )
        == 0
    )
    assert read_model_metadata(tmp_path / "off" / "model.onnx")["config"]["periodic_channels"] == 0


def test_signal_handlers_are_restored_after_training(toy_dir, tmp_path):
    before = signal.getsignal(signal.SIGINT)
    assert train.main(["--data", str(toy_dir), "--out", str(tmp_path / "r"), "--steps", "1", *TINY]) == 0
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.parametrize("data", ["missing", "empty"])
def test_bad_data_exits_non_zero_with_a_one_line_error(tmp_path, capsys, data):
    (tmp_path / "empty").mkdir()
    code = train.main(["--data", str(tmp_path / data), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert err.startswith("error: ") and "\n" not in err


def test_bad_config_value_exits_non_zero_naming_the_setting(toy_dir, tmp_path, capsys):
    assert train.main(["--data", str(toy_dir), "--out", str(tmp_path / "o"), "--batch-size", "0"]) != 0
    assert capsys.readouterr().err.startswith("error: batch_size")


def test_modules_run_as_commands(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "generation.gan.train",
            "--data",
            str(tmp_path / "nope"),
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: data directory not found: {tmp_path / 'nope'}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "generation.gan.sample",
            "--model",
            str(tmp_path / "m.onnx"),
            "--count",
            "1",
            "--seed",
            "0",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and result.stderr.startswith("error: model not found")


def test_set_passes_a_config_field_over_the_plan_and_the_model_exports(toy_dir, tmp_path):
    out = tmp_path / "mbstd"
    args = ["--data", str(toy_dir), "--out", str(out), "--steps", "3", *TINY, "--set", "mbstd_group=4"]
    assert train.main(args) == 0
    assert read_model_metadata(out / "model.onnx")["config"]["mbstd_group"] == 4  # exported, parity checked


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("mbstd_group", "expected FIELD=VALUE"),
        ("no_such_field=1", "not a config field"),
        ("resolution=64", "use --resolution"),
        ("steps=10", "use --minutes or --steps"),
        ("mbstd_group=1", "mbstd_group"),
    ],
)
def test_set_refuses_malformed_unknown_and_flagged_fields_in_one_line(toy_dir, tmp_path, capsys, item, message):
    args = ["--data", str(toy_dir), "--out", str(tmp_path / "o"), "--steps", "3", *TINY, "--set", item]
    assert train.main(args) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
