"""Factories of the evaluation area: a published scheme, sheets scored and finalized."""

from decimal import Decimal

from sqlalchemy import select

from evaluation import services
from evaluation.models import Indicator, Rule, Scheme, SchemeState, Sheet, SheetKind, Stage
from evaluation.schemes import DEFAULT_SCHEME, scheme_to_rows
from procurement.extensions import db
from procurement.rules.clock import utcnow
from tests.project_factories import actor


def published_scheme() -> Scheme:
    """The newest published scheme; stores :data:`DEFAULT_SCHEME` as one when none exists (idempotent)."""
    existing = services.newest_scheme()
    if existing is not None:
        return existing
    number = (db.session.scalar(select(Scheme.number).where(Scheme.code == "DEFAULT").order_by(
        Scheme.number.desc()).limit(1)) or 0) + 1
    scheme = Scheme(code="DEFAULT", name="社会救助服务绩效评价指标体系", number=number, state=SchemeState.PUBLISHED,
                    published_at=utcnow(), created_at=utcnow())
    db.session.add(scheme)
    db.session.flush()
    by_code = {}
    for row in scheme_to_rows(DEFAULT_SCHEME):
        rule = Rule(row["rule"]) if row["rule"] else None
        indicator = Indicator(scheme_id=scheme.id, parent_id=by_code[row["parent_code"]].id if row["parent_code"] else None,
                              level=row["level"], position=row["position"], code=row["code"], name=row["name"],
                              max_points=row["max_points"], rule=rule, evidence=row["evidence"], bands=row["bands"])
        db.session.add(indicator)
        db.session.flush()
        by_code[row["code"]] = indicator
    db.session.refresh(scheme, ["indicators"])
    return scheme


def indicator(scheme: Scheme, code: str) -> Indicator:
    return next(i for i in scheme.indicators if i.code == code)


def full_marks(sheet: Sheet, minus: Decimal = Decimal(0)) -> dict:
    """Entries for save_scores: full marks on every manual leaf, less ``minus`` on the first one (with a comment)."""
    entries = {}
    for n, leaf in enumerate(services.manual_leaves(sheet.scheme)):
        points = leaf.max_points - (minus if n == 0 else 0)
        entries[leaf.id] = (str(points), "扣分说明" if points < leaf.max_points else "")
    return entries


def score_and_submit(sheet: Sheet, user, minus: Decimal = Decimal(0)) -> None:
    evaluator = services.evaluator_of(user, sheet)
    services.declare(evaluator, True, actor(user))
    services.save_scores(evaluator, full_marks(sheet, minus), actor(user))
    services.submit_scores(evaluator, actor(user))


def scoring_sheet(contract, officer, evaluators, kind=SheetKind.PURCHASER, stage=Stage.FINAL, today=None,
                  period=None):
    """A sheet in scoring with ``evaluators`` assigned; computed leaves overridden to full marks when not computable."""
    from datetime import date

    published_scheme()
    start, end = period or (contract.term_start, contract.term_end)
    sheet = services.open_sheet(contract, stage, kind, start, end, actor(officer))
    for user in evaluators:
        services.assign_evaluator(sheet, user, actor(officer))
    services.start_scoring(sheet, actor(officer), today or date(2027, 4, 15))
    for computed in sheet.computed:
        if services.not_computable(computed):
            leaf = db.session.get(Indicator, computed.indicator_id)
            services.override(computed, str(leaf.max_points), "无法计算，按核查情况给分", actor(officer))
    return sheet
