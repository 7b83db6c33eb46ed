"""Human-readable names for the audit log's action codes, outcomes and chain problems."""

from flask_babel import lazy_gettext as _l

#: Labels of the action codes passed to ``append_audit`` across the application.  An action
#: without a label is shown by its code alone, so a new action never breaks the log pages.
ACTION_LABELS = {
    "auth.login": _l("Log in"),
    "auth.logout": _l("Log out"),
    "auth.session_end": _l("Session ended"),
    "user.create": _l("User account created"),
    "user.password_change": _l("Password changed"),
    "user.password_reset": _l("Password reset"),
    "user.totp_enrol": _l("Second factor enrolled"),
    "user.totp_reset": _l("Second factor reset"),
    "user.update": _l("User account changed"),
    "user.disable": _l("User account disabled"),
    "user.enable": _l("User account enabled"),
    "user.role_assign": _l("Role assigned"),
    "user.unlock": _l("User account unlocked"),
    "user.sessions_revoke": _l("User sessions ended"),
    "settings.change": _l("Setting changed"),
    "orgs.region_create": _l("Region created"),
    "orgs.region_rename": _l("Region renamed"),
    "orgs.organization_create": _l("Organization created"),
    "orgs.organization_update": _l("Organization changed"),
    "orgs.supplier_create": _l("Supplier registered"),
    "orgs.supplier_update": _l("Supplier changed"),
    "orgs.supplier_activate": _l("Supplier reactivated"),
    "orgs.supplier_deactivate": _l("Supplier deactivated"),
    "orgs.qualification_create": _l("Supplier qualification added"),
    "orgs.qualification_update": _l("Supplier qualification changed"),
    "orgs.ban_create": _l("Supplier banned from bidding"),
    "catalog.list_create": _l("Service list created"),
    "catalog.version_create": _l("Reference list version created"),
    "catalog.list_publish": _l("Reference list version published"),
    "catalog.item_create": _l("Service item added"),
    "catalog.item_update": _l("Service item changed"),
    "catalog.item_activate": _l("Service item back in use"),
    "catalog.item_withdraw": _l("Service item withdrawn"),
    "catalog.items_adopt": _l("Items adopted from the reference list"),
    "catalog.import": _l("Service items imported from Excel"),
    "project.create": _l("Project created"),
    "project.update": _l("Project details changed"),
    "project.line_add": _l("Service item added"),
    "project.line_remove": _l("Service item removed"),
    "project.target_add": _l("Performance target added"),
    "project.target_remove": _l("Performance target removed"),
    "project.method": _l("Procurement method chosen"),
    "project.split_approval": _l("Budget adjustment or approval recorded"),
    "project.announcement": _l("Announcement recorded"),
    "project.notice": _l("Single-source notice recorded"),
    "project.invite": _l("Supplier invited"),
    "project.bid": _l("Bid recorded"),
    "project.bid_score": _l("Bid scored"),
    "project.evaluation": _l("Evaluation recorded"),
    "project.award": _l("Award recorded"),
    "project.stage": _l("Project stage changed"),
    "project.budget_create": _l("Budget line created"),
    "project.budget_update": _l("Budget line changed"),
    "calendar.year": _l("Holiday calendar year entered"),
    "calendar.day_add": _l("Holiday calendar day added"),
    "calendar.day_remove": _l("Holiday calendar day removed"),
    "template.draft": _l("Contract template draft started"),
    "template.save": _l("Contract template draft saved"),
    "template.publish": _l("Contract template version published"),
    "contract.generate": _l("Contract generated from the award"),
    "contract.update": _l("Contract terms changed"),
    "contract.prices": _l("Contract quantities and prices changed"),
    "contract.instalments": _l("Contract payment instalments changed"),
    "contract.sign": _l("Contract signed"),
    "contract.publish": _l("Contract publication recorded"),
    "contract.file": _l("Contract filing with finance recorded"),
    "contract.start": _l("Contract service started"),
    "contract.supplement": _l("Supplementary contract drafted"),
    "contract.download": _l("Contract PDF downloaded"),
    "document.issue": _l("Document issued"),
    "document.verify": _l("Document verified"),
    "beneficiary.create": _l("Beneficiary registered"),
    "beneficiary.update": _l("Beneficiary record changed"),
    "beneficiary.reveal": _l("Full personal data of a beneficiary viewed"),
    "beneficiary.assign": _l("Beneficiary assigned to a contract"),
    "beneficiary.unassign": _l("Beneficiary's assignment ended"),
    "beneficiary.assign_import": _l("Beneficiaries assigned to a contract by import"),
    "report.create": _l("Service report started"),
    "report.row_add": _l("Delivery added to a service report"),
    "report.row_remove": _l("Delivery removed from a service report"),
    "report.narrative": _l("Service report narrative saved"),
    "report.expenditure": _l("Expenditure added to a service report"),
    "report.expenditure_remove": _l("Expenditure removed from a service report"),
    "report.attachment": _l("File attached to a service report"),
    "report.submit": _l("Service report submitted"),
    "report.return": _l("Service report returned for correction"),
    "report.accept": _l("Service report accepted"),
    "report.import": _l("Delivery rows uploaded to a service report"),
    "demo.seed": _l("Demo data loaded"),
    "audit.export": _l("Audit log exported"),
    "audit.verify": _l("Audit chain verified"),
    "acceptance.create": _l("Acceptance record opened"),
    "acceptance.update": _l("Acceptance record saved"),
    "acceptance.conclude": _l("Acceptance concluded"),
    "acceptance.publish": _l("Acceptance result published"),
    "inspection.create": _l("Inspection recorded"),
    "inspection.update": _l("Inspection summary saved"),
    "inspection.call": _l("Follow-up call recorded"),
    "complaint.create": _l("Complaint recorded"),
    "complaint.close": _l("Complaint closed"),
    "finding.create": _l("Finding recorded"),
    "rectification.issue": _l("Rectification notice issued"),
    "rectification.evidence": _l("Evidence attached to a rectification answer"),
    "rectification.answer": _l("Rectification notice answered"),
    "rectification.close": _l("Rectification notice closed"),
}

#: Labels of the part of an action code before the dot (its area).
AREA_LABELS = {
    "auth": _l("Sign-in and sessions"),
    "user": _l("User accounts"),
    "catalog": _l("Service list"),
    "orgs": _l("Regions, organizations and suppliers"),
    "settings": _l("Settings"),
    "demo": _l("Demo data"),
    "audit": _l("Audit log"),
    "project": _l("Procurement projects"),
    "calendar": _l("Holiday calendar"),
    "template": _l("Contract templates"),
    "contract": _l("Contracts"),
    "document": _l("Issued documents"),
    "beneficiary": _l("Beneficiaries"),
    "report": _l("Service reports"),
    "acceptance": _l("Acceptance"),
    "inspection": _l("Inspections"),
    "complaint": _l("Complaints"),
    "finding": _l("Findings"),
    "rectification": _l("Rectification notices"),
}

OUTCOME_LABELS = {
    "success": _l("Success"),
    "failure": _l("Failure"),
    "denied": _l("Denied"),
}

#: Bootstrap badge classes by outcome.
OUTCOME_BADGES = {"success": "text-bg-success", "failure": "text-bg-danger", "denied": "text-bg-warning"}


def action_label(action: str | None):
    """The label of an action code, or None when the code has none."""
    return ACTION_LABELS.get(action or "")


def outcome_label(outcome: str | None):
    return OUTCOME_LABELS.get(outcome or "", outcome or "")


def outcome_badge(outcome: str | None) -> str:
    return OUTCOME_BADGES.get(outcome or "", "text-bg-secondary")
