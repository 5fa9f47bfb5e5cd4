from django.urls import path

from yizhan.privacy import views

app_name = "privacy"

urlpatterns = [
    path("rider/my-data/", views.my_data, name="my_data"),
    path("rider/my-data/download.json", views.download_json, name="download_json"),
    path("rider/my-data/download.xlsx", views.download_xlsx, name="download_xlsx"),
    path("rider/my-data/delete/", views.delete, name="delete"),
]
