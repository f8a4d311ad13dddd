"""Loading reference data (areas, OPD) from CSV files.

Used by the initial data migration with historical models and by ``load_areas`` for another
city's areas, so the functions take the model classes they write to.
"""

import csv
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
PALOPO_AREAS = DATA_DIR / "palopo_wilayah.csv"
PALOPO_OPD = DATA_DIR / "opd_palopo.csv"

# Heads named at the coordination meeting of 5 February 2021 (see the background note).
OPD_HEADS = {
    "DPPKB": "Farid Kasim, SH., M.Si., MH (Plt)",
    "DISTAN": "Ibnu Hasyim",
    "DINSOS": "Awaluddin",
    "DKP": "Tirmidzi",
    "DISDIK": "Syahruddin",
    "DISKOP": "Hj Munasirah",
}

GROUP_TYPES = [
    ("KWT", "Kelompok Wanita Tani"),
    ("NELAYAN", "Kelompok Nelayan"),
    ("UEP", "Usaha Ekonomi Produktif lainnya"),
]

AREA_COLUMNS = {"kode_kecamatan", "nama_kecamatan", "kode_kelurahan", "nama_kelurahan"}


def read_area_rows(path: Path) -> list[dict]:
    with Path(path).open(encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = AREA_COLUMNS - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(sorted(missing))}")
        return list(reader)


def load_areas(rows, Kecamatan, Kelurahan) -> tuple[int, int]:
    """Create or rename kecamatan and kelurahan from CSV rows; returns (kecamatan, kelurahan) counts."""
    kecamatan = {}
    for row in rows:
        code = row["kode_kecamatan"].strip()
        if code not in kecamatan:
            kecamatan[code], _ = Kecamatan.objects.update_or_create(
                code=code, defaults={"name": row["nama_kecamatan"].strip()}
            )
    for row in rows:
        Kelurahan.objects.update_or_create(
            code=row["kode_kelurahan"].strip(),
            defaults={"name": row["nama_kelurahan"].strip(), "kecamatan": kecamatan[row["kode_kecamatan"].strip()]},
        )
    return len(kecamatan), len(rows)


def load_opd(path: Path, Opd) -> int:
    with Path(path).open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        code = row["kode_opd"].strip()
        Opd.objects.update_or_create(
            code=code, defaults={"name": row["nama_opd"].strip(), "head": OPD_HEADS.get(code, "")}
        )
    return len(rows)
