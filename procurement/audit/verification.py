"""Verifying the hash chain from the web: run it, record the outcome, and say what was found."""

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from procurement.audit.models import AuditChainHead, AuditRecord
from procurement.audit.services import Actor, append_audit, verify_audit_chain
from procurement.extensions import db

#: At most this many runs of problems are kept in the audit record of a verification.
MAX_RUNS_RECORDED = 100

#: Problem kinds in the order they are explained.
KINDS = ("missing", "broken_link", "altered", "head_mismatch")

KIND_LABELS = {
    "altered": _l("Altered"),
    "broken_link": _l("Broken link"),
    "missing": _l("Missing"),
    "head_mismatch": _l("Chain head mismatch"),
}


@dataclass(frozen=True)
class ProblemRun:
    """One kind of problem on consecutive records ``first``..``last``."""

    kind: str
    first: int
    last: int

    @property
    def label(self):
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def message(self) -> str:
        return describe(self)


def summarize(problems) -> list[ProblemRun]:
    """Merge problems of one kind on consecutive records, so a deleted range reads as one line."""
    by_kind: dict[str, list[int]] = {}
    for problem in problems:
        by_kind.setdefault(problem.problem, []).append(problem.seq)
    runs = []
    for kind, seqs in by_kind.items():
        seqs = sorted(set(seqs))
        first = prev = seqs[0]
        for seq in seqs[1:]:
            if seq != prev + 1:
                runs.append(ProblemRun(kind, first, prev))
                first = seq
            prev = seq
        runs.append(ProblemRun(kind, first, prev))
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(runs, key=lambda r: (r.first, order.get(r.kind, len(order))))


def describe(run: ProblemRun) -> str:
    """The problem in plain language."""
    single = run.first == run.last
    if run.kind == "altered":
        if single:
            return _("Record %(seq)s has been altered: its contents no longer match its hash.", seq=run.first)
        return _("Records %(first)s to %(last)s have been altered: their contents no longer match their hashes.",
                 first=run.first, last=run.last)
    if run.kind == "broken_link":
        if single:
            return _("Record %(seq)s no longer links to the record before it: a record before it was deleted, "
                     "inserted or replaced.", seq=run.first)
        return _("Records %(first)s to %(last)s no longer link to the records before them: records were deleted, "
                 "inserted or replaced.", first=run.first, last=run.last)
    if run.kind == "missing":
        if single:
            return _("Record %(seq)s is missing: it has been deleted.", seq=run.first)
        return _("Records %(first)s to %(last)s are missing: they have been deleted.", first=run.first, last=run.last)
    if run.kind == "head_mismatch":
        return _("The log does not end where the chain head says (record %(seq)s): the newest records were deleted, "
                 "or records were added or changed outside the application.", seq=run.last)
    return _("Record %(seq)s: %(problem)s.", seq=run.first, problem=run.kind)


def runs_from_detail(detail: dict) -> list[ProblemRun]:
    """The runs kept in the audit record of a verification."""
    runs = []
    for item in (detail or {}).get("runs", []):
        try:
            kind, first, last = item
            runs.append(ProblemRun(str(kind), int(first), int(last)))
        except (TypeError, ValueError):
            continue
    return runs


def verify_and_record(actor: Actor) -> AuditRecord:
    """Verify the whole chain and append the outcome to it ("audit.verify"); returns that record."""
    head = db.session.get(AuditChainHead, 1)
    checked = head.seq if head is not None else 0
    problems = verify_audit_chain()
    runs = summarize(problems)
    detail = {
        "intact": not problems,
        "records": checked,
        "problems": len(problems),
        "runs": [[r.kind, r.first, r.last] for r in runs[:MAX_RUNS_RECORDED]],
        "runs_total": len(runs),
    }
    return append_audit(actor, "audit.verify", outcome="failure" if problems else "success", detail=detail)


def latest_verifications(limit: int = 10) -> list[AuditRecord]:
    return list(db.session.execute(
        select(AuditRecord).where(AuditRecord.action == "audit.verify").order_by(AuditRecord.seq.desc()).limit(limit)
    ).scalars())
