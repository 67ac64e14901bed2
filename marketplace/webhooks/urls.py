from django.urls import path

from marketplace.webhooks import api

urlpatterns = [
    path("webhooks", api.EndpointListCreateView.as_view(), name="webhook-list"),
    path("webhooks/<uuid:public_id>", api.EndpointDetailView.as_view(), name="webhook-detail"),
    path(
        "webhooks/<uuid:public_id>/rotate-secret", api.EndpointRotateSecretView.as_view(), name="webhook-rotate-secret"
    ),
    path("webhooks/<uuid:public_id>/test", api.EndpointTestView.as_view(), name="webhook-test"),
    path("webhooks/<uuid:public_id>/deliveries", api.EndpointDeliveryListView.as_view(), name="webhook-deliveries"),
    path("webhook-deliveries/<uuid:public_id>", api.DeliveryDetailView.as_view(), name="webhook-delivery-detail"),
    path(
        "webhook-deliveries/<uuid:public_id>/redeliver",
        api.DeliveryRedeliverView.as_view(),
        name="webhook-delivery-redeliver",
    ),
]
