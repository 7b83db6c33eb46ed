"""The audit log's hash chain: every kind of tampering is found, with its kind and sequence number."""

from dataclasses import replace

import pytest

from procurement.rules.hashchain import GENESIS_HASH, ChainProblem, ChainRecord, record_hash, verify_chain

FIELDS = ("seq", "at", "user_id", "username", "ip", "action", "object_type", "object_id", "outcome", "detail")
N = 5


def _fields(seq: int) -> dict:
    return {
        "seq": seq,
        "at": f"2026-11-28T23:3{seq}:00+00:00",
        "user_id": 10 + seq,
        "username": f"user{seq}",
        "ip": f"10.0.0.{seq}",
        "action": "catalog.item_update",
        "object_type": "catalog_item",
        "object_id": str(100 + seq),
        "outcome": "success",
        "detail": {"price": "45.00", "n": seq},
    }


def _link(seq: int, prev_hash: str, fields: dict) -> ChainRecord:
    return ChainRecord(seq, prev_hash, record_hash(prev_hash, fields), fields)


def build_chain(n: int = N) -> list[ChainRecord]:
    chain, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        rec = _link(seq, prev, _fields(seq))
        chain.append(rec)
        prev = rec.hash
    return chain


def verify(chain, head_seq=N, head_hash=None):
    if head_hash is None:
        head_hash = build_chain()[-1].hash
    return verify_chain(chain, head_seq, head_hash)


ALTERED_VALUES = {
    "seq": 99,
    "at": "2026-11-29T00:00:00+00:00",
    "user_id": 999,
    "username": "someone-else",
    "ip": "192.168.1.1",
    "action": "catalog.item_create",
    "object_type": "user",
    "object_id": "999",
    "outcome": "failure",
    "detail": {"price": "4500.00"},
}


def test_an_intact_chain_verifies():
    assert verify(build_chain()) == []


def test_an_empty_log_with_an_empty_head_verifies():
    assert verify_chain([], 0, GENESIS_HASH) == []


def test_the_hash_covers_the_previous_hash_and_every_field():
    fields = _fields(1)
    assert record_hash("a" * 64, fields) != record_hash("b" * 64, fields)
    for name in FIELDS:
        assert record_hash(GENESIS_HASH, {**fields, name: ALTERED_VALUES[name]}) != record_hash(GENESIS_HASH, fields), name


def test_the_hash_does_not_depend_on_key_order():
    fields = _fields(1)
    assert record_hash(GENESIS_HASH, dict(reversed(list(fields.items())))) == record_hash(GENESIS_HASH, fields)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("position", range(N))
def test_altering_any_field_of_any_record_is_found_on_that_record(field, position):
    chain = build_chain()
    target = chain[position]
    chain[position] = replace(target, fields={**target.fields, field: ALTERED_VALUES[field]})
    assert verify(chain) == [ChainProblem(position + 1, "altered")]


@pytest.mark.parametrize("position", range(N))
def test_altering_a_record_and_recomputing_its_hash_breaks_the_link_to_the_next(position):
    chain = build_chain()
    target = chain[position]
    forged = _link(target.seq, target.prev_hash, {**target.fields, "outcome": "failure"})
    chain[position] = forged
    expected = ChainProblem(position + 2, "broken_link") if position < N - 1 else ChainProblem(N, "head_mismatch")
    assert verify(chain) == [expected]


@pytest.mark.parametrize("position", range(N))
def test_altering_the_stored_previous_hash_is_found(position):
    chain = build_chain()
    chain[position] = replace(chain[position], prev_hash="f" * 64)
    seq = position + 1
    assert verify(chain) == [ChainProblem(seq, "broken_link"), ChainProblem(seq, "altered")]


# (description, how the attacker changes the list of records, the problems expected)
TAMPERING = [
    ("delete the first record", lambda c: c[1:], [ChainProblem(1, "missing"), ChainProblem(2, "broken_link")]),
    ("delete a middle record", lambda c: c[:2] + c[3:], [ChainProblem(3, "missing"), ChainProblem(4, "broken_link")]),
    ("delete two middle records", lambda c: c[:1] + c[3:],
     [ChainProblem(2, "missing"), ChainProblem(3, "missing"), ChainProblem(4, "broken_link")]),
    ("delete the last record", lambda c: c[:-1], [ChainProblem(N, "head_mismatch")]),
    ("delete the last two records", lambda c: c[:-2], [ChainProblem(N, "head_mismatch")]),
    ("delete every record", lambda c: [], [ChainProblem(N, "head_mismatch")]),
    ("append a forged record with a valid hash",
     lambda c: c + [_link(N + 1, c[-1].hash, _fields(N + 1))], [ChainProblem(N + 1, "head_mismatch")]),
    ("replace a middle record by a forged one with a valid hash",
     lambda c: c[:2] + [_link(3, c[1].hash, {**_fields(3), "username": "mallory"})] + c[3:],
     [ChainProblem(4, "broken_link")]),
    ("insert a forged record with a duplicate seq",
     lambda c: c[:2] + [_link(3, c[1].hash, _fields(3) | {"detail": {}})] + c[2:],
     [ChainProblem(3, "broken_link")]),
    ("insert a forged record and renumber the later ones",
     lambda c: c[:2] + [_link(3, c[1].hash, _fields(3) | {"detail": {}})]
     + [replace(r, seq=r.seq + 1, fields={**r.fields, "seq": r.seq + 1}) for r in c[2:]],
     [ChainProblem(4, "broken_link"), ChainProblem(4, "altered"), ChainProblem(5, "altered"),
      ChainProblem(6, "altered"), ChainProblem(6, "head_mismatch")]),
    ("swap the seq of two records (reorder)",
     lambda c: c[:1] + [replace(c[2], seq=2, fields={**c[2].fields, "seq": 2}),
                        replace(c[1], seq=3, fields={**c[1].fields, "seq": 3})] + c[3:],
     [ChainProblem(2, "broken_link"), ChainProblem(2, "altered"), ChainProblem(3, "broken_link"),
      ChainProblem(3, "altered"), ChainProblem(4, "broken_link")]),
    ("swap the timestamps of two records",
     lambda c: c[:1] + [replace(c[1], fields={**c[1].fields, "at": c[2].fields["at"]}),
                        replace(c[2], fields={**c[2].fields, "at": c[1].fields["at"]})] + c[3:],
     [ChainProblem(2, "altered"), ChainProblem(3, "altered")]),
]


@pytest.mark.parametrize("tamper, expected", [t[1:] for t in TAMPERING], ids=[t[0] for t in TAMPERING])
def test_tampering_is_found_with_the_right_kind_and_seq(tamper, expected):
    assert verify(tamper(build_chain())) == expected


def test_a_changed_chain_head_is_found():
    chain = build_chain()
    assert verify(chain, head_seq=N, head_hash="e" * 64) == [ChainProblem(N, "head_mismatch")]
    assert verify(chain, head_seq=N + 3) == [ChainProblem(N + 3, "head_mismatch")]


def test_without_a_head_only_the_records_themselves_are_checked():
    chain = build_chain()[:-1]
    assert verify_chain(chain) == []
    assert verify_chain(chain[:1] + chain[2:]) == [ChainProblem(2, "missing"), ChainProblem(3, "broken_link")]


def test_a_problem_reads_with_its_seq_and_kind():
    assert str(ChainProblem(7, "altered")) == "seq 7: altered"
