"""Every page URL of the site, under the `storefront` namespace (reverse as "storefront:<name>").

The public pages and accounts are here; the buyer pages (checkout, library, receipts) live in urls_buyer.py and
the artist studio and commission pages in urls_studio.py, included below, so each can grow on its own.
"""

from django.urls import include, path

from marketplace.storefront import views, views_accounts, views_artists, views_gallery, views_verify

app_name = "storefront"

urlpatterns = [
    path("", views.home, name="home"),
    path("gallery", views_gallery.gallery, name="gallery"),
    path("artworks/<uuid:public_id>", views_gallery.artwork_detail, name="artwork"),
    path("artists/<uuid:public_id>", views_artists.artist_detail, name="artist"),
    path("verify", views_verify.verify, name="verify"),
    path("certificates/<uuid:public_id>", views_verify.certificate, name="certificate"),
    path("signup", views_accounts.signup, name="signup"),
    path("signup/confirm/<str:uid>/<str:token>", views_accounts.signup_confirm, name="signup_confirm"),
    path("login", views_accounts.LoginPage.as_view(), name="login"),
    path("logout", views_accounts.LogoutPage.as_view(), name="logout"),
    path("account/password", views_accounts.PasswordChangePage.as_view(), name="password_change"),
    path("account/password/done", views_accounts.PasswordChangeDonePage.as_view(), name="password_change_done"),
    path("password-reset", views_accounts.PasswordResetPage.as_view(), name="password_reset"),
    path("password-reset/sent", views_accounts.PasswordResetDonePage.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>",
        views_accounts.PasswordResetConfirmPage.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/complete", views_accounts.PasswordResetCompletePage.as_view(), name="password_reset_complete"),
    path("", include("marketplace.storefront.urls_buyer")),
    path("", include("marketplace.storefront.urls_studio")),
]
