from django.urls import path

from households import views

app_name = "households"

urlpatterns = [
    path("kader/", views.cadre_home, name="cadre_home"),
    path("kelompok/<str:code>/anggota/", views.group_members, name="group_members"),
    path("kelompok/<str:code>/isian/", views.entry_sheet_default, name="entry_sheet_default"),
    path("kelompok/<str:code>/isian/<str:month>/", views.entry_sheet, name="entry_sheet"),
    path("kelompok/<str:code>/daftar/", views.register, name="register"),
    path("keluarga/<int:pk>/", views.detail, name="detail"),
    path("keluarga/<int:pk>/keluar/<int:membership_pk>/", views.leave, name="leave"),
    path("keluarga/<int:pk>/status/", views.set_active, name="set_active"),
    path("bulan/", views.months, name="months"),
]
