"""Buyer pages (checkout, receipts, library, licence documents, payouts page): S2 fills this list.
Included from storefront/urls.py, so names here reverse as "storefront:<name>"."""

urlpatterns: list = []
