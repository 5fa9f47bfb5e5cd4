from django.urls import path

from yizhan.reports import views

app_name = "reports"

urlpatterns = [
    # The rider's pages (mobile first): report, the place's categories and the open reports
    # nearby (htmx fragments), "I saw it too", my reports, one report.
    path("report/", views.report_new, name="new"),
    path("report/categories/", views.report_categories, name="categories_for_place"),
    path("report/nearby/", views.report_duplicates, name="duplicates"),
    path("reports/mine/", views.mine, name="mine"),
    path("reports/<int:report_id>/", views.detail, name="detail"),
    path("reports/<int:report_id>/done/", views.report_done, name="done"),
    path("reports/<int:report_id>/witness/", views.witness, name="witness"),
    path("reports/<int:report_id>/reopen/", views.reopen, name="reopen"),
    # The staff console.
    path("console/reports/", views.triage, name="triage"),
    path("console/reports/duty/", views.duty, name="duty"),
    path("console/reports/categories/", views.categories, name="categories"),
    path("console/reports/categories/seed/", views.categories_seed, name="categories_seed"),
    path(
        "console/reports/categories/<int:category_id>/",
        views.category_edit,
        name="category_edit",
    ),
    path("console/reports/settings/", views.report_settings, name="settings"),
    path("console/reports/<int:report_id>/", views.console_detail, name="console_detail"),
    path("console/reports/<int:report_id>/accept/", views.accept, name="accept"),
    path("console/reports/<int:report_id>/reject/", views.reject, name="reject"),
    path("console/reports/<int:report_id>/merge/", views.merge, name="merge"),
    path("console/reports/<int:report_id>/dispatch/", views.dispatch, name="dispatch"),
    path("console/reports/<int:report_id>/redirect/", views.redirect_case, name="redirect"),
    path("console/reports/<int:report_id>/verify/", views.verify, name="verify"),
    path("console/reports/<int:report_id>/close/", views.close, name="close"),
    path("console/reports/<int:report_id>/reopen/", views.staff_reopen, name="staff_reopen"),
    path("console/reports/<int:report_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("console/reports/<int:report_id>/points/", views.points_decide, name="points_decide"),
    path(
        "console/reports/<int:report_id>/photos/<int:photo_id>/original/",
        views.photo_original,
        name="photo_original",
    ),
    # The department's pages.
    path("cases/", views.cases, name="cases"),
    path("cases/<int:report_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:report_id>/handled/", views.case_handle, name="case_handle"),
]
