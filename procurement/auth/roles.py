"""Roles and what each may do (DOMAIN §1).

The permission table is data, checked by :func:`procurement.auth.permissions.require`
in views and by the same predicates in templates.
"""

import enum

from flask_babel import lazy_gettext as _l


class Role(enum.StrEnum):
    OFFICER = "officer"
    SUPPLIER = "supplier"
    FINANCE = "finance"
    EVALUATOR = "evaluator"
    SYSADMIN = "sysadmin"
    SECADMIN = "secadmin"
    AUDITADMIN = "auditadmin"

    @property
    def label(self):
        return ROLE_LABELS[self]

    @property
    def is_admin(self) -> bool:
        return self in ADMIN_ROLES


ROLE_LABELS = {
    Role.OFFICER: _l("Procurement officer"),
    Role.SUPPLIER: _l("Supplier user"),
    Role.FINANCE: _l("Finance officer"),
    Role.EVALUATOR: _l("Evaluator"),
    Role.SYSADMIN: _l("System administrator"),
    Role.SECADMIN: _l("Security administrator"),
    Role.AUDITADMIN: _l("Audit administrator"),
}

ADMIN_ROLES = frozenset({Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN})

#: Roles that must use a second factor (TOTP) when enforcement is on.
MFA_ROLES = frozenset({Role.OFFICER, Role.FINANCE, Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN})


class Action(enum.StrEnum):
    CATALOG_VIEW = "catalog.view"
    CATALOG_EDIT = "catalog.edit"  # the county's own list; the reference list for provincial officers
    CATALOG_IMPORT = "catalog.import"
    NEGATIVE_LIST_VIEW = "negative_list.view"
    REGION_VIEW = "region.view"
    REGION_EDIT = "region.edit"
    ORG_VIEW = "org.view"  # bureaus, finance bureaus, evaluation agencies
    ORG_EDIT = "org.edit"
    SUPPLIER_VIEW = "supplier.view"
    SUPPLIER_EDIT = "supplier.edit"
    SUPPLIER_BAN = "supplier.ban"
    OWN_ORG_VIEW = "own_org.view"
    USER_MANAGE = "user.manage"  # system admin: accounts
    ROLE_ASSIGN = "role.assign"  # security admin: roles, unlocks, second factors
    SETTINGS_SYSTEM = "settings.system"
    SETTINGS_SECURITY = "settings.security"
    PROJECT_VIEW = "project.view"  # projects of the user's region
    PROJECT_EDIT = "project.edit"
    BUDGET_VIEW = "budget.view"
    BUDGET_EDIT = "budget.edit"
    DEADLINES_VIEW = "deadlines.view"
    OWN_BIDS_VIEW = "own_bids.view"  # a supplier: the purchases it was invited to or bid in, its own bid only
    CALENDAR_VIEW = "calendar.view"
    CALENDAR_EDIT = "calendar.edit"
    CONTRACT_VIEW = "contract.view"  # contracts of the user's region
    CONTRACT_EDIT = "contract.edit"
    OWN_CONTRACTS_VIEW = "own_contracts.view"  # a supplier: its own signed contracts
    TEMPLATE_EDIT = "template.edit"  # contract templates and their versions
    BENEFICIARY_VIEW = "beneficiary.view"  # the registry of the user's region
    BENEFICIARY_EDIT = "beneficiary.edit"  # register, change, assign to contracts
    BENEFICIARY_REVEAL = "beneficiary.reveal"  # full ID number and health notes, one record at a time, audited
    ASSIGNED_BENEFICIARIES_VIEW = "assigned_beneficiaries.view"  # a supplier: those assigned to its running contracts
    REPORT_WRITE = "report.write"  # a supplier: service reports of its running contracts
    REPORT_REVIEW = "report.review"  # an officer: return or accept them
    SUPERVISION_VIEW = "supervision.view"  # inspections, complaints, findings, rectifications of the region
    SUPERVISION_EDIT = "supervision.edit"  # an officer: inspect, record complaints, issue and close rectifications
    RECTIFICATION_ANSWER = "rectification.answer"  # a supplier: answer the notices about its own contracts
    ACCEPTANCE_EDIT = "acceptance.edit"  # an officer: the acceptance record of a contract
    SCHEME_VIEW = "scheme.view"  # published evaluation schemes
    SCHEME_EDIT = "scheme.edit"  # a system admin: clone, edit and publish evaluation schemes
    EVALUATION_VIEW = "evaluation.view"  # evaluation sheets of the region's contracts (officers, finance)
    EVALUATION_MANAGE = "evaluation.manage"  # an officer: open sheets, assign evaluators, finalize, correct
    SHEET_SCORE = "sheet.score"  # score the sheets one is assigned to (evaluators; officers; a supplier: its self-evaluation)
    PAYMENT_VIEW = "payment.view"  # instalments, payable and withheld amounts of the region's contracts
    PAYMENT_RECORD = "payment.record"  # finance: record payments
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"


#: The one table of who may do what.  Administrators do no business work (三员分立).
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.OFFICER: frozenset(
        {
            Action.CATALOG_VIEW,
            Action.CATALOG_EDIT,
            Action.CATALOG_IMPORT,
            Action.NEGATIVE_LIST_VIEW,
            Action.REGION_VIEW,
            Action.ORG_VIEW,
            Action.SUPPLIER_VIEW,
            Action.SUPPLIER_EDIT,
            Action.SUPPLIER_BAN,
            Action.OWN_ORG_VIEW,
            Action.PROJECT_VIEW,
            Action.PROJECT_EDIT,
            Action.BUDGET_VIEW,
            Action.BUDGET_EDIT,
            Action.DEADLINES_VIEW,
            Action.CALENDAR_VIEW,
            Action.CONTRACT_VIEW,
            Action.CONTRACT_EDIT,
            Action.BENEFICIARY_VIEW,
            Action.BENEFICIARY_EDIT,
            Action.BENEFICIARY_REVEAL,
            Action.REPORT_REVIEW,
            Action.SUPERVISION_VIEW,
            Action.SUPERVISION_EDIT,
            Action.ACCEPTANCE_EDIT,
            Action.SCHEME_VIEW,
            Action.EVALUATION_VIEW,
            Action.EVALUATION_MANAGE,
            Action.SHEET_SCORE,
            Action.PAYMENT_VIEW,
        }
    ),
    Role.SUPPLIER: frozenset({Action.CATALOG_VIEW, Action.NEGATIVE_LIST_VIEW, Action.OWN_ORG_VIEW, Action.OWN_BIDS_VIEW,
                              Action.OWN_CONTRACTS_VIEW, Action.ASSIGNED_BENEFICIARIES_VIEW, Action.REPORT_WRITE,
                              Action.RECTIFICATION_ANSWER, Action.SHEET_SCORE}),
    Role.FINANCE: frozenset(
        {Action.CATALOG_VIEW, Action.NEGATIVE_LIST_VIEW, Action.SUPPLIER_VIEW, Action.ORG_VIEW, Action.OWN_ORG_VIEW,
         Action.PROJECT_VIEW, Action.BUDGET_VIEW, Action.CONTRACT_VIEW, Action.SUPERVISION_VIEW, Action.SCHEME_VIEW,
         Action.EVALUATION_VIEW, Action.PAYMENT_VIEW, Action.PAYMENT_RECORD}
    ),
    Role.EVALUATOR: frozenset({Action.CATALOG_VIEW, Action.NEGATIVE_LIST_VIEW, Action.OWN_ORG_VIEW, Action.SCHEME_VIEW,
                               Action.SHEET_SCORE}),
    Role.SYSADMIN: frozenset(
        {
            Action.USER_MANAGE,
            Action.SETTINGS_SYSTEM,
            Action.REGION_VIEW,
            Action.REGION_EDIT,
            Action.ORG_VIEW,
            Action.ORG_EDIT,
            Action.CALENDAR_VIEW,
            Action.CALENDAR_EDIT,
            Action.TEMPLATE_EDIT,
            Action.SCHEME_VIEW,
            Action.SCHEME_EDIT,
        }
    ),
    Role.SECADMIN: frozenset({Action.ROLE_ASSIGN, Action.SETTINGS_SECURITY}),
    Role.AUDITADMIN: frozenset({Action.AUDIT_VIEW, Action.AUDIT_EXPORT}),
}


def role_may(role: Role | None, action: Action) -> bool:
    return role is not None and action in PERMISSIONS.get(role, frozenset())
