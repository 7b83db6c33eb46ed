# ruff: noqa: F811  (the ``world`` fixture is imported from the reports tests and named by each test)
"""Supervision pages: an officer inspects and calls back a random sample, records a finding and issues a
rectification notice; the supplier sees it on its home page, answers with evidence; the officer closes it."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from procurement.extensions import db
from procurement.oversight import services as oversight
from procurement.oversight.models import (
    Complaint,
    Finding,
    FollowUpCall,
    Inspection,
    InspectionKind,
    NoticeState,
    RectificationNotice,
    Severity,
)
from procurement.rules.clock import beijing_today
from procurement.supervision import services as reports
from tests.factories import login_as
from tests.project_factories import actor
from tests.web.test_report_pages import ADULT, field_errors, shown, text, world  # noqa: F401

TODAY = beijing_today()
D = timedelta(days=1)
PDF = b"%PDF-1.4 corrected sign-in sheet"


def served(w):
    """The supplier's report of the current period, submitted with one delivery today."""
    report = reports.open_report(w["contract"], w["period"].start, actor(w["writer"]), TODAY)
    reports.add_row(report, reports.RowInput(ADULT, w["item"].code, TODAY, Decimal("1"), "张护工"), actor(w["writer"]))
    reports.save_narrative(report, "本月服务", actor(w["writer"]))
    reports.submit_report(report, actor(w["writer"]))
    db.session.commit()
    return report


def inspection_form(w, **overrides) -> dict:
    data = {"kind": "on_site", "inspected_on": TODAY.isoformat(), "period_start": w["period"].start.isoformat(),
            "period_end": TODAY.isoformat(), "inspectors": "王芳（民政局）", "place": "居家养老服务站",
            "sample_size": "5", "summary": "查看台账与签到表"}
    return {**data, **overrides}


def issued_notice(w, days=5) -> RectificationNotice:
    inspection = oversight.record_inspection(w["contract"], oversight.InspectionData(
        InspectionKind.ON_SITE, TODAY, w["period"].start, TODAY, "王芳", "服务站"), actor(w["officer"]), TODAY)
    finding = oversight.add_finding(w["contract"], Severity.MAJOR, "签到表缺少对象签字", TODAY, actor(w["officer"]),
                                    TODAY, inspection=inspection)
    notice = oversight.issue_notice(finding, TODAY, days, "补齐签字", actor(w["officer"]), TODAY)
    db.session.commit()
    return notice


def test_a_phone_follow_up_shows_the_sample_masked_and_records_the_answers(client, world):
    served(world)
    login_as(client, world["officer"])
    response = client.post(f"/supervision/contracts/{world['contract'].id}/inspections/new",
                           data=inspection_form(world, kind="phone_follow_up", place=""))
    assert response.status_code == 302
    inspection = db.session.execute(select(Inspection)).scalar_one()
    page = text(client.get(f"/supervision/inspections/{inspection.id}"))
    assert "李秀英" in page and "530626********123" in page and ADULT not in page
    assert shown("%(n)s of the %(total)s beneficiaries the supplier reports having served in the period",
                 n=1, total=1) in page
    call = db.session.execute(select(FollowUpCall)).scalar_one()
    # reached, but the answers are missing: both named next to their fields, nothing saved
    response = client.post(f"/supervision/calls/{call.id}", data={f"c{call.id}-called_on": TODAY.isoformat(),
                                                                 f"c{call.id}-reached": "yes"})
    assert response.status_code == 400
    page = text(response)
    assert shown("Did the beneficiary confirm the services?") in field_errors(page, f"c{call.id}-confirmation")
    assert shown("How satisfied is the beneficiary?") in field_errors(page, f"c{call.id}-satisfaction")
    db.session.refresh(call)
    assert call.reached is None
    response = client.post(f"/supervision/calls/{call.id}", data={
        f"c{call.id}-called_on": TODAY.isoformat(), f"c{call.id}-reached": "yes",
        f"c{call.id}-confirmation": "confirmed", f"c{call.id}-satisfaction": "satisfied"})
    assert response.status_code == 302
    db.session.refresh(call)
    assert call.reached and call.satisfaction.value == "satisfied"
    page = text(client.get(f"/supervision/contracts/{world['contract'].id}"))
    assert re.search(r'data-figure="satisfaction">100\.0%', page)


def test_bad_inspection_input_is_named_next_to_each_field(client, world):
    login_as(client, world["officer"])
    url = f"/supervision/contracts/{world['contract'].id}/inspections/new"
    response = client.post(url, data=inspection_form(world, kind="on_site", place="", inspectors="",
                                                     inspected_on=(TODAY + D).isoformat()))
    assert response.status_code == 400
    page = text(response)
    assert shown("Where was the inspection held?") in field_errors(page, "place")
    assert shown("Name the inspectors.") in field_errors(page, "inspectors")
    assert shown("The date cannot be in the future.") in field_errors(page, "inspected_on")
    response = client.post(url, data=inspection_form(world, period_end="2月30日"))
    assert response.status_code == 400 and field_errors(text(response), "period_end")  # not a date
    response = client.post(url, data=inspection_form(world, kind="phone_follow_up", sample_size="500"))
    assert shown("Call from %(low)s to %(high)s beneficiaries.", low=1, high=50) in field_errors(text(response),
                                                                                               "sample_size")
    response = client.post(url, data=inspection_form(world, kind="phone_follow_up"))
    assert shown("The supplier has reported no service in this period: there is nobody to call back.") in \
        field_errors(text(response), "period_start")
    assert client.post(url, data=inspection_form(world, kind="drone")).status_code == 400
    assert db.session.execute(select(Inspection)).first() is None


def test_from_finding_to_closed_notice_through_the_pages(client, world):
    login_as(client, world["officer"])
    response = client.post(f"/supervision/contracts/{world['contract'].id}/inspections/new", data=inspection_form(world))
    inspection_id = int(response.headers["Location"].rsplit("/", 1)[1])
    response = client.post(f"/supervision/inspections/{inspection_id}/findings",
                           data={"found_on": TODAY.isoformat(), "severity": "", "description": ""})
    assert response.status_code == 400
    assert shown("Choose the severity.") in field_errors(text(response), "severity")
    response = client.post(f"/supervision/inspections/{inspection_id}/findings", data={
        "found_on": TODAY.isoformat(), "severity": "major", "description": "签到表缺少服务对象签字"})
    finding = db.session.execute(select(Finding)).scalar_one()
    assert response.headers["Location"].endswith(f"/supervision/findings/{finding.id}")
    response = client.post(f"/supervision/findings/{finding.id}/notice", data={
        "issued_on": TODAY.isoformat(), "working_days": "0", "requirement": "补齐签字"})
    assert shown("Give from %(low)s to %(high)s working days.", low=1, high=60) in field_errors(
        text(response), "working_days")
    response = client.post(f"/supervision/findings/{finding.id}/notice", data={
        "issued_on": TODAY.isoformat(), "working_days": "5", "requirement": "补齐签字并建立核对制度"})
    notice = db.session.execute(select(RectificationNotice)).scalar_one()
    assert response.status_code == 302 and notice.due_on > TODAY
    # the officer's deadlines list the notice, linked to it
    page = text(client.get("/projects/deadlines"))
    assert notice.number in page and f"/supervision/rectifications/{notice.id}" in page

    # the supplier: on its home page and the contract page; answers with evidence
    login_as(client, world["writer"])
    home = text(client.get("/"))
    assert 'id="home-rectifications"' in home and notice.number in home
    assert notice.number in text(client.get(f"/contracts/{world['contract'].id}"))
    url = f"/supervision/rectifications/{notice.id}"
    response = client.post(f"{url}/answer", data={"version": str(notice.version), "answer": "已整改"})
    assert response.status_code == 400
    assert shown("Attach at least one file as evidence (photo, sign-in sheet, document).") in text(response)
    response = client.post(f"{url}/evidence", data={"evidence": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "签到表.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert shown("Only PDF, JPEG or PNG files are accepted (checked by their content).") in field_errors(
        text(response), "evidence")
    response = client.post(f"{url}/evidence", data={"evidence": (io.BytesIO(PDF), "签到表.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    response = client.post(f"{url}/answer", data={"version": str(notice.version), "answer": "已补签，建立双人核对"})
    assert response.status_code == 302
    again = client.post(f"{url}/answer", data={"version": str(notice.version), "answer": "再点一次"})
    assert again.status_code == 302  # a double click: nothing changes
    db.session.refresh(notice)
    assert notice.state == NoticeState.ANSWERED and notice.answer == "已补签，建立双人核对"
    # the supplier never reaches the inspection behind the notice
    assert client.get(f"/supervision/inspections/{inspection_id}").status_code == 403

    login_as(client, world["officer"])
    page = text(client.get(url))
    assert "签到表.pdf" in page and "close-notice-form" in page
    evidence_id = notice.evidence[0].id
    assert client.get(f"/supervision/rectifications/evidence/{evidence_id}").data == PDF
    response = client.post(f"{url}/close", data={"version": str(notice.version), "reinspected_on": TODAY.isoformat(),
                                                 "outcome": "partly_fixed", "closing_note": ""})
    assert shown("Say what is still wrong.") in field_errors(text(response), "closing_note")
    response = client.post(f"{url}/close", data={"version": str(notice.version), "reinspected_on": TODAY.isoformat(),
                                                 "outcome": "fixed", "closing_note": ""})
    assert response.status_code == 302
    db.session.refresh(notice)
    assert notice.state == NoticeState.CLOSED and notice.outcome.value == "fixed"


def test_another_supplier_gets_404_for_the_notice_and_its_evidence(client, world):
    notice = issued_notice(world)
    oversight.add_evidence(notice, PDF, "x.pdf", actor(world["writer"]))
    db.session.commit()
    login_as(client, world["stranger"])
    assert client.get(f"/supervision/rectifications/{notice.id}").status_code == 404
    assert client.get(f"/supervision/rectifications/evidence/{notice.evidence[0].id}").status_code == 404
    assert client.post(f"/supervision/rectifications/{notice.id}/answer", data={"answer": "x"}).status_code == 404
    assert notice.number not in text(client.get("/supervision/rectifications"))
    assert notice.number not in text(client.get("/"))


def test_an_overdue_notice_is_flagged_for_the_supplier_and_the_officer(client, world):
    notice = issued_notice(world)
    notice.issued_on, notice.due_on = TODAY - 20 * D, TODAY - 3 * D  # issued three weeks ago, due three days ago
    db.session.commit()
    login_as(client, world["writer"])
    home = text(client.get("/"))
    assert shown("%(n)s overdue", n=1) in home
    login_as(client, world["officer"])
    page = text(client.get("/projects/deadlines?state=overdue&step=rectification"))
    assert notice.number in page and "deadline-overdue" in page
    card = text(client.get(f"/contracts/{world['contract'].id}"))
    assert 'data-count="overdue_notices"' in card
    # the officer may now close it unanswered, as not fixed
    response = client.post(f"/supervision/rectifications/{notice.id}/close", data={
        "version": str(notice.version), "reinspected_on": TODAY.isoformat(), "outcome": "not_fixed",
        "closing_note": "逾期未整改"})
    assert response.status_code == 302


def test_finance_reads_the_supervision_record_but_changes_nothing(client, world):
    issued_notice(world)
    login_as(client, world["finance"])
    page = text(client.get(f"/supervision/contracts/{world['contract'].id}"))
    assert shown("Record an inspection") not in page and "签到表缺少对象签字" in page
    inspection = db.session.execute(select(Inspection)).scalar_one()
    page = text(client.get(f"/supervision/inspections/{inspection.id}"))
    assert "finding-form" not in page and "summary-form" not in page
    assert client.post(f"/supervision/inspections/{inspection.id}/findings", data={}).status_code == 403


def test_a_complaint_page_closes_the_complaint_and_records_a_finding(client, world):
    login_as(client, world["officer"])
    response = client.post(f"/supervision/contracts/{world['contract'].id}/complaints/new",
                           data={"received_on": TODAY.isoformat(), "channel": "", "subject": ""})
    page = text(response)
    assert response.status_code == 400
    assert shown("Choose how the complaint came in.") in field_errors(page, "channel")
    assert shown("What is the complaint about?") in field_errors(page, "subject")
    response = client.post(f"/supervision/contracts/{world['contract'].id}/complaints/new",
                           data={"received_on": TODAY.isoformat(), "channel": "hotline", "subject": "护理员迟到"})
    complaint = db.session.execute(select(Complaint)).scalar_one()
    url = f"/supervision/complaints/{complaint.id}"
    assert response.headers["Location"].endswith(url)
    response = client.post(f"{url}/close", data={"version": str(complaint.version), "closed_on": TODAY.isoformat(),
                                                 "substantiated": "yes", "handling": "约谈负责人"})
    assert response.status_code == 302
    response = client.post(f"{url}/findings", data={"found_on": TODAY.isoformat(), "severity": "minor",
                                                    "description": "排班不合理"})
    assert response.status_code == 302
    page = text(client.get(url))
    assert "约谈负责人" in page and "排班不合理" in page


@pytest.mark.parametrize("path", ["/supervision/contracts/999999", "/supervision/inspections/999999",
                                  "/supervision/complaints/999999", "/supervision/findings/999999",
                                  "/supervision/rectifications/999999", "/supervision/rectifications/evidence/999999"])
def test_unknown_records_are_404(client, world, path):
    login_as(client, world["officer"])
    assert client.get(path).status_code == 404
