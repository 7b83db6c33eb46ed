#!/usr/bin/env bash
# Development helper, used only before the first release: rebuild migration 0001 from the models.
# Once a release has shipped, add new migrations with `flask db migrate` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Generate against a copy of the migrations folder holding no revision, so 0001 describes every table.
cp -r migrations "$tmp/migrations"
rm -f "$tmp"/migrations/versions/*.py
FLASK_APP=procurement FLASK_SQLALCHEMY_DATABASE_URI="sqlite:///$tmp/gen.db" \
  .venv/bin/flask db migrate --directory "$tmp/migrations" --rev-id 0001 -m "initial schema" >/dev/null 2>&1
cp "$tmp/migrations/versions/0001_initial_schema.py" migrations/versions/0001_initial_schema.py
echo "migrations/versions/0001_initial_schema.py rebuilt"
