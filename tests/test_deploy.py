"""deploy/ on loopback: nginx (deploy/nginx/uppka.conf, a self-signed certificate) in front of
gunicorn (deploy/gunicorn.conf.py) and the job worker, both started with the ExecStart lines
of deploy/systemd, production settings and a throwaway SQLite database.

Checked through nginx: HTTP goes to HTTPS; the app sees HTTPS and the client's own address
(a forged X-Forwarded-For is dropped); a body over the upload limit gets nginx's 413 while one
at the limit reaches the app; /healthz answers; the worker runs a task.
"""

import http.client
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import missing_tool

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
HOST = "uppka.example.go.id"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def exec_start(unit: str) -> list[str]:
    """The unit's ExecStart, with the server's paths replaced by this checkout's."""
    line = next(line for line in (DEPLOY / "systemd" / unit).read_text().splitlines() if line.startswith("ExecStart="))
    line = line.removeprefix("ExecStart=").replace("/srv/uppka/venv/bin/", f"{VENV_BIN}/").replace("/srv/uppka/app", str(ROOT))
    return shlex.split(line)


def wait_for(check, what: str, seconds: float = 60, logs: dict | None = None):
    """Poll ``check`` until it is true; a slow, shared machine gets a minute."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    message = f"timed out waiting for {what}"
    for name, log in (logs or {}).items():
        log.seek(0)
        message += f"\n--- {name} ---\n{log.read()[-3000:]}"
    raise AssertionError(message)


def nginx_config(tmp: Path, http_port: int, https_port: int, app_port: int) -> Path:
    site = (DEPLOY / "nginx" / "uppka.conf").read_text()
    site = re.sub(r"^\s*listen \[::\].*$", "", site, flags=re.M)
    site = (site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
            .replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
            .replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")
            .replace(f"/etc/letsencrypt/live/{HOST}", str(tmp))
            .replace("/var/www/html", str(tmp)))
    (tmp / "site.conf").write_text(site)
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = f"""{user}daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""
    (tmp / "nginx.conf").write_text(main)
    return tmp / "nginx.conf"


@pytest.fixture
def stack(tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not nginx:
        missing_tool("nginx is not installed (apt-get install nginx-light)")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={HOST}",
                    "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")],
                   check=True, capture_output=True)
    http_port, https_port, app_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "DEBUG", "UPPKA_ENV_FILE"}}
    env.update(DEBUG="0", ALLOWED_HOSTS=HOST, SECRET_KEY=secrets.token_urlsafe(50), TRUSTED_PROXIES="1",
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", STATIC_ROOT=str(tmp_path / "static"),
               IMPORT_DIR=str(tmp_path / "imports"), JOB_DIR=str(tmp_path / "jobs"), BACKUP_DIR=str(tmp_path / "backups"),
               GUNICORN_BIND=f"127.0.0.1:{app_port}", GUNICORN_WORKERS="2")
    for args in (["migrate", "--noinput", "--verbosity", "0"], ["collectstatic", "--noinput", "--verbosity", "0"]):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)
    logs = {name: open(tmp_path / f"{name}.log", "w+") for name in ("web", "worker", "nginx")}
    processes = [
        subprocess.Popen(exec_start("uppka-web.service"), cwd=ROOT, env=env, stdout=logs["web"], stderr=subprocess.STDOUT),
        subprocess.Popen(exec_start("uppka-worker.service"), cwd=ROOT, env=env, stdout=logs["worker"],
                         stderr=subprocess.STDOUT),
        subprocess.Popen([nginx, "-c", str(nginx_config(tmp_path, http_port, https_port, app_port))],
                         stdout=logs["nginx"], stderr=subprocess.STDOUT),
    ]
    try:
        wait_for(lambda: b"ok" in plain_get(app_port, "/healthz"), "gunicorn", logs=logs)
        wait_for(lambda: socket.create_connection(("127.0.0.1", https_port), timeout=1).close() or True, "nginx",
                 logs=logs)
        yield {"http": http_port, "https": https_port, "env": env, "db": tmp_path / "db.sqlite3", "logs": logs,
               "processes": processes}
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM if process is not processes[2] else signal.SIGQUIT)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs.values():
            log.close()


def plain_get(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers={"Host": "127.0.0.1"})
    return connection.getresponse().read()


def https(stack, method, path, *, body=None, headers=None, source="127.0.0.2"):
    """A request to nginx's HTTPS port from another loopback address than nginx's own, so
    that the client's address and nginx's differ."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    connection = http.client.HTTPSConnection("127.0.0.1", stack["https"], context=context, timeout=30,
                                             source_address=(source, 0))
    connection.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
    response = connection.getresponse()
    return response, response.read()


def test_nginx_gunicorn_and_worker_as_deployed(stack):  # its own SQLite database, on both passes
    # Plain HTTP answers with a redirect to HTTPS.
    connection = http.client.HTTPConnection("127.0.0.1", stack["http"], timeout=5)
    connection.request("GET", "/accounts/login/?next=/", headers={"Host": HOST})
    response = connection.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/accounts/login/?next=/"
    connection = http.client.HTTPConnection("127.0.0.1", stack["http"], timeout=5)
    connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})  # a balancer's probe by address
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"ok\n")

    # Over HTTPS the app knows it is HTTPS (no redirect loop) and says so with HSTS.
    response, page = https(stack, "GET", "/accounts/login/", headers={"X-Forwarded-Proto": "http"})
    assert response.status == 200
    assert response.getheader("Strict-Transport-Security") == "max-age=3600; includeSubDomains"
    health, body = https(stack, "GET", "/healthz")
    assert (health.status, body) == (200, b"ok\n")

    # The client's address, not nginx's and not the one the client wrote.
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    response, _ = https(stack, "POST", "/accounts/login/", body=f"csrfmiddlewaretoken={token}&username=nobody&password=wrong",
                        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
                                 "Referer": f"https://{HOST}/accounts/login/", "X-Forwarded-For": "203.0.113.9"})
    assert response.status == 200  # the form again, with its error
    with sqlite3.connect(stack["db"]) as db:
        assert db.execute("SELECT ip_address FROM axes_accessattempt").fetchall() == [("127.0.0.2",)]

    def access_log():
        stack["logs"]["web"].seek(0)
        return stack["logs"]["web"].read()

    # gunicorn writes the line once the response is out: wait for it.
    wait_for(lambda: ' 127.0.0.2 "POST /accounts/login/ HTTP/1.0" 200' in access_log(), "the access log line",
             logs=stack["logs"])
    assert "203.0.113.9" not in access_log() and "/healthz" not in access_log()

    # The upload limit: over it, nginx answers 413 before the app reads anything; a workbook
    # of the app's own limit, in its form, reaches the app, which reads it all (the CSRF
    # cookie and Referer are there, so the middleware parses the form for the token) and
    # then refuses it for want of the token. (Answering before reading the body would let
    # gunicorn close the connection under nginx's feet: a 502 at times.)
    limit = settings.IMPORT_MAX_BYTES
    for size, status in ((limit + 2 * 1024 * 1024, 413), (limit, 403)):
        body = (b"--b0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.xlsx\"\r\n"
                b"Content-Type: application/octet-stream\r\n\r\n" + b"x" * size + b"\r\n--b0und--\r\n")
        response, answer = https(stack, "POST", "/impor/", body=body,
                                 headers={"Content-Type": "multipart/form-data; boundary=b0und", "Cookie": cookie,
                                          "Referer": f"https://{HOST}/impor/"})
        assert response.status == status, (size, answer[:300])
    wait_for(lambda: "Forbidden (CSRF token missing.): /impor/" in access_log(), "the app's refusal", logs=stack["logs"])

    # The worker of deploy/systemd runs a queued task.
    enqueue = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c",
                              "from tests.deploy_tasks import ping; print(ping.enqueue().id)"],
                             cwd=ROOT, env=stack["env"], capture_output=True, text=True)
    assert enqueue.returncode == 0, enqueue.stderr
    task_id = enqueue.stdout.strip().splitlines()[-1]

    def succeeded():
        with sqlite3.connect(stack["db"]) as db:
            row = db.execute("SELECT status FROM django_tasks_database_dbtaskresult WHERE id = ?", [task_id.replace("-", "")]).fetchone()
            row = row or db.execute("SELECT status FROM django_tasks_database_dbtaskresult WHERE id = ?", [task_id]).fetchone()
        return row == ("SUCCESSFUL",)

    wait_for(succeeded, "the worker to run the task", logs=stack["logs"])
    assert all(process.poll() is None for process in stack["processes"])


def test_nginx_body_limit_matches_the_upload_limit():
    site = (DEPLOY / "nginx" / "uppka.conf").read_text()
    megabytes = int(re.search(r"client_max_body_size (\d+)m;", site).group(1))
    assert settings.IMPORT_MAX_BYTES <= megabytes * 1024 * 1024 <= settings.IMPORT_MAX_BYTES + 1024 * 1024


def test_nginx_overwrites_the_forwarded_headers():
    site = (DEPLOY / "nginx" / "uppka.conf").read_text()
    assert "$proxy_add_x_forwarded_for" not in site
    assert site.count("proxy_set_header X-Forwarded-For $remote_addr;") == site.count("proxy_pass ")
    assert site.count("proxy_set_header X-Forwarded-Proto $scheme;") == site.count("proxy_pass ")


def test_the_worker_waits_longer_than_the_longest_job():
    unit = (DEPLOY / "systemd" / "uppka-worker.service").read_text()
    assert int(re.search(r"TimeoutStopSec=(\d+)", unit).group(1)) >= 1800
    assert exec_start("uppka-worker.service")[-4:] == ["db_worker", "--queue-name", "*", "--no-reload"]


def test_the_units_are_valid_for_systemd(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        missing_tool("systemd-analyze is not installed (apt-get install systemd)")
    units = sorted((DEPLOY / "systemd").iterdir())
    result = subprocess.run([analyze, "verify", *map(str, units)], capture_output=True, text=True, timeout=60)
    # On a machine without /srv/uppka the commands are missing; anything else is a mistake.
    problems = [line for line in result.stderr.splitlines() if "is not executable" not in line and line.strip()]
    assert problems == []


def test_the_upgrade_script_backs_up_first_and_checks_before_reloading():
    script = "\n".join(line for line in (DEPLOY / "upgrade.sh").read_text().splitlines()
                       if not line.lstrip().startswith(("#", "trap", "echo")))
    subprocess.run(["bash", "-n", str(DEPLOY / "upgrade.sh")], check=True)
    steps = ["manage backup", "systemctl stop uppka-worker", "git checkout", "--require-hashes", "migrate --plan", "migrate --noinput",
             "collectstatic", "check --deploy", "systemctl reload uppka-web", "systemctl start uppka-worker", "/healthz"]
    positions = [script.index(step) for step in steps]
    assert positions == sorted(positions)
