"""The platform's fee: one rule for every product, at a rate per product.

A rate is in basis points of the price (1 000 = 10 %), and the fee is rounded down, so a rounding cent goes to
the artist and the fee never exceeds its stated rate. Gallery sales and commissions are priced differently
(a commission also carries briefs, revisions and held funds), so each has its own rate.
"""

SALE_FEE_BASIS_POINTS = 1_000  # a gallery order: 10 %
COMMISSION_FEE_BASIS_POINTS = 1_500  # a commission: 15 %, fixed when the offer is accepted


def platform_fee(amount: int, *, basis_points: int) -> int:
    """The platform's share of `amount` (integer minor units), rounded down."""
    return amount * basis_points // 10_000
