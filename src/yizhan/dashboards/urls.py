from django.urls import path

from yizhan.dashboards import views

app_name = "dashboards"

urlpatterns = [
    # The console dashboard of an area (its own by default), its downloads and stored briefs.
    path("console/dashboard/", views.home, name="home"),
    path("console/dashboard/<str:area_code>/", views.dashboard, name="dashboard"),
    path("console/dashboard/<str:area_code>/export.xlsx", views.export_xlsx, name="export"),
    path("console/dashboard/<str:area_code>/brief.pdf", views.brief_pdf, name="brief"),
    path(
        "console/dashboard/<str:area_code>/briefs/<str:month>.pdf",
        views.stored_brief,
        name="stored_brief",
    ),
    # A street's public page (off unless the street is switched on).
    path("dashboard/<str:street_code>/", views.public, name="public"),
]
