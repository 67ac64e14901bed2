"""One platform-fee rule (marketplace.fees): a rate per product, rounded down."""

import pytest

from marketplace import fees
from marketplace.gallery.services import platform_fee as sale_fee


@pytest.mark.parametrize(
    ("amount", "basis_points", "fee"),
    [
        (2_000, fees.SALE_FEE_BASIS_POINTS, 200),
        (1_999, fees.COMMISSION_FEE_BASIS_POINTS, 299),  # 299.85: the cent goes to the artist
        (6_500, fees.COMMISSION_FEE_BASIS_POINTS, 975),
        (0, fees.SALE_FEE_BASIS_POINTS, 0),
    ],
)
def test_the_fee_is_the_products_rate_rounded_down(amount, basis_points, fee):
    assert fees.platform_fee(amount, basis_points=basis_points) == fee


def test_a_sale_fee_never_exceeds_the_stated_rate():
    """Rounding half up took 101 of a 1 005 sale, 10.05 %; the one rule rounds down, as commissions did."""
    assert sale_fee(1_005) == 100
    assert all(sale_fee(amount) * 10_000 <= amount * fees.SALE_FEE_BASIS_POINTS for amount in range(0, 3_000))


def test_each_product_has_its_rate():
    assert (fees.SALE_FEE_BASIS_POINTS, fees.COMMISSION_FEE_BASIS_POINTS) == (1_000, 1_500)
