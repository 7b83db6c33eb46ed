"""Forms of the acceptance pages: shapes only; the checks live in the services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import Optional

from procurement.acceptance.models import CONCLUSION_MSGIDS, STANDARD_RESULT_MSGIDS
from procurement.forms import StrictIntegerField, VersionedForm, choices


class OpenForm(FlaskForm):
    accepted_on = DateField(_l("Date of acceptance"), validators=[Optional()])


class AcceptanceForm(VersionedForm):
    """The record's own fields; the per-standard results are read from ``result_<id>`` / ``note_<id>``."""

    accepted_on = DateField(_l("Date of acceptance"), validators=[Optional()])
    team = TextAreaField(_l("Acceptance team"), validators=[Optional()], render_kw={"rows": 3, "maxlength": 4000},
                         description=_l("Members, their role in the team and their unit, one per line."))
    method = TextAreaField(_l("Method of acceptance"), validators=[Optional()], render_kw={"rows": 2, "maxlength": 4000},
                           description=_l("On-site inspection, document review, visits or calls to beneficiaries…"))
    surveyed = StrictIntegerField(_l("Beneficiaries surveyed"), validators=[Optional()], render_kw={"min": 0})
    satisfied = StrictIntegerField(_l("Satisfied"), validators=[Optional()], render_kw={"min": 0})
    basically_satisfied = StrictIntegerField(_l("Basically satisfied"), validators=[Optional()], render_kw={"min": 0})
    dissatisfied = StrictIntegerField(_l("Dissatisfied"), validators=[Optional()], render_kw={"min": 0})
    opinion_summary = TextAreaField(
        _l("Summary of the beneficiaries' opinions"), validators=[Optional()], render_kw={"rows": 4, "maxlength": 4000},
        description=_l("This text is published: do not write names, ID numbers, addresses or telephone numbers."))
    conclusion = SelectField(_l("Conclusion"), validators=[Optional()], validate_choice=False)
    explanation = TextAreaField(_l("Explanation of the conclusion"), validators=[Optional()],
                                render_kw={"rows": 3, "maxlength": 4000},
                                description=_l("Required when the contract passes with conditions or fails."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.conclusion.choices = choices([("", _l("— choose —"))] + [(c.value, _l(m)) for c, m in CONCLUSION_MSGIDS.items()])


RESULT_CHOICES = [(r.value, m) for r, m in STANDARD_RESULT_MSGIDS.items()]


class ConcludeForm(VersionedForm):
    pass


class PublishForm(VersionedForm):
    published_on = DateField(_l("Date of publication"), validators=[Optional()])
