import threading

import pytest

from provenance.chain.nonces import InMemoryNonceAllocator

ALICE = "0x00000000000000000000000000000000000000aA"


def test_allocations_start_at_the_chain_nonce_and_increase():
    allocator = InMemoryNonceAllocator(chain_nonce=lambda sender: 7)
    assert [allocator.allocate(ALICE) for _ in range(3)] == [7, 8, 9]
    assert allocator.allocate(ALICE.lower()) == 10  # addresses are case-insensitive


def test_released_nonce_is_reused_before_higher_ones():
    allocator = InMemoryNonceAllocator(chain_nonce=lambda sender: 0)
    first, second, third = (allocator.allocate(ALICE) for _ in range(3))
    allocator.confirm(ALICE, first)
    allocator.release(ALICE, second)
    assert allocator.allocate(ALICE) == second
    allocator.release(ALICE, third)
    assert allocator.allocate(ALICE) == third
    assert allocator.allocate(ALICE) == 3


def test_releasing_a_confirmed_nonce_is_an_error():
    allocator = InMemoryNonceAllocator(chain_nonce=lambda sender: 0)
    nonce = allocator.allocate(ALICE)
    allocator.confirm(ALICE, nonce)
    with pytest.raises(ValueError, match="not outstanding"):
        allocator.release(ALICE, nonce)


def test_concurrent_allocations_never_repeat():
    allocator = InMemoryNonceAllocator(chain_nonce=lambda sender: 0)
    results: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        mine = [allocator.allocate(ALICE) for _ in range(200)]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(1600))


def test_resync_reseeds_from_the_chain():
    chain = {"nonce": 0}
    allocator = InMemoryNonceAllocator(chain_nonce=lambda sender: chain["nonce"])
    allocator.allocate(ALICE)
    chain["nonce"] = 42
    allocator.resync(ALICE)
    assert allocator.allocate(ALICE) == 42
