import os

import pytest
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError, Web3RPCError

from provenance.chain.errors import decode_revert, decode_revert_data
from provenance.chain.registry import ProvenanceRegistry

REASON = "content already registered"
ERROR_DATA = bytes.fromhex("08c379a0") + encode(["string"], [REASON])
ERROR_HEX = "0x" + ERROR_DATA.hex()
PANIC_DATA = bytes.fromhex("4e487b71") + encode(["uint256"], [0x11])
CUSTOM_DATA = keccak(text="NotWriter(address)")[:4] + encode(["address"], ["0x" + "11" * 20])


def test_error_string_from_raw_bytes_and_hex():
    for payload in (ERROR_DATA, ERROR_HEX, ERROR_HEX.upper().replace("0X", "0x")):
        error = decode_revert(payload)
        assert (error.reason, error.kind, error.data) == (REASON, "error", ERROR_DATA)


def test_panic_code_is_named():
    error = decode_revert(PANIC_DATA)
    assert (error.kind, error.panic_code) == ("panic", 0x11)
    assert error.reason == "panic 0x11: arithmetic overflow or underflow"


def test_custom_error_keeps_selector_and_data():
    error = decode_revert("0x" + CUSTOM_DATA.hex())
    assert error.kind == "custom"
    assert error.selector == keccak(text="NotWriter(address)")[:4]
    assert error.data == CUSTOM_DATA
    assert error.reason == f"custom error 0x{error.selector.hex()}"


def test_revert_without_data_falls_back_to_the_message():
    assert decode_revert({"code": 3, "message": "execution reverted", "data": "0x"}).reason == (
        "execution reverted without a reason"
    )
    assert decode_revert(None).kind == "empty"
    assert decode_revert({"code": -32000, "message": "execution reverted: out of stock"}).reason == "out of stock"


def test_malformed_error_string_does_not_crash():
    error = decode_revert_data(bytes.fromhex("08c379a0") + b"\x00" * 5)
    assert error.kind == "custom"
    assert "malformed" in error.reason


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param({"code": 3, "message": f"execution reverted: {REASON}", "data": ERROR_HEX}, id="geth"),
        pytest.param(
            {"jsonrpc": "2.0", "id": 1, "error": {"code": 3, "message": "x", "data": ERROR_HEX}},
            id="response",
        ),
        pytest.param(ContractLogicError(f"execution reverted: {REASON}", data=ERROR_HEX), id="web3-logic"),
        pytest.param(ContractCustomError(ERROR_HEX, data=ERROR_HEX), id="web3-custom"),
        pytest.param(
            Web3RPCError("execution reverted", rpc_response={"error": {"code": 3, "message": "x", "data": ERROR_HEX}}),
            id="web3-rpc",
        ),
    ],
)
def test_every_backend_shape_decodes_to_the_same_reason(shape):
    assert decode_revert(shape).reason == REASON


def test_web3_panic_error_decodes_its_code():
    error = decode_revert(ContractPanicError("Panic error 0x11", data="0x" + PANIC_DATA.hex()))
    assert error.panic_code == 0x11


def test_cause_chain_is_searched():
    try:
        try:
            raise ContractLogicError("execution reverted", data=ERROR_HEX)
        except ContractLogicError as inner:
            raise RuntimeError("estimate failed") from inner
    except RuntimeError as outer:
        assert decode_revert(outer).reason == REASON


@pytest.mark.chain
def test_real_anvil_revert_decodes_through_web3_and_raw_json_rpc(registry: ProvenanceRegistry, funded: LocalAccount):
    outsider = funded.address
    call = registry.contract.functions.register(os.urandom(32), os.urandom(32), os.urandom(32))
    with pytest.raises(ContractLogicError) as caught:
        call.call({"from": outsider})
    assert decode_revert(caught.value).reason == "caller is not a writer"

    data = registry.contract.encode_abi("register", args=[os.urandom(32), os.urandom(32), os.urandom(32)])
    response = registry.w3.provider.make_request(
        "eth_call", [{"from": outsider, "to": registry.address, "data": data}, "latest"]
    )
    assert "error" in response
    assert decode_revert(response).reason == "caller is not a writer"
