from django.urls import path

from marketplace.storefront.views import home

urlpatterns = [path("", home, name="home")]
