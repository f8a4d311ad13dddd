"""requirements.txt / requirements-dev.txt: compiled, pinned and hashed; the audit's verdicts."""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import audit_requirements  # noqa: E402


def pins(name):
    text = (ROOT / name).read_text()
    return re.findall(r"^([A-Za-z0-9_.\-]+(?:\[[a-z,]+\])?)==(\S+) \\\n\s+--hash=sha256:", text, flags=re.M), text


def test_every_package_is_pinned_with_hashes():
    for name in ("requirements.txt", "requirements-dev.txt"):
        found, text = pins(name)
        requirement_lines = [line for line in text.splitlines() if re.match(r"^[A-Za-z0-9]", line)]
        assert len(found) == len(requirement_lines) > 5, name


def test_runtime_and_development_are_apart():
    runtime = {name.lower() for name, _ in pins("requirements.txt")[0]}
    assert {"django", "gunicorn", "django-tasks", "django-tasks-db", "python-dotenv", "sqlparse"} <= runtime
    assert not {"pytest", "playwright", "hypothesis", "uv", "pip-audit"} & runtime
    assert "sentry-sdk" not in runtime  # optional (README.md)


def test_the_in_files_pins_are_the_compiled_ones():
    compiled = {name.lower().split("[")[0]: version for name, version in pins("requirements.txt")[0]}
    for line in (ROOT / "requirements.in").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            assert compiled[name.lower().split("[")[0]] == version, line


def fake_audit(monkeypatch, report):
    def run(command, **kwargs):
        if report is not None:
            Path(command[command.index("--output") + 1]).write_text(json.dumps(report))
        return subprocess.CompletedProcess(command, 1, "", "ConnectionError: no route")

    monkeypatch.setattr(audit_requirements.subprocess, "run", run)


def test_a_vulnerability_fails_the_audit_unless_report_only(monkeypatch, capsys):
    fake_audit(monkeypatch, {"dependencies": [
        {"name": "django", "version": "5.2.0", "vulns": [{"id": "PYSEC-1", "fix_versions": ["5.2.1"]}]},
        {"name": "gunicorn", "version": "27.0.1", "vulns": []}]})
    assert audit_requirements.main(report_only=False) == 1
    assert "VULNERABLE: django 5.2.0: PYSEC-1 (fixed in: 5.2.1)" in capsys.readouterr().out
    assert audit_requirements.main(report_only=True) == 0


def test_an_unreachable_service_is_not_audited_and_does_not_fail(monkeypatch, capsys):
    fake_audit(monkeypatch, None)
    assert audit_requirements.main(report_only=False) == 0
    assert "NOT AUDITED" in capsys.readouterr().out
    fake_audit(monkeypatch, {"dependencies": [{"name": "django", "skip_reason": "Dependency not found on PyPI"}]})
    assert audit_requirements.main(report_only=False) == 0
    assert "answered for none" in capsys.readouterr().out
