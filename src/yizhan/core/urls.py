"""The installable web app's addresses (``core.pwa``); the manifest and the service worker
must sit at the root of the site."""

from django.urls import path

from yizhan.core import ops, pwa

urlpatterns = [
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("offline/", pwa.offline, name="offline"),
    path("outbox/", pwa.outbox, name="outbox"),
    path("settings/text-size/", pwa.text_size, name="text_size"),
    # Operations (core.ops): liveness, readiness, Prometheus metrics.
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics, name="metrics"),
]
