from django.urls import path

from households import import_views, profile_views, views

app_name = "households"

urlpatterns = [
    path("kader/", views.cadre_home, name="cadre_home"),
    path("kelompok/<str:code>/anggota/", views.group_members, name="group_members"),
    path("kelompok/<str:code>/isian/", views.entry_sheet_default, name="entry_sheet_default"),
    path("kelompok/<str:code>/isian/<str:month>/", views.entry_sheet, name="entry_sheet"),
    path("kelompok/<str:code>/isian/<str:month>/pertemuan/", views.add_meeting, name="add_meeting"),
    path("kelompok/<str:code>/isian/<str:month>/lapor/", views.submit_month, name="submit_month"),
    path("kelompok/<str:code>/isian/<str:month>/register.pdf", views.register_print, name="register_print"),
    path("kelompok/<str:code>/daftar/", views.register, name="register"),
    path("kelompok/<str:code>/data/<int:year>/", profile_views.profile, name="profile"),
    path("keluarga/<int:pk>/", views.detail, name="detail"),
    path("keluarga/<int:pk>/keluar/<int:membership_pk>/", views.leave, name="leave"),
    path("keluarga/<int:pk>/status/", views.set_active, name="set_active"),
    path("bulan/", views.months, name="months"),
    path("impor/", import_views.upload, name="import"),
    path("impor/templat.xlsx", import_views.template, name="import_template"),
    path("impor/data.xlsx", import_views.data, name="import_data"),
    path("impor/<str:token>/terapkan/", import_views.confirm, name="import_confirm"),
    path("impor/<str:token>/kesalahan.xlsx", import_views.error_copy, name="import_errors"),
]
