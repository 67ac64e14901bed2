"""Buyer pages (checkout, orders and receipts, library, licence documents) and the studio's sales and payouts.
Included from storefront/urls.py, so names here reverse as "storefront:<name>"."""

from django.urls import path

from marketplace.storefront import views_buyer, views_payments

urlpatterns = [
    path("checkout/<uuid:listing_id>", views_buyer.checkout, name="checkout"),
    path("orders/<uuid:public_id>", views_buyer.order_page, name="order"),
    path("orders/<uuid:public_id>/cancel", views_buyer.order_cancel, name="order-cancel"),
    path("payments/<uuid:public_id>/authenticate", views_payments.payment_authenticate, name="payment-authenticate"),
    path("library/", views_buyer.library, name="library"),
    path("library/licences/<uuid:public_id>", views_buyer.licence_document, name="licence"),
    path("library/licences/<uuid:public_id>/download", views_buyer.licence_download, name="licence-download"),
    path("studio/sales", views_buyer.sales, name="sales"),
    path("studio/sales/payout", views_buyer.payout_request, name="payout-request"),
]
