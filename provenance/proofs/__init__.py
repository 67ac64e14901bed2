"""What proves a record is on chain, without Django: Merkle trees and proofs bit-compatible with the registry
(merkle), how records become leaves and bytes32 arguments (encoding), and the standalone certificate checker
shipped as `atelier-verify` (verify_certificate: web3 and the standard library only)."""
