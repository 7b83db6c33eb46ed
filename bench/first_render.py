"""The first contract PDF of a freshly started process: ``python -m bench.first_render NUMBER``.

Run by ``bench/contracts.py`` in a subprocess against the bench database (``FLASK_SQLALCHEMY_DATABASE_URI``),
because in the bench's own process fonts and stylesheets are long loaded. The app starts as in production:
``create_app`` begins the PDF warm-up in the background; a user's first request comes after it.
"""

import sys
import threading
import time

from sqlalchemy import select


def main(number: str) -> None:
    from contracts import services
    from contracts.models import Contract
    from procurement import create_app
    from procurement.extensions import db

    app = create_app()
    with app.app_context():
        for thread in threading.enumerate():
            if thread.name == "pdf-warm-up":
                thread.join()
        contract = db.session.execute(select(Contract).where(Contract.number == number)).scalar_one()
        started = time.perf_counter()
        result = services.render_contract(contract, strict=False)
        elapsed = time.perf_counter() - started
        assert not result.problems, result.problems
    print(f"{elapsed:.4f}")


if __name__ == "__main__":
    main(sys.argv[1])
