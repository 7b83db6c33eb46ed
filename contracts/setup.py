"""Hooking the contracts area into the application (called by ``procurement.create_app``)."""

import threading


def init_app(app) -> None:
    from contracts import template_views, views  # noqa: F401  (their routes)
    from contracts.services import contract_deadline_rows
    from procurement.projects.services import DEADLINE_PROVIDERS, DEADLINE_STEPS

    app.register_blueprint(views.bp)
    from contracts.cli import render_contract_command

    app.cli.add_command(render_contract_command)
    if contract_deadline_rows not in DEADLINE_PROVIDERS:
        DEADLINE_PROVIDERS.append(contract_deadline_rows)
        DEADLINE_STEPS.extend(step for step in ("contract_publication", "contract_filing") if step not in DEADLINE_STEPS)
    if app.config["PDF_WARM_UP"] and not app.testing:
        from contracts.pdf import warm_up

        # Fonts and stylesheets are loaded in the background while the server starts, not by the first user.
        threading.Thread(target=warm_up, name="pdf-warm-up", daemon=True).start()
