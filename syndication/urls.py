from django.urls import path

from . import views

app_name = "feeds"
urlpatterns = [
    path("rss/", views.rss, name="rss"),
    path("atom/", views.atom, name="atom"),
    path("podcast/", views.podcast, name="podcast"),
]
