"""Every route × every role: who may open what.

A route added to the app without a row here fails ``test_every_route_has_a_row``.
Object-level rules (another county's list, another supplier's record) are tested
in the area's own tests; here each role acts on objects of its own region.
"""

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from contracts.models import ContractTemplate
from contracts.services import start_draft
from evaluation.models import BulkDownload, Scheme
from evaluation.scheme_services import clone_scheme
from procurement import files
from procurement.acceptance.models import Acceptance, AcceptanceState, Conclusion
from procurement.audit.models import AuditRecord
from procurement.audit.services import Actor, append_audit
from procurement.auth.roles import Role
from procurement.beneficiaries.models import LegalBasis
from procurement.beneficiaries.services import BeneficiaryData, assign, create_beneficiary
from procurement.catalog.models import ListKind, ListStatus, TargetGroup
from procurement.db_types import utcnow
from procurement.extensions import db
from procurement.orgs.models import OrgKind, Qualification
from procurement.oversight.models import ComplaintChannel, FollowUpCall, InspectionKind, Severity
from procurement.oversight.services import (
    InspectionData,
    add_evidence,
    add_finding,
    issue_notice,
    record_complaint,
    record_inspection,
)
from procurement.projects.models import PerformanceTarget, TargetDirection
from procurement.rules.identifiers import cid_check_char
from procurement.supervision.imports import COLUMNS, run_import, start_import
from procurement.supervision.services import RowInput, add_attachment, add_expenditure, add_row, open_report
from tests.contract_factories import make_contract
from tests.factories import login_as, make_item, make_list, make_org, make_supplier, make_user, region
from tests.project_factories import invite, make_bid, make_budget_line, make_line, make_project

OFF, SUP, FIN, EVA, SYS, SEC, AUD = (Role.OFFICER, Role.SUPPLIER, Role.FINANCE, Role.EVALUATOR, Role.SYSADMIN,
                             Role.SECADMIN, Role.AUDITADMIN)
ALL = frozenset(Role)
BUSINESS = frozenset({OFF, SUP, FIN, EVA})
ANON = "anonymous"
EVERYONE = ALL | {ANON}

# endpoint -> {method: roles allowed}.  Roles not listed get 403; anonymous users are sent to the login
# page unless listed.  Special answers (redirects of the login flow) are in SPECIAL below.
MATRIX = {
    "main.home": {"GET": ALL},
    "main.healthz": {"GET": EVERYONE},
    "main.set_language": {"POST": EVERYONE},
    "auth.login": {"GET": EVERYONE, "POST": EVERYONE},
    "auth.second_factor": {"GET": EVERYONE, "POST": EVERYONE},
    "auth.enrol": {"GET": EVERYONE, "POST": EVERYONE},
    "auth.enrol_qr": {"GET": EVERYONE},
    "auth.logout": {"POST": ALL},
    "auth.change_password": {"GET": ALL, "POST": ALL},
    "catalog.index": {"GET": BUSINESS},
    "catalog.lists": {"GET": BUSINESS},
    "catalog.negative_list": {"GET": BUSINESS},
    "catalog.template": {"GET": BUSINESS},
    "catalog.item_detail": {"GET": BUSINESS},
    "catalog.export_items": {"GET": BUSINESS},
    "catalog.item_new": {"GET": {OFF}, "POST": {OFF}},
    "catalog.item_edit": {"GET": {OFF}, "POST": {OFF}},
    "catalog.item_toggle": {"POST": {OFF}},
    "catalog.list_create": {"POST": {OFF}},
    "catalog.list_version": {"POST": {OFF}},
    "catalog.list_publish": {"POST": {OFF}},
    "catalog.adopt": {"GET": {OFF}, "POST": {OFF}},
    "catalog.import_items": {"GET": {OFF}, "POST": {OFF}},
    "orgs.regions": {"GET": {OFF, SYS}},
    "orgs.region_new": {"GET": {SYS}, "POST": {SYS}},
    "orgs.region_edit": {"GET": {SYS}, "POST": {SYS}},
    "orgs.organizations": {"GET": {OFF, FIN, SYS}},
    "orgs.organization_new": {"GET": {SYS}, "POST": {SYS}},
    "orgs.organization_edit": {"GET": {SYS}, "POST": {SYS}},
    "orgs.own": {"GET": BUSINESS},
    "orgs.suppliers": {"GET": {OFF, FIN}},
    "orgs.supplier_detail": {"GET": {OFF, FIN}},
    "orgs.supplier_new": {"GET": {OFF}, "POST": {OFF}},
    "orgs.supplier_edit": {"GET": {OFF}, "POST": {OFF}},
    "orgs.supplier_active": {"POST": {OFF}},
    "orgs.supplier_qualification_new": {"GET": {OFF}, "POST": {OFF}},
    "orgs.supplier_qualification_edit": {"GET": {OFF}, "POST": {OFF}},
    "orgs.supplier_ban_new": {"GET": {OFF}, "POST": {OFF}},
    "projects.index": {"GET": {OFF, FIN}},
    "projects.new": {"GET": {OFF}, "POST": {OFF}},
    "projects.detail": {"GET": {OFF, FIN}},
    "projects.edit": {"GET": {OFF}, "POST": {OFF}},
    "projects.line_add": {"GET": {OFF}, "POST": {OFF}},
    "projects.line_remove": {"POST": {OFF}},
    "projects.target_add": {"GET": {OFF}, "POST": {OFF}},
    "projects.target_remove": {"POST": {OFF}},
    "projects.method": {"GET": {OFF}, "POST": {OFF}},
    "projects.split_approval": {"GET": {OFF}, "POST": {OFF}},
    "projects.transition": {"POST": {OFF}},
    "projects.budgets": {"GET": {OFF, FIN}},
    "projects.budget_new": {"GET": {OFF}, "POST": {OFF}},
    "projects.budget_edit": {"GET": {OFF}, "POST": {OFF}},
    "projects.announcement": {"GET": {OFF}, "POST": {OFF}},
    "projects.notice": {"GET": {OFF}, "POST": {OFF}},
    "projects.invitation_add": {"GET": {OFF}, "POST": {OFF}},
    "projects.bid_add": {"GET": {OFF}, "POST": {OFF}},
    "projects.bid_score": {"GET": {OFF}, "POST": {OFF}},
    "projects.evaluation": {"GET": {OFF}, "POST": {OFF}},
    "projects.award": {"GET": {OFF}, "POST": {OFF}},
    "projects.deadlines": {"GET": {OFF}},
    "projects.my_purchases": {"GET": {SUP}},
    "projects.my_purchase": {"GET": {SUP}},
    "projects.calendar": {"GET": {OFF, SYS}},
    "projects.calendar_year": {"GET": {SYS}, "POST": {SYS}},
    "admin.users": {"GET": {SYS}},
    "admin.user_new": {"GET": {SYS}, "POST": {SYS}},
    "admin.user_edit": {"GET": {SYS}, "POST": {SYS}},
    "admin.user_active": {"POST": {SYS}},
    "admin.user_password": {"GET": {SYS}, "POST": {SYS}},
    "admin.roles": {"GET": {SEC}},
    "admin.role_account": {"GET": {SEC}, "POST": {SEC}},
    "admin.role_unlock": {"POST": {SEC}},
    "admin.role_totp_reset": {"POST": {SEC}},
    "admin.role_sessions_revoke": {"POST": {SEC}},
    "admin.system_settings": {"GET": {SYS}, "POST": {SYS}},
    "admin.security_settings": {"GET": {SEC}, "POST": {SEC}},
    "contracts.index": {"GET": {OFF, FIN, SUP}},
    "contracts.generate": {"POST": {OFF}},
    "contracts.detail": {"GET": {OFF, FIN, SUP}},
    "contracts.edit": {"GET": {OFF}, "POST": {OFF}},
    "contracts.lines": {"GET": {OFF}, "POST": {OFF}},
    "contracts.instalments": {"GET": {OFF}, "POST": {OFF}},
    "contracts.preview": {"GET": {OFF, FIN, SUP}},
    "contracts.preview_frame": {"GET": {OFF, FIN, SUP}},
    "contracts.sign": {"GET": {OFF}, "POST": {OFF}},
    "contracts.publish": {"POST": {OFF}},
    "contracts.file": {"POST": {OFF}},
    "contracts.start": {"POST": {OFF}},
    "contracts.supplement": {"GET": {OFF}, "POST": {OFF}},
    "contracts.pdf": {"GET": {OFF, FIN, SUP}},
    "contracts.scan": {"GET": {OFF, FIN, SUP}},
    "contracts.templates": {"GET": {SYS}},
    "contracts.template_draft": {"POST": {SYS}},
    "contracts.version_view": {"GET": {SYS}},
    "contracts.version_edit": {"GET": {SYS}, "POST": {SYS}},
    "contracts.version_publish": {"POST": {SYS}},
    "contracts.version_preview_frame": {"GET": {SYS}},
    "contracts.verify": {"GET": EVERYONE, "POST": EVERYONE},
    "beneficiaries.index": {"GET": {OFF, SUP}},
    "beneficiaries.new": {"GET": {OFF}, "POST": {OFF}},
    "beneficiaries.detail": {"GET": {OFF, SUP}},
    "beneficiaries.reveal": {"POST": {OFF}},
    "beneficiaries.edit": {"GET": {OFF}, "POST": {OFF}},
    "beneficiaries.assign": {"POST": {OFF}},
    "beneficiaries.end_assignment": {"POST": {OFF}},
    "supervision.report": {"GET": {OFF, SUP, FIN}},
    "supervision.attachment": {"GET": {OFF, SUP, FIN}},
    "supervision.open": {"POST": {SUP}},
    "supervision.add_row": {"POST": {SUP}},
    "supervision.remove_row": {"POST": {SUP}},
    "supervision.narrative": {"POST": {SUP}},
    "supervision.add_expenditure": {"POST": {SUP}},
    "supervision.remove_expenditure": {"POST": {SUP}},
    "supervision.attach": {"POST": {SUP}},
    "supervision.submit": {"POST": {SUP}},
    "supervision.return_report": {"POST": {OFF}},
    "supervision.accept": {"POST": {OFF}},
    "supervision.import_template": {"GET": {SUP}},
    "supervision.import_rows": {"POST": {SUP}},
    "supervision.import_job": {"GET": {OFF, SUP, FIN}},
    "supervision.import_errors": {"GET": {OFF, SUP, FIN}},
    "audit.index": {"GET": {AUD}},
    "audit.detail": {"GET": {AUD}},
    "audit.export_csv": {"GET": {AUD}},
    "audit.export_xlsx": {"GET": {AUD}},
    "audit.verify": {"GET": {AUD}, "POST": {AUD}},
    "acceptance.record": {"GET": {OFF, SUP, FIN}},
    "acceptance.open": {"POST": {OFF}},
    "acceptance.edit": {"POST": {OFF}},
    "acceptance.conclude": {"POST": {OFF}},
    "acceptance.publish": {"POST": {OFF}},
    "acceptance.result": {"GET": {OFF, SUP, FIN}},
    "acceptance.result_pdf": {"GET": {OFF, SUP, FIN}},
    "acceptance.public": {"GET": EVERYONE},
    "acceptance.public_pdf": {"GET": EVERYONE},
    "beneficiaries.search_id": {"POST": {OFF, SUP}},
    "beneficiaries.import_template": {"GET": {OFF}},
    "beneficiaries.import_assignments": {"POST": {OFF}},
    "evaluation.pdf": {"GET": {OFF, FIN, EVA}},
    "oversight.contract": {"GET": {OFF, FIN}},
    "oversight.new_inspection": {"GET": {OFF}, "POST": {OFF}},
    "oversight.inspection": {"GET": {OFF, FIN}},
    "oversight.inspection_summary": {"POST": {OFF}},
    "oversight.call": {"POST": {OFF}},
    "oversight.inspection_finding": {"POST": {OFF}},
    "oversight.new_complaint": {"GET": {OFF}, "POST": {OFF}},
    "oversight.complaint": {"GET": {OFF, FIN}},
    "oversight.close_complaint": {"POST": {OFF}},
    "oversight.complaint_finding": {"POST": {OFF}},
    "oversight.finding": {"GET": {OFF, FIN}},
    "oversight.issue_notice": {"POST": {OFF}},
    "oversight.notices": {"GET": {OFF, FIN, SUP}},
    "oversight.notice": {"GET": {OFF, FIN, SUP}},
    "oversight.notice_evidence": {"POST": {SUP}},
    "oversight.answer_notice": {"POST": {SUP}},
    "oversight.close_notice": {"POST": {OFF}},
    "oversight.evidence_file": {"GET": {OFF, FIN, SUP}},
    "schemes.index": {"GET": {OFF, FIN, EVA, SYS}},
    "schemes.detail": {"GET": {OFF, FIN, EVA, SYS}},
    "schemes.clone": {"POST": {SYS}},
    "schemes.edit": {"GET": {SYS}, "POST": {SYS}},
    "schemes.publish": {"POST": {SYS}},
    "payments.index": {"GET": {OFF, FIN}},
    "payments.contract": {"GET": {OFF, FIN}, "POST": {FIN}},
    "payments.terms": {"POST": {OFF}},
    "bulk.index": {"GET": {OFF, FIN}, "POST": {OFF, FIN}},
    "bulk.job": {"GET": {OFF, FIN}},
    "bulk.download": {"GET": {OFF, FIN}},
    "evaluation.index": {"GET": {OFF, SUP, FIN, EVA}},
    "evaluation.sheet": {"GET": {OFF, FIN, EVA}},
    "evaluation.new": {"GET": {OFF}, "POST": {OFF}},
    "evaluation.assign": {"POST": {OFF}},
    "evaluation.remove": {"POST": {OFF}},
    "evaluation.start": {"POST": {OFF}},
    "evaluation.declare": {"POST": {EVA}},
    "evaluation.scores": {"POST": {EVA}},
    "evaluation.override": {"POST": {OFF}},
    "evaluation.finalize": {"POST": {OFF}},
    "evaluation.correct": {"POST": {OFF}},
    "projects.challenge_add": {"GET": {OFF}, "POST": {OFF}},
    "projects.challenge_reply": {"GET": {OFF}, "POST": {OFF}},
}

# Answers that are neither 200 nor a refusal: (endpoint, method) -> {who: status}
SPECIAL = {
    ("auth.login", "GET"): {role: 302 for role in ALL},  # already logged in: to the home page
    ("auth.login", "POST"): {role: 302 for role in ALL},
    ("auth.second_factor", "GET"): {who: 302 for who in EVERYONE},  # no password step pending: back to login
    ("auth.second_factor", "POST"): {who: 302 for who in EVERYONE},
    ("auth.enrol", "GET"): {who: 302 for who in EVERYONE},
    ("auth.enrol", "POST"): {who: 302 for who in EVERYONE},
    ("auth.enrol_qr", "GET"): {who: 404 for who in EVERYONE},
    ("main.set_language", "POST"): {who: 302 for who in EVERYONE},
    # the world's contract is signed: its draft-only pages send the officer back to the contract
    ("contracts.edit", "GET"): {OFF: 302},
    ("contracts.lines", "GET"): {OFF: 302},
    ("contracts.instalments", "GET"): {OFF: 302},
    ("contracts.sign", "GET"): {OFF: 302},
    # the world's zip of evaluation sheets is the officer's: finance of the same county does not see it
    ("bulk.job", "GET"): {FIN: 404},
    ("bulk.download", "GET"): {FIN: 404},
    # the world's sheet is a third-party evaluation being scored: its supplier does not see it (404)
    ("evaluation.sheet", "GET"): {SUP: 404},
    # the world's sheet is being scored: it has no PDF yet (tests/web/test_evaluation_pages.py downloads one)
    ("evaluation.pdf", "GET"): {OFF: 404, FIN: 404, EVA: 404, SUP: 404},
    ("evaluation.declare", "POST"): {SUP: 404},
    ("evaluation.scores", "POST"): {SUP: 404},
}
SKIP = {"static", "bootstrap.static"}  # files, tested in test_security
ACCEPTED_POST = {200, 302, 400, 409}  # a form re-rendered with its errors, or done and redirected


@pytest.fixture
def world():
    """One object of every kind, in 绥江县 (530626), where the officer works."""
    county = region("530626")
    county_list = make_list(region_code="530626", year=2026)
    item = make_item(county_list)
    reference = make_list(ListKind.REFERENCE, status=ListStatus.PUBLISHED, year=2026)
    make_item(reference)
    supplier = make_supplier("530626", name="绥江县测试社会工作服务中心", service_regions=[county])
    qualification = Qualification(organization=supplier, name="民办非企业单位登记证书", number="1")
    db.session.add(qualification)
    bureau = make_org(OrgKind.BUREAU, "530626", name="测试民政局")
    target = make_user(Role.SUPPLIER, organization=supplier, username="target")
    record = append_audit(Actor(None, "127.0.0.1"), "test.event")
    users = {role: make_user(role, region_code="530000" if role in (SYS, SEC, AUD) else "530626",
                             username=f"matrix_{role.value}") for role in Role}
    # a draft project of the officer's bureau, with a line, a target, a bid and the supplier user's invitation
    officer_bureau = users[OFF].organization
    budget = make_budget_line(officer_bureau)
    project = make_project(officer_bureau, budget_line=budget)
    project_line = make_line(project, make_item(make_list(region_code="530626", year=2027)))
    target_row = PerformanceTarget(project_id=project.id, indicator="服务人次", direction=TargetDirection.AT_LEAST,
                                   target_value=Decimal("100"), unit="人次", position=1, removed=False)
    db.session.add(target_row)
    invite(project, users[SUP].organization, date(2026, 11, 2))
    bid = make_bid(project, supplier, price=Decimal("1.00"), submitted_on=date(2026, 11, 3))
    # a signed contract of the officer's bureau with the supplier user's organization, with a sealed scan
    contract = make_contract(officer_bureau, users[SUP].organization, item)
    contract.scan_sha256, contract.scan_name, contract.scan_type = files.store(b"%PDF-1.4 scan"), "scan.pdf", \
        "application/pdf"
    template = db.session.execute(select(ContractTemplate).where(ContractTemplate.code == "service-contract")).scalar_one()
    draft = start_draft(template, Actor(users[SYS], "127.0.0.1"))
    # a beneficiary of the county, assigned to that (running) contract, so its supplier sees the person
    body = "53062619800101123"
    person = create_beneficiary(BeneficiaryData(
        name="测试对象", id_number=body + cid_check_char(body), region=county,
        category_id=db.session.execute(select(TargetGroup.id)).scalars().first(), legal_basis=LegalBasis.LEGAL_DUTY),
        Actor(users[OFF], "127.0.0.1"), date(2026, 11, 2))
    assignment = assign(contract, person, Actor(users[OFF], "127.0.0.1"), date(2026, 11, 2))
    # the supplier's service report of November 2026, with a delivery, an expenditure and a file
    supplier_actor = Actor(users[SUP], "127.0.0.1")
    report = open_report(contract, date(2026, 11, 1), supplier_actor, date(2026, 11, 2))
    row = add_row(report, RowInput(body + cid_check_char(body), item.code, date(2026, 11, 2), Decimal("1"), "社工甲"),
                  supplier_actor)
    expenditure = add_expenditure(report, "交通费", Decimal("100.00"), None, supplier_actor)
    attachment = add_attachment(report, b"\x89PNG\r\n\x1a\n" + b"0" * 64, "签到表.png", supplier_actor)
    # an upload refused for a bad row, so its error file can be downloaded
    bad = (",".join(COLUMNS) + "\n11010119900307001X,X,2026-11-02,1,社工甲,\n").encode()
    job = run_import(start_import(report, bad, "bad.csv", supplier_actor))
    # the contract's acceptance, concluded and published (so its public pages answer)
    acceptance = Acceptance(contract_id=contract.id, state=AcceptanceState.PUBLISHED, accepted_on=date(2026, 11, 20),
                            conclusion=Conclusion.PASSED, concluded_at=utcnow(), published_on=date(2026, 11, 25))
    db.session.add(acceptance)
    db.session.flush()
    # supervision: an inspection with one follow-up call, a complaint, a finding and its notice with a file
    officer_actor = Actor(users[OFF], "127.0.0.1")
    inspection = record_inspection(contract, InspectionData(
        InspectionKind.ON_SITE, date(2026, 11, 10), date(2026, 11, 1), date(2026, 11, 9), "检查组", "服务站"),
        officer_actor, date(2026, 11, 10))
    call = FollowUpCall(inspection_id=inspection.id, beneficiary_id=person.id)
    db.session.add(call)
    complaint = record_complaint(contract, date(2026, 11, 10), ComplaintChannel.HOTLINE, "服务人员迟到",
                                 officer_actor, date(2026, 11, 10))
    finding = add_finding(contract, Severity.MINOR, "台账不全", date(2026, 11, 10), officer_actor, date(2026, 11, 10),
                          inspection=inspection)
    notice = issue_notice(finding, date(2026, 11, 10), 60, "补齐台账", officer_actor, date(2026, 11, 10))
    evidence = add_evidence(notice, b"%PDF-1.4 evidence", "台账.pdf", supplier_actor)
    db.session.flush()
    # evaluation schemes: the shipped default (published) and a draft cloned from it
    scheme = db.session.execute(select(Scheme).where(Scheme.code == "default", Scheme.number == 1)).scalar_one()
    scheme_draft = clone_scheme(scheme, Actor(users[SYS], "127.0.0.1"))
    # the officer's finished zip of evaluation sheets (empty)
    bulk_job = BulkDownload(sheet_ids=[], state="done", total=0, processed=0, created_by_id=users[OFF].id,
                            file_sha256=files.store(b"PK\x05\x06" + b"\x00" * 18))
    db.session.add(bulk_job)
    # a third-party evaluation sheet of the contract being scored, with the evaluator assigned
    from evaluation import services as sheets
    from evaluation.models import SheetKind, Stage

    sheet = sheets.open_sheet(contract, Stage.MID_TERM, SheetKind.THIRD_PARTY, date(2026, 4, 1), date(2026, 9, 30),
                              officer_actor)
    sheet_evaluator = sheets.assign_evaluator(sheet, users[EVA], officer_actor)
    sheets.start_scoring(sheet, officer_actor, date(2026, 11, 10))
    # a challenge (质疑) to the project by its bidder, awaiting the reply
    from procurement.projects.challenges import Challenge, ChallengeMatter

    challenge = Challenge(project_id=project.id, supplier_id=supplier.id, matter=ChallengeMatter.PROCESS,
                          received_on=date(2026, 11, 4), subject="程序不合规", created_at=utcnow(), updated_at=utcnow())
    db.session.add(challenge)
    db.session.commit()
    ids = {"list_id": county_list.id, "item_id": item.id, "org_id": supplier.id, "qualification_id": qualification.id,
           "user_id": target.id, "record_id": record.id, "region_id": county.id, "code": "zh_CN",
           "filename": "app.css", "project_id": project.id, "line_id": budget.id, "target_id": target_row.id,
           "bid_id": bid.id, "year": 2026, "contract_id": contract.id, "template_id": template.id,
           "version_id": draft.id, "beneficiary_id": person.id, "assignment_id": assignment.id,
           "report_id": report.id, "row_id": row.id, "expenditure_id": expenditure.id, "attachment_id": attachment.id,
           "job_id": job.id, "acceptance_id": acceptance.id,
           "inspection_id": inspection.id, "call_id": call.id, "complaint_id": complaint.id, "finding_id": finding.id,
           "notice_id": notice.id, "evidence_id": evidence.id,
           "scheme_id": scheme.id, "draft_id": scheme_draft.id, "bulk_id": bulk_job.id,
           "sheet_id": sheet.id, "evaluator_id": sheet_evaluator.id}
    ids["challenge_id"] = challenge.id
    line_ids = {"projects.line_remove": project_line.id}
    org_ids = {"orgs.organization_edit": bureau.id, **line_ids}
    return users, ids, org_ids


def _url(rule, ids, org_ids):
    url = rule.rule
    for argument in rule.arguments:
        # the same argument names different rows in different routes: org_id, line_id
        value = org_ids.get(rule.endpoint, ids[argument]) if argument in ("org_id", "line_id") else ids[argument]
        url = re.sub(rf"<(?:\w+:)?{argument}>", str(value), url)
    return url


def _rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        if rule.endpoint not in SKIP:
            yield rule


def test_every_route_has_a_row(app):
    routes = {}
    for rule in _rules(app):
        routes.setdefault(rule.endpoint, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    assert set(routes) == set(MATRIX), "add the new routes to MATRIX (or remove the stale rows)"
    for endpoint, methods in routes.items():
        assert methods == set(MATRIX[endpoint]), endpoint


def _check(app, client, who, world):
    users, ids, org_ids = world
    if who != ANON:
        login_as(client, users[who])
    problems = []
    rules = list(_rules(app))
    # GETs first, then POSTs (which change things), logout last of all.
    calls = [(r, "GET") for r in rules if "GET" in r.methods] + \
            [(r, "POST") for r in rules if "POST" in r.methods and r.endpoint != "auth.logout"] + \
            [(r, "POST") for r in rules if r.endpoint == "auth.logout"]
    for rule, method in calls:
        url = _url(rule, ids, org_ids)
        response = client.open(url, method=method, data={})
        status = response.status_code
        response.close()
        allowed = who in MATRIX[rule.endpoint][method]
        special = SPECIAL.get((rule.endpoint, method), {}).get(who)
        if special is not None:
            ok = status == special
        elif not allowed:
            ok = status == 403 if who != ANON else (status == 302 and "/auth/login" in response.headers["Location"])
        elif method == "GET":
            ok = status == 200
        else:
            ok = status in ACCEPTED_POST
        if not ok:
            problems.append(f"{who} {method} {url} ({rule.endpoint}) -> {status}")
    return problems


@pytest.mark.parametrize("who", [r for r in Role] + [ANON], ids=lambda w: getattr(w, "value", w))
def test_access_matrix(app, client, world, who):
    assert _check(app, client, who, world) == []


def test_world_had_an_audit_record_to_open(world):
    assert db.session.execute(select(AuditRecord)).first() is not None
