from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("inbound/<slug:connection>/", views.inbound_webhook, name="inbound"),
    path("inbound/<slug:connection>/bulk/", views.inbound_bulk, name="inbound_bulk"),
]
