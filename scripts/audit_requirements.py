"""Known vulnerabilities in the pinned requirements (pip-audit against PyPI's advisories).

    python scripts/audit_requirements.py              # exit 1 on a vulnerability (make audit)
    python scripts/audit_requirements.py --report-only  # say it loudly, exit 0 (CI, see README)

When the advisory service cannot be reached, or answers for no package (a mirror without
PyPI's JSON API), the audit says so and exits 0: no answer is not a vulnerability, and it
is not a clean bill either.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ["requirements.txt", "requirements-dev.txt"]


def main(report_only: bool) -> int:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "audit.json"
        command = [sys.executable, "-m", "pip_audit", "--disable-pip", "--require-hashes", "--format", "json",
                   "--output", str(out), "--progress-spinner", "off"]
        for name in FILES:
            command += ["--requirement", str(ROOT / name)]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            print("pip-audit: the advisory service did not answer in 5 minutes: NOT AUDITED.")
            return 0
        if not out.exists():
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"pip-audit could not run ({last}): NOT AUDITED.")
            return 0
        report = json.loads(out.read_text())
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    if not audited:
        print(f"pip-audit: the advisory service answered for none of the {len(dependencies)} packages: NOT AUDITED.")
        return 0
    skipped = len(dependencies) - len(audited)
    print(f"pip-audit: {len(audited)} packages audited" + (f", {skipped} not found by the service" if skipped else "") + ".")
    if not vulnerable:
        print("No known vulnerabilities.")
        return 0
    print("!" * 72)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(f"VULNERABLE: {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in: {fixed})")
    print("Raise the pin in requirements.in / requirements-dev.in, then `make requirements`.")
    print("!" * 72)
    return 0 if report_only else 1


if __name__ == "__main__":
    sys.exit(main(report_only="--report-only" in sys.argv[1:]))
