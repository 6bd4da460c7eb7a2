from django.urls import path

from metadata import views

urlpatterns = [
    path("collections/", views.collection_list, name="collection-list"),
    path("collections/<slug:slug>/", views.collection_detail, name="collection-detail"),
]
