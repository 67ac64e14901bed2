import pytest

from marketplace.webhooks.patterns import event_type_matches, normalise_patterns


@pytest.mark.parametrize(
    ("patterns", "event_type", "expected"),
    [
        (["*"], "order.paid", True),
        (["order.*"], "order.paid", True),
        (["order.*"], "order.refund.created", True),
        (["order.*"], "orders.paid", False),
        (["order.*"], "commission.offer_accepted", False),
        (["order.paid"], "order.paid", True),
        (["order.paid"], "order.paid_out", False),
        (["commission.*", "training.succeeded"], "training.succeeded", True),
        (["commission.*", "training.succeeded"], "training.failed", False),
        (["provenance.*"], "provenance.confirmed", True),
    ],
)
def test_event_type_matching(patterns, event_type, expected):
    assert event_type_matches(patterns, event_type) is expected


def test_patterns_are_deduplicated_in_order():
    assert normalise_patterns(["order.*", "*", "order.*"]) == ["order.*", "*"]


@pytest.mark.parametrize("bad", ["", "order", "order*", "*.paid", "Order.paid", "order..paid", "order.**", "a b.c"])
def test_malformed_patterns_are_refused(bad):
    with pytest.raises(ValueError, match="not an event type"):
        normalise_patterns([bad])


def test_empty_filter_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        normalise_patterns([])
