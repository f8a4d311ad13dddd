"""Inserting many rows fast: PostgreSQL's COPY, SQLite's executemany. For demo data and
imports of hundreds of thousands of readings, where the ORM's per-value work dominates."""

import datetime as dt
import io

import pandas as pd
from django.db import connection


def bulk_insert(model, frame: pd.DataFrame) -> None:
    """Insert a DataFrame whose columns are the table's column names. Database constraints
    still hold; signals, history and ``save()`` are skipped, so callers record history."""
    if frame.empty:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in frame.columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # NULL spelt \N: an empty field stays an empty string (an acceptor's empty reason).
            buffer = io.StringIO()
            frame.to_csv(buffer, header=False, index=False, na_rep="\\N")
            buffer.seek(0)
            cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)
        else:
            marks = ", ".join(["%s"] * len(frame.columns))
            rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(rows))


def db_timestamp(value: dt.datetime):
    """An aware datetime as this database stores it (SQLite: naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)
