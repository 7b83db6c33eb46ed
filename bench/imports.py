"""Bulk upload of 100,000 delivery rows (.xlsx and .csv) and the officer's contract page with 50,000 rows behind it.

Targets from issue 5, reported and not asserted: the whole 100,000-row .xlsx validated and imported in ≤ 20 s,
CSV faster; ``contract_page_p95`` ≤ 50 ms. ``import_peak_mem`` is the process's peak resident memory.
"""

import csv
import io
import resource
import time
from datetime import timedelta

from openpyxl import Workbook
from sqlalchemy import delete, select

from bench.pages import _client, _measure, bench_app

PEOPLE = 2_000
ROWS = 100_000


def _world():
    """The demo's contract in service, with 2,000 more beneficiaries assigned from the first day of this month."""
    from contracts.models import Contract, ContractState
    from procurement.audit.services import Actor
    from procurement.auth.models import User
    from procurement.beneficiaries import services as people
    from procurement.beneficiaries.models import LegalBasis
    from procurement.catalog.models import TargetGroup
    from procurement.demo.seed import seed_demo
    from procurement.extensions import db
    from procurement.orgs.models import Region
    from procurement.rules.clock import beijing_today
    from procurement.rules.identifiers import cid_check_char
    from procurement.supervision import services as reports

    seed_demo()
    db.session.commit()
    today = beijing_today()
    contract = db.session.execute(select(Contract).where(Contract.state == ContractState.IN_SERVICE)).scalars().first()
    officer = Actor(db.session.execute(select(User).where(User.username == "officer")).scalar_one(), "bench")
    supplier = Actor(db.session.execute(select(User).where(User.username == "supplier")).scalar_one(), "bench")
    period = next(p for p in reports.periods_of(contract) if p.contains(today))
    county = db.session.execute(select(Region).where(Region.code == "530626")).scalar_one()
    group = db.session.execute(select(TargetGroup.id)).scalars().first()
    numbers = []
    for n in range(PEOPLE):
        body = f"530626{1940 + n % 60}{1 + n % 12:02d}{1 + n % 28:02d}{n // 840:01d}{n % 100:02d}"[:17]
        number = body + cid_check_char(body)
        person = people.create_beneficiary(people.BeneficiaryData(
            name=f"对象{n}", id_number=number, category_id=group, region=county, legal_basis=LegalBasis.LEGAL_DUTY),
            officer, today)
        people.assign(contract, person, officer, period.start)
        numbers.append(number)
    report = reports.open_report(contract, period.start, supplier, today)
    db.session.commit()
    codes = [line.item.code for line in contract.lines]
    return contract, report, supplier, numbers, codes, period


def _rows(numbers, codes, period, count):
    """``count`` distinct rows on the days of the period up to today (a delivery after today is refused)."""
    from procurement.rules.clock import beijing_today

    days = max(1, (min(period.end, beijing_today()) - period.start).days + 1)
    for n in range(count):
        person = n % len(numbers)
        code = codes[(n // len(numbers)) % len(codes)]
        day = period.start + timedelta(days=(n // (len(numbers) * len(codes))) % days)
        yield numbers[person], code, day, 1, f"社工{n // (len(numbers) * len(codes) * days)}", ""


def _xlsx(rows) -> bytes:
    from procurement.supervision.imports import COLUMNS

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("服务记录")
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _csv(rows) -> bytes:
    from procurement.supervision.imports import COLUMNS

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for number, code, day, quantity, worker, note in rows:
        writer.writerow([number, code, day.isoformat(), quantity, worker, note])
    return out.getvalue().encode("utf-8")


def _import(report, supplier, data, name) -> tuple[float, int]:
    from procurement.extensions import db
    from procurement.supervision import imports
    from procurement.supervision.models import DeliveryRow, ImportState

    db.session.execute(delete(DeliveryRow).where(DeliveryRow.report_id == report.id))
    db.session.commit()
    started = time.perf_counter()
    job = imports.start_import(report, data, name, supplier)
    imports.run_import(job)
    db.session.commit()
    elapsed = time.perf_counter() - started
    assert job.state == ImportState.DONE, (job.state, job.message, job.error_count)
    return elapsed, job.imported


def import_rows(_requests: int):
    with bench_app():
        contract, report, supplier, numbers, codes, period = _world()
        rows = list(_rows(numbers, codes, period, ROWS))
        xlsx_data, csv_data = _xlsx(rows), _csv(rows)
        xlsx_seconds, imported = _import(report, supplier, xlsx_data, "rows.xlsx")
        csv_seconds, _n = _import(report, supplier, csv_data, "rows.csv")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return [f"BENCH import_xlsx_100k {xlsx_seconds:.2f} s",
                f"BENCH import_xlsx_rows_per_s {imported / xlsx_seconds:.0f} rows/s",
                f"BENCH import_csv_100k {csv_seconds:.2f} s",
                f"BENCH import_csv_rows_per_s {imported / csv_seconds:.0f} rows/s",
                f"BENCH import_peak_mem {peak:.0f} MiB"]


def contract_page(requests: int):
    """The officer's contract page (reports card, delivered vs contracted) with 50,000 accepted rows behind it."""
    from procurement.auth.models import User
    from procurement.extensions import db
    from procurement.supervision.models import ReportState

    with bench_app() as app:
        contract, report, supplier, numbers, codes, period = _world()
        _import(report, supplier, _csv(list(_rows(numbers, codes, period, 50_000))), "rows.csv")
        report.state, report.submitted_at, report.reviewed_at = ReportState.ACCEPTED, _now(), _now()
        db.session.commit()
        officer = db.session.execute(select(User).where(User.username == "officer")).scalar_one()
        client = _client(app, officer)
        return _measure("contract_page", client, f"/contracts/{contract.id}", requests, expect=contract.number)


def _now():
    from procurement.rules.clock import utcnow

    return utcnow()

