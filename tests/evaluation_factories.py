"""Factories of the evaluation area: a published scheme, sheets scored and finalized."""

from decimal import Decimal

from evaluation import services
from evaluation.models import Indicator, Scheme, Sheet, SheetKind, Stage
from procurement.extensions import db
from tests.project_factories import actor


def published_scheme() -> Scheme:
    """The newest published scheme: the shipped default, which the reference data loads into every test database
    (stored again here when a test has none)."""
    from evaluation.scheme_services import ensure_default_scheme

    ensure_default_scheme()
    return services.newest_scheme()


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
