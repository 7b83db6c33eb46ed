"""The audit log's hash chain (DOMAIN §9).

Each record's hash covers its own fields and the previous record's hash, so an
edited record breaks its own hash, and a deleted or inserted one breaks the
link to its neighbour.  The chain head (last sequence number and hash), kept
apart from the records, reveals a deleted tail.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

GENESIS_HASH = "0" * 64


def record_hash(prev_hash: str, fields: Mapping) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the record's fields."""
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + "\n" + canonical).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainRecord:
    seq: int
    prev_hash: str
    hash: str
    fields: Mapping


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str  # "altered", "broken_link", "missing", "head_mismatch"

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.problem}"


def verify_chain(
    records: Iterable[ChainRecord], head_seq: int | None = None, head_hash: str | None = None
) -> list[ChainProblem]:
    """Return every problem found in records given in ascending ``seq`` order."""
    problems: list[ChainProblem] = []
    expected_seq = 1
    prev = GENESIS_HASH
    last_seq, last_hash = 0, GENESIS_HASH
    for rec in records:
        if rec.seq != expected_seq:
            for missing in range(expected_seq, rec.seq):
                problems.append(ChainProblem(missing, "missing"))
        if rec.prev_hash != prev:
            problems.append(ChainProblem(rec.seq, "broken_link"))
        if record_hash(rec.prev_hash, rec.fields) != rec.hash:
            problems.append(ChainProblem(rec.seq, "altered"))
        prev = rec.hash
        expected_seq = rec.seq + 1
        last_seq, last_hash = rec.seq, rec.hash
    if head_seq is not None and (head_seq != last_seq or head_hash != last_hash):
        problems.append(ChainProblem(max(head_seq, last_seq), "head_mismatch"))
    return problems
