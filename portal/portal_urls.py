from django.contrib.auth import views as auth_views
from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("shipments/", views.shipment_list, name="shipment_list"),
    path("shipments/<str:number>/", views.shipment_detail, name="shipment_detail"),
    path("documents/", views.document_list, name="document_list"),
    path(
        "documents/<int:pk>/download/",
        views.document_download,
        name="document_download",
    ),
    path("returns/", views.return_list, name="return_list"),
    path("returns/new/", views.return_create, name="return_create"),
    path("returns/<str:number>/", views.return_detail, name="return_detail"),
]
