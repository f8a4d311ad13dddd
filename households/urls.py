from django.urls import path

from households import views

app_name = "households"

urlpatterns = [
    path("", views.cadre_home, name="cadre_home"),
]
