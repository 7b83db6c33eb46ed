"""Forms of the evaluation-sheet pages: shapes only; the checks live in evaluation.services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from evaluation.models import SheetKind, Stage
from procurement.forms import choices


class OpenSheetForm(FlaskForm):
    stage = SelectField(_l("Stage"), validators=[Optional()])
    kind = SelectField(_l("Kind of evaluation"), validators=[Optional()])
    period_start = DateField(_l("Evaluated from"), validators=[Optional()])
    period_end = DateField(_l("Evaluated until"), validators=[Optional()])
    agency = StringField(_l("Evaluation agency"), validators=[Optional()], render_kw={"maxlength": 128},
                         description=_l("Third-party evaluations: the agency that carries it out."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stage.choices = choices([(s.value, s.label) for s in Stage])
        self.kind.choices = choices([(k.value, k.label) for k in SheetKind])


class AssignForm(FlaskForm):
    user = SelectField(_l("Evaluator"), validators=[Optional()])


class DeclareForm(FlaskForm):
    accepted = BooleanField(_l("I have read the declaration and accept it"))


class ScoreForm(FlaskForm):
    """CSRF only: the points and comments are read from ``points_<id>`` / ``comment_<id>``."""


class ActionForm(FlaskForm):
    """CSRF only: start scoring, submit, finalize, remove an evaluator."""


class OverrideForm(FlaskForm):
    indicator = HiddenField()
    points = StringField(_l("Points"), validators=[Optional()], render_kw={"inputmode": "decimal"})
    reason = TextAreaField(_l("Reason for the override"), validators=[Optional()],
                           render_kw={"rows": 2, "maxlength": 2000})


class CorrectForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the correction"), validators=[Optional()],
                           render_kw={"rows": 3, "maxlength": 2000})
