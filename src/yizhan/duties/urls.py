from django.urls import path

from yizhan.duties import views

app_name = "duties"

urlpatterns = [
    # The rider's pages (mobile first).
    path("duties/", views.mine, name="mine"),
    path("duties/log/", views.log, name="log"),
    path("duties/confirm/", views.confirm, name="confirm"),
    path("duties/<int:duty_id>/", views.detail, name="detail"),
    # The staff console.
    path("console/duties/", views.queue, name="queue"),
    path("console/duties/gift-codes/", views.gift_codes, name="gift_codes"),
    path("console/duties/<int:duty_id>/", views.review, name="review"),
    path("console/duties/<int:duty_id>/verify/", views.verify, name="verify"),
    path("console/duties/<int:duty_id>/reject/", views.reject, name="reject"),
]
