"""A fresh database (migrations only) holds Palopo's master data."""

import datetime as dt

import pytest
from django.core.management import call_command

from groups.models import GroupType, Kecamatan, Kelurahan, Opd, PovertyLine, Target


@pytest.mark.django_db
def test_palopo_has_9_kecamatan_and_48_kelurahan_with_official_codes():
    assert Kecamatan.objects.count() == 9
    assert Kelurahan.objects.count() == 48
    assert Kecamatan.objects.get(code="73.73.01").name == "Wara"
    kel = Kelurahan.objects.select_related("kecamatan").get(code="73.73.01.1001")
    assert (kel.name, kel.kecamatan.name) == ("Tompotikka", "Wara")
    assert all(k.code.startswith(k.kecamatan.code + ".") for k in Kelurahan.objects.select_related("kecamatan"))


@pytest.mark.django_db
def test_opd_list_group_types_target_and_poverty_line_are_loaded():
    assert set(Opd.objects.values_list("code", flat=True)) == {
        "DPPKB", "DISTAN", "DINSOS", "DKP", "DISDIK", "DISKOP", "DISKAN"
    }
    assert Opd.objects.get(code="DISTAN").head == "Ibnu Hasyim"
    assert dict(GroupType.objects.values_list("code", "name")) == {
        "KWT": "Kelompok Wanita Tani",
        "NELAYAN": "Kelompok Nelayan",
        "UEP": "Usaha Ekonomi Produktif lainnya",
    }
    assert Target.objects.get(year=2021).households == 10_000
    line = PovertyLine.objects.in_force_on(dt.date(2025, 1, 1))
    assert (line.valid_from, line.amount) == (dt.date(2024, 9, 1), 467_991)
    assert PovertyLine.objects.in_force_on(dt.date(2024, 8, 31)) is None


@pytest.mark.django_db
def test_another_city_can_load_its_own_areas(tmp_path):
    csv = tmp_path / "luwu.csv"
    csv.write_text(
        "kode_kecamatan,nama_kecamatan,kode_kelurahan,nama_kelurahan\n"
        "73.17.01,Larompong,73.17.01.2001,Rumaju\n"
        "73.17.01,Larompong,73.17.01.2002,Bilante\n",
        encoding="utf-8",
    )
    call_command("load_areas", str(csv))
    assert Kelurahan.objects.filter(kecamatan__code="73.17.01").count() == 2
    assert Kelurahan.objects.count() == 50


@pytest.mark.django_db
def test_load_areas_refuses_a_file_without_the_columns(tmp_path):
    from django.core.management.base import CommandError

    csv = tmp_path / "bad.csv"
    csv.write_text("code,name\n1,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing columns"):
        call_command("load_areas", str(csv))
    assert Kelurahan.objects.count() == 48


@pytest.mark.django_db
def test_default_team_is_created_once_per_opd():
    opd = Opd.objects.get(code="DISTAN")
    assert opd.default_team() == opd.default_team()
    assert opd.teams.filter(is_default=True).count() == 1
