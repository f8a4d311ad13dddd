"""Downloads written to a temporary file and streamed back (memory does not grow with the file)."""

import tempfile

from django.http import FileResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(write, filename: str) -> FileResponse:
    """``write(file)`` fills a temporary file; the response streams it and closes it."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it when sent)
    write(file)
    file.seek(0)
    return FileResponse(file, as_attachment=True, filename=filename, content_type=XLSX)
