"""Bulk download of finalized sheets' PDFs: exactly the chosen sheets in one zip, only the region's, only for the
user who asked; the pages choose, start, show the progress and serve the zip."""

import io
import re
import zipfile
from datetime import date

import pytest
from sqlalchemy import select

from contracts.models import IssuedDocument
from evaluation import bulk
from evaluation.models import BulkDownload, Stage
from procurement.auth.roles import Role
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.orgs.models import OrgKind
from tests.factories import login_as, make_org, make_user
from tests.project_factories import actor
from tests.services.test_evaluation_pdf import evaluation_contract, finalized_sheet, officer_of


@pytest.fixture
def app_config(tmp_path):
    return {"FILE_STORE": str(tmp_path / "files")}


def zip_names(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def stored(sheet) -> IssuedDocument:
    return db.session.get(IssuedDocument, sheet.document_id)


def test_the_zip_holds_exactly_the_chosen_sheets_stored_pdfs():
    officer = officer_of()
    bureau = officer.organization
    sheets = [finalized_sheet(evaluation_contract(bureau=bureau), evaluator_names=("甲", "乙"), by=officer)
              for _n in range(3)]
    chosen = sheets[:2]
    job = bulk.start_bulk(actor(officer), [s.id for s in chosen])
    assert (job.state, job.total, job.processed) == ("queued", 2, 0)
    bulk.run_bulk(job)
    assert (job.state, job.processed) == ("done", 2)
    data = bulk.bulk_zip(job, actor(officer))
    expected = {f"{stored(s).reference}.pdf": stored(s).pdf for s in chosen}
    assert zip_names(data) == expected


def test_sheets_of_another_region_are_refused():
    officer = officer_of("530626")
    mine = finalized_sheet(evaluation_contract(bureau=officer.organization), evaluator_names=("甲",), by=officer)
    elsewhere = finalized_sheet(evaluation_contract(region_code="530102"), evaluator_names=("乙",))
    with pytest.raises(DomainError) as refused:
        bulk.start_bulk(actor(officer), [mine.id, elsewhere.id])
    assert refused.value.field == "sheets"
    assert db.session.execute(select(BulkDownload)).scalars().all() == []
    assert [s.id for s in bulk.filter_sheets(officer, bulk.SheetFilter())] == [mine.id]


def test_a_sheet_not_finalized_cannot_be_chosen_and_nothing_chosen_is_refused():
    officer = officer_of()
    draft = finalized_sheet(evaluation_contract(bureau=officer.organization), evaluator_names=("甲",), issue=False)
    with pytest.raises(DomainError):
        bulk.start_bulk(actor(officer), [draft.id])
    with pytest.raises(DomainError):
        bulk.start_bulk(actor(officer), [])
    with pytest.raises(DomainError):
        bulk.start_bulk(actor(officer), ["x"])


def test_only_the_creator_downloads_the_zip():
    officer = officer_of()
    sheet = finalized_sheet(evaluation_contract(bureau=officer.organization), evaluator_names=("甲",), by=officer)
    job = bulk.start_bulk(actor(officer), [sheet.id])
    bulk.run_bulk(job)
    colleague = make_user(Role.FINANCE, organization=make_org(OrgKind.BUREAU, "530626"))
    with pytest.raises(AccessDenied):
        bulk.bulk_zip(job, actor(colleague))


def test_a_zip_is_kept_seven_days_then_removed_when_another_is_asked_for(runner):
    from datetime import timedelta

    from procurement import files
    from procurement.rules.clock import utcnow

    officer = officer_of()
    sheet = finalized_sheet(evaluation_contract(bureau=officer.organization), evaluator_names=("甲",), by=officer)
    old = bulk.start_bulk(actor(officer), [sheet.id])
    bulk.run_bulk(old)
    assert bulk.expire_bulks(utcnow()) == 0  # a fresh zip is kept
    old.finished_at = utcnow() - timedelta(days=8)
    db.session.flush()
    bulk.start_bulk(actor(officer), [sheet.id])  # asking for a new zip drops the week-old one
    assert old.expired and files.load(old.file_sha256) is None
    with pytest.raises(DomainError):
        bulk.bulk_zip(old, actor(officer))
    db.session.commit()
    result = runner.invoke(args=["expire-downloads", "--days", "7"])
    assert result.exit_code == 0 and "0 zip(s) expired" in result.output


def test_the_filter_by_stage_and_finalized_dates():
    officer = officer_of()
    mid = finalized_sheet(evaluation_contract(bureau=officer.organization), evaluator_names=("甲",), by=officer)
    final = finalized_sheet(evaluation_contract(bureau=officer.organization), evaluator_names=("甲",),
                            stage=Stage.FINAL, by=officer)
    found = bulk.filter_sheets(officer, bulk.SheetFilter(stage=Stage.FINAL))
    assert [s.id for s in found] == [final.id]
    # finalized 2026-10-09 (Beijing): in the fourth quarter, not the third
    q4 = bulk.SheetFilter(finalized_from=date(2026, 10, 1), finalized_to=date(2026, 12, 31))
    q3 = bulk.SheetFilter(finalized_from=date(2026, 7, 1), finalized_to=date(2026, 9, 30))
    assert {s.id for s in bulk.filter_sheets(officer, q4)} == {mid.id, final.id}
    assert bulk.filter_sheets(officer, q3) == []


# --- the pages ---------------------------------------------------------------------------------------------

def test_finance_selects_starts_watches_and_downloads(client):
    finance = make_user(Role.FINANCE, organization=make_org(OrgKind.BUREAU, "530626"))
    sheets = [finalized_sheet(evaluation_contract(bureau=finance.organization), evaluator_names=("甲",))
              for _n in range(2)]
    db.session.commit()
    login_as(client, finance)
    page = client.get("/evaluation/bulk?stage=mid_term&finalized_from=2026-10-01&finalized_to=2026-12-31")
    assert page.status_code == 200
    listed = set(map(int, re.findall(r'name="sheets" value="(\d+)"', page.get_data(as_text=True))))
    assert listed == {s.id for s in sheets}
    started = client.post("/evaluation/bulk", data={"sheets": [str(s.id) for s in sheets]})
    assert started.status_code == 302
    job_url = started.headers["Location"]
    page = client.get(job_url)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-state="done"' in body and "bulk-download" in body
    download = client.get(job_url + "/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert sorted(zip_names(download.data)) == sorted(f"{stored(s).reference}.pdf" for s in sheets)


def test_the_pages_refuse_other_regions_and_other_users_and_bad_input(client):
    officer = officer_of("530626")
    elsewhere = finalized_sheet(evaluation_contract(region_code="530102"), evaluator_names=("乙",))
    mine = finalized_sheet(evaluation_contract(bureau=officer.organization), evaluator_names=("甲",), by=officer)
    job = bulk.start_bulk(actor(officer), [mine.id])
    bulk.run_bulk(job)
    other = officer_of("530626")
    db.session.commit()
    login_as(client, officer)
    refused = client.post("/evaluation/bulk", data={"sheets": [str(elsewhere.id)]})
    assert refused.status_code == 400
    assert client.get("/evaluation/bulk?finalized_from=yesterday&region=999999&stage=x").status_code == 400
    client.post("/auth/logout")
    login_as(client, other)
    assert client.get(f"/evaluation/bulk/{job.id}").status_code == 404
    assert client.get(f"/evaluation/bulk/{job.id}/download").status_code == 404
