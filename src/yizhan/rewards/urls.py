from django.urls import path

from yizhan.rewards import views

app_name = "rewards"

urlpatterns = [
    # The rider's pages (mobile first).
    path("rider/shop/", views.shop, name="shop"),
    path("rider/shop/<int:reward_id>/reserve/", views.reserve, name="reserve"),
    path("rider/redemptions/", views.redemptions, name="redemptions"),
    path("rider/redemptions/<int:redemption_id>/cancel/", views.cancel, name="cancel"),
    # The staff console.
    path("console/shop/", views.catalogue, name="catalogue"),
    path("console/shop/windows/", views.window_create, name="window_create"),
    path("console/shop/pickup/", views.pickup, name="pickup"),
    path("console/shop/<int:reward_id>/", views.reward_detail, name="reward_detail"),
    path("console/shop/<int:reward_id>/stock/", views.stock_change, name="stock_change"),
]
