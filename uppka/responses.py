"""Downloads written to a temporary file and streamed back (memory does not grow with the file)."""

import tempfile

from django.http import FileResponse

from uppka.scratch import scratch_dir

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(write, filename: str) -> FileResponse:
    """``write(file)`` fills a temporary file in the private scratch folder (it has no name on
    disk, so nothing is left behind); the response streams it and closes it. When ``write``
    fails the file is closed and the error raised."""
    file = tempfile.TemporaryFile(dir=scratch_dir())  # noqa: SIM115 (FileResponse closes it when sent)
    try:
        write(file)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return FileResponse(file, as_attachment=True, filename=filename, content_type=XLSX)
