"""Migrations, configuration and the command line."""

import json

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from procurement import ConfigurationError, create_app
from procurement.auth.models import User
from procurement.catalog.models import CatalogItem, ListKind, ServiceList
from procurement.extensions import db
from procurement.orgs.models import Organization, OrgKind
from procurement.rules.identifiers import check_uscc
from tests.factories import make_org


def test_upgrading_an_empty_database_gives_exactly_the_models_schema(app):
    """The test database was built by running every migration; it must match the models."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def _model_checks() -> set[tuple[str, str]]:
    expected = set()
    for table in db.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, sa.CheckConstraint) and constraint.name:
                name = str(constraint.name)
                expected.add((table.name, name if name.startswith("ck_") else f"ck_{table.name}_{name}"))
    return expected


def test_the_migrations_create_every_check_constraint_of_the_models(app):
    """compare_metadata does not look at CHECK constraints: the rules they hold (states tied to their dates,
    amounts above zero) must be in a migrated database all the same."""
    inspector = sa.inspect(db.engine)
    found = {(table, check["name"]) for table in inspector.get_table_names()
             for check in inspector.get_check_constraints(table) if check.get("name")}
    expected = _model_checks()
    assert len(expected) > 40
    assert expected - found == set()


def test_production_refuses_the_development_secret_key(db_url):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"PRODUCTION": True, "SQLALCHEMY_DATABASE_URI": db_url})


def test_production_refuses_the_development_data_key_and_demo_mode(db_url):
    secret = "x" * 40
    with pytest.raises(ConfigurationError, match="DATA_ENCRYPTION_KEY"):
        create_app({"PRODUCTION": True, "SECRET_KEY": secret, "SQLALCHEMY_DATABASE_URI": db_url})
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    with pytest.raises(ConfigurationError, match="DEMO_MODE"):
        create_app({"PRODUCTION": True, "SECRET_KEY": secret, "DATA_ENCRYPTION_KEY": key, "DEMO_MODE": True,
                    "SQLALCHEMY_DATABASE_URI": db_url})
    app = create_app({"PRODUCTION": True, "SECRET_KEY": secret, "DATA_ENCRYPTION_KEY": key,
                      "SQLALCHEMY_DATABASE_URI": db_url})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_configuration_comes_from_flask_prefixed_environment(monkeypatch, db_url):
    monkeypatch.setenv("FLASK_PAGE_SIZE", "20")
    monkeypatch.setenv("FLASK_DEMO_MODE", "true")
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", db_url)
    app = create_app()
    assert app.config["PAGE_SIZE"] == 20 and app.config["DEMO_MODE"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"] == db_url


def test_seed_demo_is_idempotent_and_complete(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counts = {
        "users": db.session.scalar(select(func.count()).select_from(User)),
        "orgs": db.session.scalar(select(func.count()).select_from(Organization)),
        "items": db.session.scalar(select(func.count()).select_from(CatalogItem)),
    }
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert counts == {
        "users": db.session.scalar(select(func.count()).select_from(User)),
        "orgs": db.session.scalar(select(func.count()).select_from(Organization)),
        "items": db.session.scalar(select(func.count()).select_from(CatalogItem)),
    }
    # one demo user per role, all demo accounts
    roles = set(db.session.execute(select(User.role)).scalars())
    assert len(roles) == 7
    assert all(db.session.execute(select(User.is_demo)).scalars())
    # at least five social organizations among the suppliers, all with valid credit codes
    suppliers = db.session.execute(select(Organization).where(Organization.kind == OrgKind.SUPPLIER)).scalars().all()
    assert len([s for s in suppliers if s.org_type.value in ("social_group", "social_service", "foundation")]) >= 5
    for org in db.session.execute(select(Organization)).scalars():
        assert check_uscc(org.credit_code) == org.credit_code
    names = {o.name for o in db.session.execute(select(Organization)).scalars()}
    for expected in ("绥江县民政局", "昆明市盘龙区民政局", "文山市民政局", "绥江县财政局", "昆明市盘龙区财政局", "文山市财政局"):
        assert expected in names


def test_demo_reference_list_covers_every_category_and_target_group(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    from procurement.catalog import services

    reference = services.current_reference_list(2026)
    items = services.items_of(reference)
    assert len(items) >= 30
    assert {i.category.code for i in items} == {c.code for c in services.categories()}
    assert {g.code for i in items for g in i.target_groups} == {g.code for g in services.target_groups()}
    assert all(i.reference_price > 0 and i.standard and i.indicators for i in items)
    local_lists = db.session.execute(select(ServiceList).where(ServiceList.kind == ListKind.LOCAL)).scalars().all()
    assert {lst.region.code for lst in local_lists} == {"530626", "530103", "532601"}


def test_seed_demo_if_empty_leaves_a_used_database_alone(runner):
    from tests.factories import make_user

    make_user()
    db.session.commit()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and db.session.scalar(select(func.count()).select_from(User)) == 1


def test_init_db_is_harmless_twice(runner):
    assert runner.invoke(args=["init-db"]).exit_code == 0
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0 and "categories 0" in result.output


def test_create_user_needs_a_good_password_and_forces_a_change(runner):
    org = make_org(name="绥江县民政局")
    db.session.commit()
    weak = runner.invoke(args=["create-user", "--username", "lihua", "--name", "李华", "--role", "officer",
                               "--org", org.name, "--password", "123456"])
    assert weak.exit_code != 0
    ok = runner.invoke(args=["create-user", "--username", "lihua", "--name", "李华", "--role", "officer",
                             "--org", org.name, "--password", "Jinsha#River88"])
    assert ok.exit_code == 0, ok.output
    user = db.session.execute(select(User).where(User.username == "lihua")).scalar_one()
    assert user.must_change_password and user.role.value == "officer"
    missing_org = runner.invoke(args=["create-user", "--username", "x1", "--name", "x", "--role", "officer",
                                      "--org", "不存在的单位", "--password", "Jinsha#River88"])
    assert missing_org.exit_code != 0 and "不存在的单位" in missing_org.output


def test_check_reports_fonts_harfbuzz_and_database(runner, client):
    result = runner.invoke(args=["check"])
    report = json.loads(result.output)
    assert result.exit_code == 0, result.output
    assert report["checks"]["fonts"]["ok"] and report["checks"]["harfbuzz_subset"]["ok"]
    assert report["checks"]["database"]["ok"] and report["checks"]["database"]["revision"] == report["checks"]["database"]["head"]
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["status"] == "ok"


def test_healthz_fails_when_the_schema_is_behind(app, client):
    from sqlalchemy import text

    with db.engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["checks"]["database"]["ok"] is False
    finally:  # PostgreSQL keeps alembic_version between tests
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
