"""One place that imports every model module, so metadata is complete (app, Alembic, tests)."""


def import_models():
    from contracts import models as contract_models  # noqa: F401
    from evaluation import models as evaluation_models  # noqa: F401
    from procurement import settings  # noqa: F401
    from procurement.acceptance import models as acceptance_models  # noqa: F401
    from procurement.audit import models as audit_models  # noqa: F401
    from procurement.auth import models as auth_models  # noqa: F401
    from procurement.beneficiaries import models as beneficiary_models  # noqa: F401
    from procurement.catalog import models as catalog_models  # noqa: F401
    from procurement.orgs import models as org_models  # noqa: F401
    from procurement.oversight import models as oversight_models  # noqa: F401
    from procurement.projects import challenges as challenge_models  # noqa: F401
    from procurement.projects import models as project_models  # noqa: F401
    from procurement.supervision import models as supervision_models  # noqa: F401
