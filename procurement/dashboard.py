"""What each role sees on its home page."""

from datetime import timedelta

from sqlalchemy import func, select

from procurement.auth.roles import Action
from procurement.extensions import db
from procurement.rules.clock import beijing_today


def previous_login(user):
    """The login before the current one (time and address), which 等保 asks to show the user."""
    from procurement.audit.models import AuditRecord

    return db.session.execute(
        select(AuditRecord).where(AuditRecord.user_id == user.id, AuditRecord.action == "auth.login",
                                  AuditRecord.outcome == "success")
        .order_by(AuditRecord.seq.desc()).offset(1).limit(1)
    ).scalar_one_or_none()


def home_context(user) -> dict:
    from procurement.catalog import services as catalog
    from procurement.orgs import services as orgs
    from procurement.orgs.models import Organization, OrgKind, Qualification

    today = beijing_today()
    context = {"today": today, "previous_login": previous_login(user)}
    if user.may(Action.CATALOG_VIEW):
        current = catalog.default_list_for(user, today.year)
        context["catalog_list"] = current
        if current is not None:
            context["catalog_count"] = catalog.count_items(current)
    if user.may(Action.SUPPLIER_VIEW):
        suppliers = orgs.supplier_query(user)
        context["supplier_count"] = db.session.scalar(select(func.count()).select_from(suppliers.subquery()))
        soon = today + timedelta(days=30)
        context["expiring"] = db.session.execute(
            select(Qualification).join(Organization)
            .where(Organization.id.in_(suppliers.with_only_columns(Organization.id)),
                   Qualification.valid_until.between(today, soon))
            .order_by(Qualification.valid_until).limit(10)
        ).scalars().all()
        context["banned"] = orgs.banned_suppliers(user, today)
    if user.may(Action.CONTRACT_VIEW) or user.may(Action.OWN_CONTRACTS_VIEW):
        from contracts.models import ContractState
        from contracts.services import contract_query

        query = contract_query(user).subquery()
        counts = {ContractState(state): n for state, n in
                  db.session.execute(select(query.c.state, func.count()).group_by(query.c.state))}
        context["contract_counts"] = [(state, counts[state]) for state in ContractState if state in counts]
        context["contract_total"] = sum(counts.values())
    if user.may(Action.SUPERVISION_VIEW) or user.may(Action.RECTIFICATION_ANSWER):
        from procurement.oversight.services import open_notices

        context["rectifications"], context["rectifications_overdue"] = open_notices(user, today, limit=8)
    if user.may(Action.PAYMENT_VIEW):
        from evaluation.payments import home_totals

        context["payment_totals"] = home_totals(user, today)
    if user.may(Action.OWN_ORG_VIEW):
        context["organization"] = user.organization
        context["is_supplier"] = user.organization.kind == OrgKind.SUPPLIER
    return context
