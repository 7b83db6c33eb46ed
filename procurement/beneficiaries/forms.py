"""Forms of the beneficiary pages: shapes only; the checks live in :mod:`procurement.beneficiaries.services`."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from procurement.beneficiaries import services
from procurement.beneficiaries.models import LegalBasis
from procurement.forms import VersionedForm, choices


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _line(label, limit, **kwargs):
    return StringField(label, filters=[_strip], validators=[
        Optional(), Length(max=limit, message=_l("At most %(n)s characters.", n=limit))], **kwargs)


def _text(label, limit=services.TEXT_MAX, rows=3, **kwargs):
    return TextAreaField(label, filters=[_strip], render_kw={"rows": rows}, validators=[
        Optional(), Length(max=limit, message=_l("At most %(n)s characters.", n=limit))], **kwargs)


class BeneficiaryFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or ID number"))
    category = SelectField(_l("Category"), coerce=str, validate_choice=False)


class IdSearchForm(FlaskForm):
    """The exact ID number search: sent by POST so the number stays out of URLs, access logs and history."""

    id_number = StringField(_l("ID number"), filters=[_strip], render_kw={"autocomplete": "off", "maxlength": 18},
                            validators=[Length(max=18, message=_l("An ID number has 18 characters."))])


class BeneficiaryForm(VersionedForm):
    """One person's record; the service checks every field at once (``BeneficiaryInvalid.problems``)."""

    name = _line(_l("Full name"), services.NAME_MAX)
    id_number = StringField(_l("ID number"), filters=[_strip], render_kw={"autocomplete": "off", "maxlength": 18},
                            validators=[Optional(), Length(max=18, message=_l("An ID number has 18 characters."))])
    region = SelectField(_l("Region"), coerce=str, validate_choice=False)
    category = SelectField(_l("Category"), coerce=str, validate_choice=False)
    address = _line(_l("Address"), services.ADDRESS_MAX)
    phone = _line(_l("Phone"), services.PHONE_MAX)
    household = _text(_l("Household"), description=_l("Members of the household and its situation."))
    needs_assessment = _text(_l("Needs assessment"))
    health_notes = _text(_l("Health notes"), description=_l(
        "Sensitive personal information: stored encrypted, shown only on request, and every view is audited."))
    clear_health_notes = BooleanField(_l("Remove the recorded health notes"))
    guardian_name = _line(_l("Guardian's name"), services.NAME_MAX)
    guardian_relation = _line(_l("Guardian's relation"), services.RELATION_MAX)
    guardian_phone = _line(_l("Guardian's phone"), services.PHONE_MAX)
    legal_basis = SelectField(_l("Legal basis"), coerce=str, validate_choice=False)
    legal_basis_note = _line(_l("Legal basis note"), services.NOTE_MAX,
                             description=_l("The consent form, the decision number…"))

    def __init__(self, *args, regions=(), categories=(), region_label=str, **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = choices([("", _l("Choose…"))] + [(r.code, region_label(r)) for r in regions])
        self.category.choices = choices([("", _l("Choose…"))] + [(str(c.id), c.name) for c in categories])
        self.legal_basis.choices = choices([("", _l("Choose…"))] + [(b.value, b.label) for b in LegalBasis])


class AssignForm(FlaskForm):
    """Assign a person to a contract by the exact ID number (looked up through its keyed hash)."""

    id_number = StringField(_l("ID number"), filters=[_strip], render_kw={"autocomplete": "off", "maxlength": 18},
                            validators=[Optional(), Length(max=18, message=_l("An ID number has 18 characters."))])


class EndAssignmentForm(FlaskForm):
    reason = _line(_l("Reason"), services.NOTE_MAX)


class AssignImportForm(FlaskForm):
    """A file of ID numbers to assign to a contract at once (all or nothing)."""

    file = FileField(_l("File of beneficiaries"),
                     description=_l("Excel (.xlsx) or CSV with the column 身份证号码 (and optionally 开始日期); every "
                                    "row is checked and nobody is assigned unless all rows are good."),
                     render_kw={"accept": ".xlsx,.csv,application/vnd.openxmlformats-officedocument."
                                          "spreadsheetml.sheet,text/csv"})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "people")  # the contract page has other forms
        super().__init__(*args, **kwargs)
        self.row_errors = []  # RowError of a refused file, listed on the contract page
        self.rows_checked = 0
