"""``flask --app procurement render-contract NUMBER --out FILE.pdf``."""

import time
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select


@click.command("render-contract")
@click.argument("number")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Where to write the PDF.")
@click.option("--issued", is_flag=True, help="Write the stored bytes of the signed contract instead of rendering anew.")
@with_appcontext
def render_contract_command(number: str, out: Path, issued: bool):
    """Render the contract NUMBER to a PDF (a draft with its missing values marked in red)."""
    from contracts import services
    from contracts.models import Contract
    from procurement.extensions import db

    contract = db.session.execute(select(Contract).where(Contract.number == number.strip())).scalar()
    if contract is None:
        raise click.ClickException(f"no contract numbered {number!r}")
    if issued:
        if contract.document is None:
            raise click.ClickException(f"contract {number} is not signed: it has no issued PDF")
        out.write_bytes(contract.document.pdf)
        click.echo(f"{out}: issued PDF, sha256 {contract.document.sha256}")
        return
    started = time.perf_counter()
    strict = not any(p.field == "placeholder" for p in services.contract_problems(contract)) \
        if contract.document is None else True
    try:
        result = services.render_contract(contract, strict=strict)
    except services.ContractInvalid as exc:
        result = services.render_contract(contract, strict=False)
        click.echo(f"warning: {exc.message}", err=True)
    out.write_bytes(result.pdf)
    for problem in result.problems:
        click.echo(f"weasyprint: {problem}", err=True)
    click.echo(f"{out}: {result.pages} pages, {len(result.pdf):,} bytes, sha256 {result.sha256}, "
               f"{time.perf_counter() - started:.2f} s")
