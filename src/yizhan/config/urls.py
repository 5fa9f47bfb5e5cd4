from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from yizhan.config import views
from yizhan.config.api import api

admin.site.site_header = _("Yizhan back office")
admin.site.site_title = _("Yizhan")
admin.site.index_title = _("Records beneath your area (read-only; changes go through the pages)")

urlpatterns = [
    path("", views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("open311/v2/", include("yizhan.reports.open311_urls")),
    path("", include("yizhan.core.urls")),
    path("", include("yizhan.people.urls")),
    path("", include("yizhan.points.urls")),
    path("", include("yizhan.rewards.urls")),
    path("", include("yizhan.stations.urls")),
    path("", include("yizhan.reports.urls")),
    path("", include("yizhan.notifications.urls")),
    path("", include("yizhan.events.urls")),
    path("", include("yizhan.duties.urls")),
    path("", include("yizhan.wishes.urls")),
    path("", include("yizhan.appeals.urls")),
    path("", include("yizhan.honours.urls")),
    path("", include("yizhan.organisation.urls")),
    path("", include("yizhan.dashboards.urls")),
    path("", include("yizhan.privacy.urls")),
    path("", include("yizhan.oversight.urls")),
]

if settings.DEBUG:  # pragma: no cover - development only
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
