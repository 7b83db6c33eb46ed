"""The stored audit chain: the database refuses changes, and changes made around it are detected."""

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from procurement.audit.models import AuditChainHead, AuditRecord
from procurement.audit.services import Actor, append_audit, verify_audit_chain
from procurement.audit.verification import ProblemRun, summarize, verify_and_record
from procurement.auth.roles import Role
from procurement.extensions import db
from procurement.rules.hashchain import GENESIS_HASH, ChainProblem
from tests.factories import make_user

N = 5


def _records() -> list[AuditRecord]:
    return list(db.session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars())


@pytest.fixture
def log():
    """Five real records, committed; returns the officer who made them."""
    officer = make_user(Role.OFFICER)
    actor = Actor(officer, "10.1.2.3")
    append_audit(actor, "auth.login", officer, detail={"session": "abcd1234"})
    for n in range(2, N):
        append_audit(actor, "catalog.item_update", object_type="catalog_item", object_id=n,
                     detail={"reference_price": [f"{n}0.00", f"{n}5.00"]})
    append_audit(actor, "auth.logout", officer, detail={"reason": "logout"})
    db.session.commit()
    assert [r.seq for r in _records()] == list(range(1, N + 1))
    return officer


def _as_attacker():
    """What someone with direct database access can do: switch the append-only triggers off."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ALTER TABLE audit_record DISABLE TRIGGER USER"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_record_no_update"))
        db.session.execute(sa.text("DROP TRIGGER audit_record_no_delete"))


def test_appends_in_separate_transactions_get_consecutive_seqs_and_link(app):
    actor = Actor(make_user(Role.OFFICER), "10.0.0.9")
    first = append_audit(actor, "auth.login")
    db.session.commit()
    first_seq, first_hash = first.seq, first.hash
    db.session.expire_all()
    second = append_audit(actor, "auth.logout", detail={"reason": "logout"})
    db.session.commit()
    assert second.seq == first_seq + 1
    assert second.prev_hash == first_hash
    head = db.session.get(AuditChainHead, 1)
    assert (head.seq, head.hash) == (second.seq, second.hash)
    assert verify_audit_chain() == []


def test_the_first_record_links_to_the_genesis_hash(app):
    record = append_audit(Actor(None, "cli"), "demo.seed")
    db.session.commit()
    assert (record.seq, record.prev_hash) == (1, GENESIS_HASH)


def test_a_record_appended_in_a_rolled_back_transaction_leaves_no_gap(app, log):
    append_audit(Actor(log, "10.1.2.3"), "catalog.item_update")
    db.session.rollback()
    record = append_audit(Actor(log, "10.1.2.3"), "catalog.item_update")
    db.session.commit()
    assert record.seq == N + 1
    assert verify_audit_chain() == []


@pytest.mark.parametrize("statement", [
    "UPDATE audit_record SET detail = '{}' WHERE seq = 2",
    "UPDATE audit_record SET outcome = 'failure'",
    "DELETE FROM audit_record WHERE seq = 3",
    "DELETE FROM audit_record",
])
def test_the_database_refuses_to_change_or_delete_audit_records(app, log, statement):
    before = [(r.seq, r.hash, r.detail) for r in _records()]
    with pytest.raises(sa.exc.DBAPIError, match="audit records are append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    db.session.expire_all()
    assert [(r.seq, r.hash, r.detail) for r in _records()] == before


def test_the_database_refuses_an_edit_through_the_orm(app, log):
    record = _records()[1]
    record.detail = {"reference_price": ["0.01", "0.01"]}
    with pytest.raises(sa.exc.DBAPIError, match="audit records are append-only"):
        db.session.flush()
    db.session.rollback()


def test_postgresql_refuses_truncate(app, log):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    with pytest.raises(sa.exc.DBAPIError, match="audit records are append-only"):
        db.session.execute(sa.text("TRUNCATE audit_record"))
    db.session.rollback()


def test_audit_verify_passes_on_an_intact_log(runner, log):
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    assert f"Audit log intact: {N} records" in result.output


# (what the attacker does with the triggers off, what `audit-verify` must report)
ATTACKS = [
    ("edit the detail of a record", "UPDATE audit_record SET detail = '{\"reference_price\": [\"20.00\", \"2.50\"]}' WHERE seq = 2",
     ["seq 2: altered"]),
    ("edit who did it", "UPDATE audit_record SET username = 'someone-else' WHERE seq = 3", ["seq 3: altered"]),
    ("move a record in time", "UPDATE audit_record SET at = '2020-01-01 00:00:00' WHERE seq = 4", ["seq 4: altered"]),
    ("delete a middle record", "DELETE FROM audit_record WHERE seq = 3", ["seq 3: missing", "seq 4: broken_link"]),
    ("delete the last record", f"DELETE FROM audit_record WHERE seq = {N}", [f"seq {N}: head_mismatch"]),
    ("delete every record", "DELETE FROM audit_record", [f"seq {N}: head_mismatch"]),
]


@pytest.mark.parametrize("statement, reported", [a[1:] for a in ATTACKS], ids=[a[0] for a in ATTACKS])
def test_audit_verify_finds_what_an_attacker_with_database_access_changed(runner, log, statement, reported):
    _as_attacker()
    assert db.session.execute(sa.text(statement)).rowcount >= 1
    db.session.commit()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1, result.output
    for line in reported:
        assert f"TAMPERED {line}" in result.output
    assert f"FAILED: {len(reported)} problem(s)" in result.output


def test_appending_after_tampering_does_not_hide_it(app, log):
    _as_attacker()
    db.session.execute(sa.text(f"DELETE FROM audit_record WHERE seq = {N}"))
    db.session.commit()
    append_audit(Actor(log, "10.1.2.3"), "auth.login", log)
    db.session.commit()
    assert verify_audit_chain() == [ChainProblem(N, "missing"), ChainProblem(N + 1, "broken_link")]


def test_verification_is_recorded_with_its_outcome(app, log):
    record = verify_and_record(Actor(log, "10.1.2.3"))
    db.session.commit()
    assert (record.action, record.outcome, record.seq) == ("audit.verify", "success", N + 1)
    assert record.detail == {"intact": True, "records": N, "problems": 0, "runs": [], "runs_total": 0}

    _as_attacker()
    db.session.execute(sa.text("DELETE FROM audit_record WHERE seq IN (2, 3)"))
    db.session.execute(sa.text("UPDATE audit_record SET ip = '6.6.6.6' WHERE seq = 4"))
    db.session.commit()
    record = verify_and_record(Actor(log, "10.1.2.3"))
    db.session.commit()
    assert record.outcome == "failure"
    assert record.detail["problems"] == 4
    assert record.detail["runs"] == [["missing", 2, 3], ["broken_link", 4, 4], ["altered", 4, 4]]


def test_consecutive_problems_of_one_kind_read_as_one_range():
    problems = [ChainProblem(s, "missing") for s in range(2, 1002)] + [ChainProblem(1002, "broken_link"),
                                                                        ChainProblem(1005, "altered"),
                                                                        ChainProblem(1007, "altered")]
    assert summarize(problems) == [ProblemRun("missing", 2, 1001), ProblemRun("broken_link", 1002, 1002),
                                   ProblemRun("altered", 1005, 1005), ProblemRun("altered", 1007, 1007)]
