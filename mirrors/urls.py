from django.urls import path

from mirrors import views

urlpatterns = [
    path("mirrors/", views.mirror_status, name="mirror-status"),
    path("my/sites/", views.my_sites, name="my-sites"),
    path("moderation/", views.moderation, name="moderation"),
]
