from django.urls import path

from marketplace.accounts import api

urlpatterns = [
    path("auth/register", api.RegisterView.as_view(), name="auth-register"),
    path("auth/register/confirm", api.RegisterConfirmView.as_view(), name="auth-register-confirm"),
    path("auth/login", api.LoginView.as_view(), name="auth-login"),
    path("auth/logout", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/password", api.PasswordChangeView.as_view(), name="auth-password"),
    path("me", api.MeView.as_view(), name="me"),
    path("me/avatar", api.MeAvatarView.as_view(), name="me-avatar"),
    path("users/<uuid:public_id>/avatar", api.UserAvatarView.as_view(), name="user-avatar"),
    path("api-keys", api.ApiKeyListCreateView.as_view(), name="api-key-list"),
    path("api-keys/<uuid:public_id>", api.ApiKeyDetailView.as_view(), name="api-key-detail"),
]
