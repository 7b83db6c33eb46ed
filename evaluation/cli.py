"""``flask --app procurement render-evaluation SHEET_ID --out FILE.pdf``."""

import time
from pathlib import Path

import click
from flask.cli import with_appcontext


@click.command("render-evaluation")
@click.argument("sheet_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Where to write the PDF.")
@click.option("--fresh", is_flag=True, help="Render anew from the sheet's rows instead of writing the issued PDF.")
@with_appcontext
def render_evaluation_command(sheet_id: int, out: Path, fresh: bool):
    """Write the evaluation sheet SHEET_ID's PDF: the issued one, or (not issued yet, or --fresh) a new rendering."""
    from evaluation import documents
    from evaluation.models import Sheet
    from procurement.extensions import db

    sheet = db.session.get(Sheet, sheet_id)
    if sheet is None:
        raise click.ClickException(f"no evaluation sheet {sheet_id}")
    if sheet.document_id is not None and not fresh:
        from contracts.models import IssuedDocument

        document = db.session.get(IssuedDocument, sheet.document_id)
        out.write_bytes(document.pdf)
        click.echo(f"{out}: issued PDF {document.reference}, sha256 {document.sha256}")
        return
    if sheet.total is None or sheet.grade is None:
        click.echo("warning: the sheet is not finalized: the PDF shows no result yet", err=True)
    started = time.perf_counter()
    result = documents.render_sheet(sheet)
    out.write_bytes(result.pdf)
    for problem in result.problems:
        click.echo(f"weasyprint: {problem}", err=True)
    click.echo(f"{out}: {result.pages} pages, {len(result.pdf):,} bytes, sha256 {result.sha256}, "
               f"{time.perf_counter() - started:.2f} s")


@click.command("expire-downloads")
@click.option("--days", default=7, show_default=True, type=click.IntRange(0, 3650),
              help="Keep finished zips this many days.")
@with_appcontext
def expire_downloads_command(days: int):
    """Remove the zips of evaluation sheets finished more than DAYS days ago (run daily, e.g. from cron)."""
    from evaluation.bulk import expire_bulks
    from procurement.extensions import db
    from procurement.rules.clock import utcnow

    count = expire_bulks(utcnow(), days)
    db.session.commit()
    click.echo(f"{count} zip(s) expired")
