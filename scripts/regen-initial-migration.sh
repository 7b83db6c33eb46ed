#!/usr/bin/env bash
# Development helper, used only before the first release: rebuild migration 0001 from the models.
# Once a release has shipped, add new migrations with `flask db migrate` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/0001_initial_schema.py
FLASK_APP=procurement FLASK_SQLALCHEMY_DATABASE_URI="sqlite:///$tmp/gen.db" .venv/bin/flask db upgrade 0000 2>/dev/null || true
FLASK_APP=procurement FLASK_SQLALCHEMY_DATABASE_URI="sqlite:///$tmp/gen.db" .venv/bin/flask db migrate --rev-id 0001 -m "initial schema" >/dev/null
mv migrations/versions/0001_initial_schema.py migrations/versions/0001_initial_schema.py 2>/dev/null || true
rm -rf "$tmp"
echo "migrations/versions/0001_initial_schema.py rebuilt"
