"""`python -m bench.quality --quick` end to end: both recipes train, sample, score; one JSON object last."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.quality import ENTRY_KEYS

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_run_prints_the_figure_last(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "bench.quality", "--quick", "--sets", "glyphs", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    lines = completed.stdout.strip().splitlines()
    assert lines[-2].startswith("GAN quality")
    result = json.loads(lines[-1])
    assert set(result["sets"]) == {"glyphs@32"}
    entry = result["sets"]["glyphs@32"]
    assert tuple(entry) == ENTRY_KEYS
    assert all(isinstance(entry[key], float) for key in ENTRY_KEYS), entry
    assert result["steps"] == 3 and result["seeds"] == 1 and result["resolutions"] == [32]
    details = result["details"]["glyphs@32"]["per_seed"][0]
    assert details["conditional"] and details["atelier_steps"] == 3 and details["reference_steps"] == 3
    assert json.loads((tmp_path / "latest-quick.json").read_text())["sets"] == result["sets"]
    assert (tmp_path / "runs").is_dir()

    # the rescore tool, in the bench's own probe network, gives back the bench's KIDs (same samples, same
    # features); in another probe network it scores the same models again
    rescored = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.quality_rescore",
            *map(str, (tmp_path / "runs").iterdir()),
            "--probes",
            "160x1,160x2",
            "--samples",
            "64",
            "--set-size",
            "40",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    probes = json.loads(rescored.stdout.strip().splitlines()[-1])["probes"]
    same = probes["160x1"]["sets"]["glyphs@32"]
    assert same["seeds"] == ["seed0"]
    assert same["reference_kid"] == pytest.approx(details["reference_kid"], abs=2e-6)
    assert same["atelier_kid"] == pytest.approx(details["atelier_kid"], abs=2e-6)
    other = probes["160x2"]["sets"]["glyphs@32"]
    assert other["atelier_kid"] != same["atelier_kid"] and isinstance(other["kid_ratio"], float)
