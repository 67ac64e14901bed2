"""Chain errors, and revert reasons decoded the same way wherever they were raised.

A node (anvil, geth) answers a revert with the JSON-RPC error
`{"code": 3, "message": "execution reverted: ...", "data": "0x08c379a0..."}`; web3.py raises it for calls and
gas estimates as `ContractLogicError` (or its subclasses `ContractCustomError`, `ContractPanicError`), with the
hex return data in `.data`, and any other error answer (running out of gas, say) as `Web3RPCError`, with the
answer in `.rpc_response`. `decode_revert` reduces each of them to one `RevertError(reason, data)`.
"""

import re
from collections.abc import Mapping
from typing import Any, Literal

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from web3.exceptions import ContractLogicError, Web3RPCError

ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)

PANIC_REASONS = {
    0x00: "generic compiler panic",
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "invalid storage byte array",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialised function",
}

RevertKind = Literal["error", "panic", "custom", "empty"]

_HEX_DATA = re.compile(r"0x[0-9a-fA-F]*")
_REASON_IN_MESSAGE = re.compile(r"execution reverted:\s*(.+)$")


class ChainError(Exception):
    """Base of every error raised by provenance.chain."""


class ChainUnavailable(ChainError):
    pass


class ChainIdMismatch(ChainError):
    pass


class SignerNotConfigured(ChainError):
    pass


class FeeCeilingExceeded(ChainError):
    pass


class TransactionRejected(ChainError):
    """The node refused a raw transaction for a reason other than already knowing it."""


class ReceiptTimeout(ChainError):
    pass


class RevertError(ChainError):
    def __init__(
        self,
        reason: str,
        data: bytes = b"",
        *,
        kind: RevertKind = "empty",
        panic_code: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.data = data
        self.kind = kind
        self.panic_code = panic_code

    @property
    def selector(self) -> bytes:
        return self.data[:4]

    def __repr__(self) -> str:
        return f"RevertError(reason={self.reason!r}, data=0x{self.data.hex()}, kind={self.kind!r})"


def decode_revert_data(data: bytes, *, message: str | None = None) -> RevertError:
    """Decode EVM return data of a revert: Error(string), Panic(uint256), a custom error, or nothing."""
    if data[:4] == ERROR_STRING_SELECTOR:
        try:
            (reason,) = abi_decode(["string"], data[4:])
            return RevertError(reason, data, kind="error")
        except (DecodingError, UnicodeDecodeError, OverflowError):
            return RevertError(f"malformed Error(string) revert 0x{data.hex()}", data, kind="custom")
    if data[:4] == PANIC_SELECTOR:
        try:
            (code,) = abi_decode(["uint256"], data[4:])
        except DecodingError:
            return RevertError(f"malformed Panic(uint256) revert 0x{data.hex()}", data, kind="custom")
        meaning = PANIC_REASONS.get(code, "unknown panic code")
        return RevertError(f"panic 0x{code:02x}: {meaning}", data, kind="panic", panic_code=code)
    if len(data) >= 4:
        return RevertError(f"custom error 0x{data[:4].hex()}", data, kind="custom")
    if data:
        return RevertError(f"reverted with 0x{data.hex()}", data, kind="custom")
    return RevertError(_reason_from_message(message) or "execution reverted without a reason", b"", kind="empty")


def decode_revert(source: BaseException | bytes | str | Mapping[str, Any] | None) -> RevertError:
    """One decoding of a revert, from web3's exceptions (ContractLogicError and its ContractCustomError /
    ContractPanicError, Web3RPCError, or another exception raised from one of them), a JSON-RPC answer or its
    error object (`provider.make_request`), or raw return data (bytes or 0x-hex)."""
    if isinstance(source, RevertError):
        return source
    if isinstance(source, ContractLogicError):
        data = source.data if isinstance(source.data, str) else None
        return _decode(data, source.message)
    if isinstance(source, Web3RPCError):
        return _decode_rpc_error((source.rpc_response or {}).get("error"), fallback=source.message)
    if isinstance(source, BaseException):
        if source.__cause__ is not None and source.__cause__ is not source:
            found = decode_revert(source.__cause__)
            if found.data:
                return found
        return decode_revert_data(b"", message=str(source) or None)
    if isinstance(source, Mapping):
        return _decode_rpc_error(source.get("error", source), fallback=None)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return decode_revert_data(bytes(source))
    return _decode(source, None)


def _decode_rpc_error(error: Any, *, fallback: str | None) -> RevertError:
    """A JSON-RPC error object: `{"code": 3, "message": "execution reverted: ...", "data": "0x..."}`."""
    if not isinstance(error, Mapping):
        return decode_revert_data(b"", message=error if isinstance(error, str) else fallback)
    data, message = error.get("data"), error.get("message")
    return _decode(data if isinstance(data, str) else None, message if isinstance(message, str) else fallback)


def _decode(data: str | None, message: str | None) -> RevertError:
    """Hex return data when there is some, else the reason the message gives."""
    if data is not None and _HEX_DATA.fullmatch(data.strip()):
        return decode_revert_data(bytes.fromhex(data.strip()[2:]), message=message)
    return decode_revert_data(b"", message=message if message is not None else data)


def _reason_from_message(message: str | None) -> str | None:
    """'execution reverted: caller is not a writer' -> 'caller is not a writer'."""
    if not message:
        return None
    text = message.strip()
    match = _REASON_IN_MESSAGE.search(text)
    if match:
        return match.group(1).strip()
    if text.lower() == "execution reverted":
        return None
    return text
