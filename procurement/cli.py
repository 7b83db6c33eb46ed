"""Command-line interface: ``flask --app procurement <command>``."""

import getpass
import json
import sys

import click
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import select

from procurement.audit.services import SYSTEM, verify_audit_chain
from procurement.auth.roles import Role
from procurement.errors import DomainError
from procurement.extensions import db


def register_cli(app):
    @app.cli.command("init-db")
    def init_db():
        """Upgrade the database to the latest migration and load the reference data."""
        from procurement.audit.services import ensure_chain_head
        from procurement.reference_data import load_reference_data

        upgrade(directory=current_app.extensions["migrate"].directory)
        ensure_chain_head()
        added = load_reference_data()
        db.session.commit()
        click.echo("Database is at the latest migration. Reference data added: "
                   + ", ".join(f"{k} {v}" for k, v in added.items()))

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only when the database holds no users yet.")
    def seed_demo_command(if_empty):
        """Load the demo data (idempotent)."""
        from procurement.auth.models import User
        from procurement.demo.seed import DEMO_PASSWORD, USERS, seed_demo

        if if_empty and db.session.execute(select(User.id)).first() is not None:
            click.echo("The database already has users; demo data not loaded.")
            return
        counts = seed_demo()
        db.session.commit()
        click.echo("Demo data loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        click.echo(f"Demo logins (password {DEMO_PASSWORD}, only while FLASK_DEMO_MODE is on):")
        for username, _name, org, role in USERS:
            click.echo(f"  {username:<12} {role.value:<11} {org}")

    @app.cli.command("create-user")
    @click.option("--username", required=True)
    @click.option("--name", "display_name", required=True, help="Display name, e.g. 李明")
    @click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
    @click.option("--org", "org_name", required=True, help="Name of an existing organization")
    @click.option("--password", default=None, help="Initial password (prompted if omitted); must be changed at first login")
    def create_user_command(username, display_name, role, org_name, password):
        """Create a user with an initial password."""
        from procurement.auth.services import create_user
        from procurement.orgs.models import Organization

        org = db.session.execute(select(Organization).where(Organization.name == org_name)).scalar_one_or_none()
        if org is None:
            raise click.ClickException(f"No organization named {org_name!r}.")
        if password is None:
            password = getpass.getpass("Initial password: ")
        try:
            create_user(username=username, display_name=display_name, organization=org, role=Role(role),
                        password=password, actor=SYSTEM)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        db.session.commit()
        click.echo(f"User {username} created; the password must be changed at the first login.")

    @app.cli.command("check")
    def check_command():
        """Check the database, the CJK fonts and HarfBuzz subsetting; exit 1 on any failure."""
        from procurement.health import run_checks

        result = run_checks(cache_seconds=0)
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        if result["status"] != "ok":
            sys.exit(1)

    @app.cli.command("audit-verify")
    def audit_verify_command():
        """Verify the audit log's hash chain; exit 1 if any record was edited, removed or inserted."""
        problems = verify_audit_chain()
        if problems:
            for problem in problems:
                click.echo(f"TAMPERED {problem}", err=True)
            click.echo(f"Audit log verification FAILED: {len(problems)} problem(s).", err=True)
            sys.exit(1)
        from procurement.audit.models import AuditChainHead

        head = db.session.get(AuditChainHead, 1)
        click.echo(f"Audit log intact: {head.seq if head else 0} records, chain head {head.hash[:16] if head else '-'}….")

    @app.cli.command("gen-key")
    def gen_key():
        """Print a new random data-encryption key for FLASK_DATA_ENCRYPTION_KEY."""
        from cryptography.fernet import Fernet

        click.echo(Fernet.generate_key().decode())
