"""The problem+json `code`s the provenance app raises (records, transfers, certificates, credentials)."""

from enum import StrEnum, unique


@unique
class ProvenanceError(StrEnum):
    CREDENTIALS_UNAVAILABLE = "credentials_unavailable"
    INVALID_PDQ = "invalid_pdq"
    INVALID_REFERENCE = "invalid_reference"
    INVALID_SHA256 = "invalid_sha256"
    NOT_ANCHORED = "not_anchored"
    NOT_CURRENT_OWNER = "not_current_owner"
    NOT_REGISTERED = "not_registered"
    REFERENCE_REUSED = "reference_reused"
    SAME_OWNER = "same_owner"
