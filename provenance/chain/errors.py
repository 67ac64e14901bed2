"""Chain errors, and revert reasons decoded the same way whatever node or client raised them.

Nodes report a revert in different shapes: anvil and geth answer JSON-RPC error
`{"code": 3, "message": "execution reverted: ...", "data": "0x08c379a0..."}`, some nodes nest the data
(`{"data": {"data": "0x..."}}`), web3.py turns these into `ContractLogicError` (with `.data`) or
`Web3RPCError` (with `.rpc_response`), and eth-tester raises `TransactionFailed("execution reverted: ...")`
or with the raw return data. `decode_revert` reduces all of them to one `RevertError(reason, data)`.
"""

import re
from typing import Any, Literal

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError

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
_REASON_IN_MESSAGE = re.compile(r"(?:execution reverted|reverted with reason string|revert)[:\s]+'?(.+?)'?$")


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
    return RevertError(
        _reason_from_message(message) or "execution reverted without a reason", b"", kind="empty"
    )


def decode_revert(exc_or_data: BaseException | bytes | str | dict[str, Any] | None) -> RevertError:
    """One decoding for every backend; accepts an exception, raw return data (bytes or 0x-hex), or a
    JSON-RPC error object / response."""
    if isinstance(exc_or_data, RevertError):
        return exc_or_data
    data, message = _extract(exc_or_data)
    return decode_revert_data(data if data is not None else b"", message=message)


def _extract(value: Any) -> tuple[bytes | None, str | None]:
    """Find (revert data, human message) in whatever shape a backend produced."""
    if value is None:
        return None, None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value), None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("Reverted "):  # eth-tester / older web3 prefix
            text = text[len("Reverted ") :]
        if _HEX_DATA.fullmatch(text):
            return bytes.fromhex(text[2:]), None
        return None, value
    if isinstance(value, dict):
        return _extract_from_mapping(value)
    if isinstance(value, BaseException):
        return _extract_from_exception(value)
    return None, str(value)


def _extract_from_mapping(mapping: dict[str, Any]) -> tuple[bytes | None, str | None]:
    if "error" in mapping and isinstance(mapping["error"], (dict, str)):  # a whole JSON-RPC response
        return _extract(mapping["error"])
    message = mapping.get("message") if isinstance(mapping.get("message"), str) else None
    for key in ("data", "result", "output", "returnData"):
        inner = mapping.get(key)
        if inner is None:
            continue
        data, inner_message = _extract(inner)
        if data is not None:
            return data, message or inner_message
        message = message or inner_message
    # ganache-style {"0x<txhash>": {"error": "revert", "reason": "...", "return": "0x..."}}
    for nested in mapping.values():
        if isinstance(nested, dict) and ("return" in nested or "reason" in nested):
            data, _ = _extract(nested.get("return"))
            return data, message or nested.get("reason")
    if "reason" in mapping and isinstance(mapping["reason"], str):
        return None, mapping["reason"]
    return None, message


def _extract_from_exception(exc: BaseException) -> tuple[bytes | None, str | None]:
    message: str | None = None
    # web3 ContractLogicError (and subclasses): .message and .data (str | dict | None)
    exc_data = getattr(exc, "data", None)
    if exc_data is not None:
        data, inner_message = _extract(exc_data)
        message = getattr(exc, "message", None) or inner_message
        if data is not None:
            return data, message
    # web3 Web3RPCError: .rpc_response holds the JSON-RPC error object
    rpc_response = getattr(exc, "rpc_response", None)
    if isinstance(rpc_response, dict):
        data, inner_message = _extract_from_mapping(rpc_response)
        if data is not None:
            return data, inner_message
        message = message or inner_message
    # eth-tester TransactionFailed and anything else: look through the args
    for arg in exc.args:
        if isinstance(arg, (dict, bytes, bytearray)) or (
            isinstance(arg, str) and _HEX_DATA.fullmatch(arg.strip())
        ):
            data, inner_message = _extract(arg)
            if data is not None:
                return data, message or inner_message
        elif isinstance(arg, str) and message is None:
            message = arg
    if exc.__cause__ is not None and exc.__cause__ is not exc:
        data, inner_message = _extract_from_exception(exc.__cause__)
        if data is not None:
            return data, message or inner_message
    return None, message or getattr(exc, "message", None) or (str(exc) or None)


def _reason_from_message(message: str | None) -> str | None:
    """'execution reverted: caller is not a writer' -> 'caller is not a writer'."""
    if not message:
        return None
    text = message.strip()
    match = _REASON_IN_MESSAGE.search(text)
    if match:
        return match.group(1).strip()
    if text.lower() in {"execution reverted", "revert", "reverted"}:
        return None
    return text
