"""Hooking supervision into the application (called by ``procurement.create_app``)."""

from procurement.i18n import N_


def init_app(app) -> None:
    from procurement.oversight import views
    from procurement.oversight.services import RECTIFICATION_STEP, rectification_deadline_rows
    from procurement.projects.services import DEADLINE_PROVIDERS, DEADLINE_STEPS, EXTRA_STEPS

    app.register_blueprint(views.bp)
    if rectification_deadline_rows not in DEADLINE_PROVIDERS:
        DEADLINE_PROVIDERS.append(rectification_deadline_rows)
    if RECTIFICATION_STEP not in DEADLINE_STEPS:
        DEADLINE_STEPS.append(RECTIFICATION_STEP)
    EXTRA_STEPS[RECTIFICATION_STEP] = (N_("Rectification notice → supplier's answer"),
                                       N_("the working days set by the notice"))
