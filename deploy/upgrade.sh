#!/usr/bin/env bash
# Upgrade a server to a release tag (CHANGELOG.md says what each one brings):
#   sudo /srv/uppka/app/deploy/upgrade.sh v2026.11.0
# Steps: backup, fetch and check out the tag, install its requirements, show the migration
# plan, migrate, collectstatic, check --deploy, reload the web app, restart the worker,
# ask /healthz. It stops at the first failure (set -e) and says how to go back.
set -euo pipefail
TAG=${1:?"usage: $0 TAG   (the tags: git -C /srv/uppka/app tag -l 'v*')"}
APP=${UPPKA_APP:-/srv/uppka/app}
VENV=${UPPKA_VENV:-/srv/uppka/venv}
as_app() { runuser -u uppka -- env UPPKA_ENV_FILE=/etc/uppka/env "$@"; }
manage() { as_app "$VENV/bin/python" "$APP/manage.py" "$@"; }
cd "$APP"
previous=$(as_app git describe --tags --always)
trap 'echo "Upgrade stopped. To go back: git -C $APP checkout $previous, reinstall its requirements, deploy/manage restore the backup above, then systemctl start uppka-worker (it was stopped for the upgrade)." >&2' ERR

echo "== 1. backup (on $previous)"
manage backup

echo "== 2. code: $TAG"
# The worker first: it loads a job's code when the job starts, so code replaced under a
# running worker could mix releases. It finishes the job in hand before it stops.
echo "Stopping the worker (it finishes the job in hand first)…"
systemctl stop uppka-worker
as_app git fetch --tags --quiet
as_app git checkout --quiet --detach "$TAG"
as_app "$VENV/bin/pip" install --quiet --require-hashes -r requirements.txt
manage check

echo "== 3. migrations to apply"
manage migrate --plan
manage migrate --noinput

echo "== 4. static files and deployment checks"
manage collectstatic --noinput --verbosity 0
manage check --deploy --fail-level WARNING

echo "== 5. reload"
systemctl reload uppka-web      # gunicorn starts workers on the new code, then stops the old ones
systemctl start uppka-worker
sleep 3
curl -fsS http://127.0.0.1:8000/healthz
echo "Upgraded from $previous to $TAG."
