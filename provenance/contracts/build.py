"""Compile ProvenanceRegistry.vy offline into the committed JSON artifact.

python -m provenance.contracts.build          # (re)write ProvenanceRegistry.json
python -m provenance.contracts.build --check  # exit 1 when the committed artifact is stale
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

CONTRACT_NAME = "ProvenanceRegistry"
CONTRACTS_DIR = Path(__file__).resolve().parent
SOURCE_PATH = CONTRACTS_DIR / f"{CONTRACT_NAME}.vy"
ARTIFACT_PATH = CONTRACTS_DIR / f"{CONTRACT_NAME}.json"
# Pinned twice on purpose: in the source pragma and here; vyper refuses to compile if they disagree.
EVM_VERSION = "cancun"
OPTIMIZE = "gas"


def compile_registry(*, source_path: Path = SOURCE_PATH) -> dict[str, Any]:
    import vyper
    from vyper.compiler.settings import OptimizationLevel, Settings

    source = source_path.read_text()
    settings = Settings(evm_version=EVM_VERSION, optimize=OptimizationLevel.from_string(OPTIMIZE))
    # A fixed relative contract path keeps the output independent of where the checkout lives.
    output = vyper.compile_code(
        source,
        contract_path=f"{CONTRACT_NAME}.vy",
        output_formats=["abi", "bytecode", "bytecode_runtime"],
        settings=settings,
    )
    return {
        "contract_name": CONTRACT_NAME,
        "compiler": "vyper",
        "compiler_version": vyper.__version__,
        "evm_version": EVM_VERSION,
        "optimize": OPTIMIZE,
        "source_sha256": hashlib.sha256(source.encode()).hexdigest(),
        "abi": output["abi"],
        "bytecode": output["bytecode"],
        "bytecode_runtime": output["bytecode_runtime"],
    }


def render_artifact(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def load_artifact(*, artifact_path: Path = ARTIFACT_PATH) -> dict[str, Any]:
    return json.loads(artifact_path.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the committed artifact is stale")
    args = parser.parse_args(argv)
    rendered = render_artifact(compile_registry())
    if args.check:
        current = ARTIFACT_PATH.read_text() if ARTIFACT_PATH.exists() else ""
        if current != rendered:
            print(f"{ARTIFACT_PATH} is stale: run python -m provenance.contracts.build", file=sys.stderr)
            return 1
        print(f"{ARTIFACT_PATH.name} is up to date")
        return 0
    ARTIFACT_PATH.write_text(rendered)
    print(f"wrote {ARTIFACT_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
