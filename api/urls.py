"""Routes of the REST API, mounted at ``/api/v1/``."""

from django.urls import path

from api import views

app_name = "api"

urlpatterns = [
    path("replays/", views.ReplayView.as_view(), name="replays"),
]
