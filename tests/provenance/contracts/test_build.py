import json

from provenance.contracts.build import (
    ARTIFACT_PATH,
    EVM_VERSION,
    SOURCE_PATH,
    compile_registry,
    main,
    render_artifact,
)


def test_committed_artifact_is_exactly_what_the_source_compiles_to():
    assert ARTIFACT_PATH.read_text() == render_artifact(compile_registry())


def test_artifact_pins_compiler_and_evm_version():
    artifact = json.loads(ARTIFACT_PATH.read_text())
    assert artifact["compiler"] == "vyper"
    assert artifact["compiler_version"] == "0.4.3"
    assert artifact["evm_version"] == EVM_VERSION == "cancun"
    assert "# pragma evm-version cancun" in SOURCE_PATH.read_text()
    assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 1000
    names = {item.get("name") for item in artifact["abi"]}
    assert {
        "register",
        "anchor_batch",
        "record_transfer",
        "verify_proof",
        "batch_time",
        "registrations",
    } <= names


def test_check_mode_flags_a_stale_artifact(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "ProvenanceRegistry.json"
    stale.write_text(ARTIFACT_PATH.read_text().replace('"cancun"', '"shanghai"'))
    monkeypatch.setattr("provenance.contracts.build.ARTIFACT_PATH", stale)
    assert main(["--check"]) == 1
    assert "stale" in capsys.readouterr().err
