from django.urls import path

from reports import group_data_views, views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/trends/", views.dashboard_trends, name="dashboard_trends"),
    path("trends/", views.report_trends, name="report_trends"),
    path("bulan/<str:month>/", views.month_register, name="month"),
    path("export.xlsx", views.export, name="export"),
    path("kartu.png", views.card, name="card"),
    path("laporan.pdf", views.report_print, name="report_print"),
    path("rekap/", views.recap_page, name="recap"),
    path("rekap.xlsx", views.recap_export, name="recap_export"),
    path("data-kelompok/", group_data_views.group_data, name="group_data"),
    path("data-kelompok.xlsx", group_data_views.group_data_export, name="group_data_export"),
    path("kelompok/<str:code>/", views.group_detail, name="group"),
    path("kelompok/<str:code>/kendala/", views.add_problem, name="add_problem"),
    path("kelompok/<str:code>/kendala/<int:pk>/", views.resolve_problem, name="resolve_problem"),
]
