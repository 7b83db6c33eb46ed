"""The evaluation sheet's PDF and the bulk zip of sheets.

Targets from the issue, reported here and not asserted:

- ``evaluation_pdf_median`` ≤ 0.35 s (20 renders of a three-evaluator sheet in one warm process, context included);
- ``evaluation_pdf_ratio``: a whole render ÷ its layout alone (medians), like ``contract_pdf_ratio``;
- ``bulk_zip_100`` ≤ 40 s: 100 finalized sheets with stored PDFs → ``start_bulk`` → the huey task in immediate
  mode → the zip in the file store, end to end.
"""

import hashlib
import statistics
import time
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from bench.contracts import _demo_contract
from bench.pages import bench_app
from procurement.audit.services import Actor
from procurement.auth.models import User
from procurement.extensions import db

RENDERS = 20
BULK_SHEETS = 100
FINALIZED_AT = datetime(2026, 10, 9, 2, 30, tzinfo=UTC)
EVALUATORS = ("李明", "张华", "王芳")


def _scheme():
    from evaluation.models import Scheme, SchemeState
    from evaluation.scheme_services import ensure_default_scheme

    ensure_default_scheme()
    return db.session.execute(select(Scheme).where(Scheme.state == SchemeState.PUBLISHED)
                              .order_by(Scheme.id)).scalars().first()


def _evaluators(officer: User) -> list[User]:
    from procurement.auth.roles import Role

    users = []
    for n, name in enumerate(EVALUATORS):
        user = User(username=f"bench-evaluator-{n}", display_name=name, organization_id=officer.organization_id,
                    role=Role.EVALUATOR, password_hash="-", must_change_password=False, active=True, failed_logins=0)
        db.session.add(user)
        users.append(user)
    db.session.flush()
    return users


def _sheet(contract, scheme, evaluators, number: int, previous=None):
    """A FINALIZED mid-term purchaser's sheet (version ``number``), every leaf at 85 percent of its points."""
    from evaluation.models import (
        ComputedScore,
        Rule,
        Score,
        Sheet,
        SheetEvaluator,
        SheetKind,
        SheetResult,
        SheetState,
        Stage,
    )
    from evaluation.scoring import grade

    sheet = Sheet(contract_id=contract.id, scheme_id=scheme.id, stage=Stage.MID_TERM, kind=SheetKind.PURCHASER,
                  period_start=date(2026, 4, 1), period_end=date(2026, 9, 30), state=SheetState.SCORING,
                  number=number, previous_id=previous.id if previous else None,
                  correction_reason="基准测试更正" if previous else None)
    db.session.add(sheet)
    db.session.flush()
    rows = [SheetEvaluator(sheet_id=sheet.id, user_id=user.id, declared_at=FINALIZED_AT,
                           declaration=f"本人{user.display_name}与被评价单位无利害关系。", submitted_at=FINALIZED_AT,
                           total=Decimal(0)) for user in evaluators]
    db.session.add_all(rows)
    db.session.flush()
    total = Decimal(0)
    for leaf in (i for i in scheme.indicators if i.rule is not None):
        points = (leaf.max_points * Decimal("0.85")).quantize(Decimal("0.01"))
        if leaf.rule == Rule.MANUAL:
            db.session.add_all(Score(evaluator_id=row.id, indicator_id=leaf.id, points=points, comment="基本达标")
                               for row in rows)
        else:
            db.session.add(ComputedScore(sheet_id=sheet.id, indicator_id=leaf.id, points=points,
                                         inputs={"numerator": 17, "denominator": 20, "rate": "85.00"}))
        for row in rows:
            row.total += points
        db.session.add(SheetResult(sheet_id=sheet.id, indicator_id=leaf.id, points=points))
        total += points
    sheet.total, sheet.grade, sheet.state, sheet.finalized_at = total, grade(total), SheetState.FINALIZED, FINALIZED_AT
    db.session.flush()
    return sheet


def _timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def evaluation_pdf(_requests: int):
    from contracts import pdf
    from contracts.models import IssuedDocument
    from evaluation import bulk, documents
    from procurement import tasks

    with bench_app() as app:
        contract = _demo_contract()
        officer = db.session.execute(select(User).where(User.username == "officer")).scalar_one()
        actor = Actor(officer, "bench")
        scheme, evaluators = _scheme(), _evaluators(officer)
        sheet = _sheet(contract, scheme, evaluators, 1)
        document = documents.issue_sheet_document(sheet, actor)
        db.session.commit()
        renders = [_timed(documents.render_sheet, sheet)[0] for _ in range(RENDERS)]
        context = documents.sheet_context(sheet)
        html, css = documents.sheet_html(context), documents.stylesheet()
        whole, layout = [], []
        for _ in range(RENDERS):  # alternated, so a slower moment of the machine weighs on both
            whole.append(_timed(pdf.html_to_pdf, html, css, context)[0])
            layout.append(_timed(pdf.layout_only, html, css)[0])
        pages = documents.render_context(context).pages

        # 100 finalized sheets, each with its own stored PDF (the issued one, made distinct by a trailing comment)
        previous, ids = sheet, [sheet.id]
        base = document.pdf
        for number in range(2, BULK_SHEETS + 1):
            previous = _sheet(contract, scheme, evaluators, number, previous)
            data = base + f"\n% bench copy {number}\n".encode()
            issued = IssuedDocument(kind="evaluation", reference=f"{document.reference[:-2]}-{number}", title="基准",
                                    sha256=hashlib.sha256(data).hexdigest(), size=len(data), pdf=data,
                                    context={"sheet_id": previous.id}, issued_at=FINALIZED_AT)
            db.session.add(issued)
            db.session.flush()
            previous.document_id = issued.id
            ids.append(previous.id)
        db.session.commit()
        app.config["HUEY_IMMEDIATE"] = True
        tasks.huey.immediate = True
        started = time.perf_counter()
        job = bulk.start_bulk(actor, ids)
        db.session.commit()
        tasks.build_bulk_zip(job.id)
        db.session.expire_all()
        job = db.session.get(type(job), job.id)
        assert job.state == bulk.DONE and job.processed == BULK_SHEETS, (job.state, job.message)
        zipped = time.perf_counter() - started
        return [f"BENCH evaluation_pdf_median {statistics.median(renders):.3f} s",
                f"BENCH evaluation_pdf_ratio {statistics.median(whole) / statistics.median(layout):.2f} x",
                f"BENCH evaluation_pdf_pages {pages} pages",
                f"BENCH bulk_zip_100 {zipped:.3f} s"]
