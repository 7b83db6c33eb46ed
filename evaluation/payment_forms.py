"""Forms of the payment pages: shapes only; the checks live in evaluation.payments."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Optional

from evaluation.payment import EFFECT_LABELS, EFFECTS
from procurement.forms import MoneyField, VersionedForm, choices

#: The band rule's form fields, one per grade.
GRADE_FIELDS = {"优": "band_excellent", "良": "band_good", "中": "band_fair", "差": "band_poor"}


class PaymentForm(FlaskForm):
    """Finance records a payment on one instalment."""

    instalment = SelectField(_l("Instalment"), validate_choice=False)
    paid_on = DateField(_l("Date of payment"), validators=[Optional()])
    amount = MoneyField(_l("Amount (yuan)"), validators=[Optional()])
    voucher = StringField(_l("Voucher number"), validators=[Optional()], render_kw={"maxlength": 64})
    note = StringField(_l("Note"), validators=[Optional()], render_kw={"maxlength": 256})


def _effects():
    return choices([(effect, _l(EFFECT_LABELS[effect])) for effect in EFFECTS])


class TermsForm(VersionedForm):
    """The contract's band rule: what each grade does to an instalment that depends on an evaluation."""

    band_excellent = SelectField(_l("Grade 优"), validate_choice=False)
    band_good = SelectField(_l("Grade 良"), validate_choice=False)
    band_fair = SelectField(_l("Grade 中"), validate_choice=False)
    band_poor = SelectField(_l("Grade 差"), validate_choice=False)
    note = StringField(_l("Note"), validators=[Optional()], render_kw={"maxlength": 256})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in GRADE_FIELDS.values():
            self[name].choices = _effects()

    def bands(self) -> dict:
        return {grade: self[name].data for grade, name in GRADE_FIELDS.items()}
