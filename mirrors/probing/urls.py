"""Pages of mirrors.probing (and /metrics, off unless METRICS_ENABLED)."""

from django.urls import path

from mirrors.probing import metrics, views

urlpatterns = [
    path("mirrors/probes/", views.probe_overview, name="probe-overview"),
    path("mirrors/urls/<int:pk>/", views.url_detail, name="probe-url-detail"),
    path("collections/<slug:slug>/propagation/", views.collection_propagation, name="collection-propagation"),
    path("metrics", metrics.metrics_view, name="metrics"),
]
