"""Provenance settings (declared once: core/conf.py; read at call time with `conf.get(NAME)`)."""

from pathlib import Path

from django.conf import settings

from core.conf import FLAG, INTEGER, NUMBER, ORIGIN, TEXT, Setting, Settings

SETTINGS = Settings(
    Setting("PROVENANCE_BATCH_INTERVAL_SECONDS", INTEGER, 10, "a Merkle batch is anchored at least this often ..."),
    Setting("PROVENANCE_BATCH_MAX", INTEGER, 256, "... and as soon as this many records wait; also the largest batch"),
    Setting("PROVENANCE_SEND_INTERVAL_SECONDS", INTEGER, 5, "how often the sender passes"),
    Setting("PROVENANCE_CONFIRM_INTERVAL_SECONDS", INTEGER, 5, "how often the confirmer passes"),
    Setting(
        "PROVENANCE_RECONCILE_INTERVAL_SECONDS",
        INTEGER,
        60,
        "how often the reconciler passes (it re-anchors what a reset chain forgot)",
    ),
    Setting(
        "PROVENANCE_REPLACE_AFTER_SECONDS",
        INTEGER,
        120,
        "a transaction still pending after this is replaced with bumped fees",
    ),
    Setting(
        "PROVENANCE_REBROADCAST_GRACE_SECONDS", INTEGER, 30, "the reconciler leaves younger transactions to the sender"
    ),
    Setting(
        "PROVENANCE_VERIFY_MAX_BYTES",
        INTEGER,
        25 * 1024 * 1024,
        "largest file `POST /api/v1/verify` accepts",
        shown="`26214400` (25 MiB)",
    ),
    Setting(
        "PROVENANCE_PDQ_MIN_QUALITY",
        INTEGER,
        50,
        "PDQ hashes of lower quality match noise: they are never used for matching",
    ),
    # PDQ of a small image moves more under re-encoding (at 32 px one hash cell is half a pixel): DESIGN.md.
    Setting(
        "PROVENANCE_PDQ_SMALL_SIDE",
        INTEGER,
        128,
        "a query image whose shorter side is under this matches within `PROVENANCE_PDQ_SMALL_MATCH_DISTANCE`, "
        "at publish and in `POST /api/v1/verify`",
    ),
    Setting(
        "PROVENANCE_PDQ_SMALL_MATCH_DISTANCE",
        INTEGER,
        48,
        "the PDQ distance small images match within (31 otherwise); when neither sha256 nor PDQ finds a "
        "record, verify reads the invisible watermark that originals and previews of ≥ 96 px carry and looks "
        "its key up in the records (`watermark` in the result)",
    ),
    Setting(
        "CHAIN_MAX_FEE_PER_GAS_WEI",
        INTEGER,
        500 * 10**9,
        "ceiling when a stuck transaction is re-priced",
        shown="`500000000000` (500 gwei)",
    ),
    Setting("CHAIN_RECEIPT_TIMEOUT_SECONDS", NUMBER, 60.0, "how long `chain_deploy` waits for its deployment"),
    Setting(
        "CHAIN_DAILY_GAS_BUDGET_WEI",
        INTEGER,
        10**17,
        "what the signer may commit per UTC day (gas limit × max fee of what it signs; `0`: no cap). Past it "
        "the gas breaker opens: nothing new is signed, pending work waits in the outbox, an ERROR is logged, "
        "`atelier_chain_gas_breaker_open` is 1 and the staff dashboard offers a reset; it closes by itself at "
        "the next UTC day",
        shown="`100000000000000000` (0.1 ETH)",
    ),
    Setting(
        "PROVENANCE_TRANSFER_BATCH_MAX",
        INTEGER,
        32,
        "ownership transfers signed together in one `record_transfers` call; `1` keeps one `record_transfer` "
        "call each (a registry deployed before `record_transfers` existed)",
    ),
    # Content Credentials (C2PA), provenance/credentials.
    Setting(
        "PROVENANCE_C2PA_SIGNING",
        FLAG,
        True,
        "sign C2PA Content Credentials into every public preview (at first publish) and every delivered "
        "original and commission image (as served); in production it needs the two below, or `0`",
    ),
    Setting(
        "PROVENANCE_C2PA_CERT_CHAIN",
        TEXT,
        "",
        "PEM file: the signing certificate first, then its CA. The certificate needs CA:false, KeyUsage "
        "digitalSignature and EKU emailProtection. Empty outside production: a development CA and signer "
        "(every name says DEVELOPMENT) are made once under `PROVENANCE_C2PA_DEV_DIR`; production refuses to "
        "start with it or the key empty, unreadable, mismatched or the development pair",
    ),
    Setting("PROVENANCE_C2PA_PRIVATE_KEY", TEXT, "", "PEM file: the signing certificate's unencrypted P-256 key"),
    Setting(
        "PROVENANCE_C2PA_TRUST_ANCHORS",
        TEXT,
        "",
        "PEM roots verify trusts: a manifest is `trusted` only when its signer chains to one of them; any "
        "other signer reads `untrusted`",
        shown="the chain's root",
    ),
    Setting(
        "PROVENANCE_C2PA_DEV_DIR",
        TEXT,
        None,
        "where the development CA and signer are made",
        env=None,
        shown="`$ATELIER_VAR_DIR/c2pa`",
    ),
    Setting(
        "PUBLIC_BASE_URL",
        ORIGIN,
        "",
        "origin put before `/artists/<id>` and `/verify` in manifests (empty: the paths alone)",
    ),
)
get = SETTINGS.get


def c2pa_dev_dir() -> str:
    return get("PROVENANCE_C2PA_DEV_DIR") or str(Path(settings.VAR_DIR) / "c2pa")
