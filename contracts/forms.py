"""Forms of the contract pages: shapes only; the contract's rules live in :mod:`contracts.rules` and the services."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from contracts import services
from contracts.models import ContractState, InstalmentCondition, ReportFrequency
from procurement.forms import MoneyField, PercentField, StrictIntegerField, VersionedForm, choices
from procurement.projects.services import MAX_QUANTITY, MAX_UNIT_PRICE

TEXT_MAX = services.TEXT_MAX
MAX_ROWS = services.MAX_INSTALMENTS


class ContractFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Keyword"))
    state = SelectField(_l("State"), coerce=str, validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.state.choices = choices([("", _l("All states"))] + [(s.value, s.label) for s in ContractState])


def _text(label, limit=TEXT_MAX, rows=3, **kwargs):
    return TextAreaField(label, render_kw={"rows": rows}, validators=[
        Optional(), Length(max=limit, message=_l("At most %(n)s characters.", n=limit))], **kwargs)


class ContractForm(VersionedForm):
    """The terms of a draft (``services.CONTRACT_FIELDS``)."""

    title = StringField(_l("Contract title"), validators=[DataRequired(_l("Enter the title of the contract.")),
                                                 Length(max=128, message=_l("At most %(n)s characters.", n=128))])
    term_start = DateField(_l("Term starts on"), validators=[InputRequired(_l("Enter the first day of the term."))])
    term_end = DateField(_l("Term ends on"), validators=[InputRequired(_l("Enter the last day of the term."))])
    long_term_justification = _text(_l("Why a term over 12 months"), description=_l(
        "Needed for a term over 12 months: the service is stable and continuous, backed by the budget and stable "
        "in price. At most 36 months."))
    service_place = StringField(_l("Place of service"), validators=[
        Optional(), Length(max=services.REF_MAX, message=_l("At most %(n)s characters.", n=services.REF_MAX))])
    bond_percent = PercentField(_l("Performance bond (percent of the amount)"), validators=[Optional()],
                                description=_l("At most 10 percent; leave empty or 0 for no bond."))
    payment_days = StrictIntegerField(_l("Payment due within (days)"),
                                      validators=[InputRequired(_l("Enter the number of days."))],
                                      description=_l("From acceptance of the service; at most 60 days."))
    late_interest_per_day = PercentField(_l("Overdue interest (percent per day)"), default=Decimal("0.05"),
                                         validators=[InputRequired(_l("Enter the daily rate."))],
                                         description=_l("The law's default is 0.05 percent per day."))
    report_frequency = SelectField(_l("The supplier reports"), validators=[InputRequired(_l("Choose one."))],
                                   choices=choices((f.value, f.label) for f in ReportFrequency))
    staff_requirements = _text(_l("Staff requirements"))
    beneficiary_assignment = _text(_l("How beneficiaries are assigned"))
    special_terms = _text(_l("Special terms"))


def lines_form(contract):
    """A quantity and a unit price for each line of the contract (``quantity_<id>``, ``price_<id>``)."""
    fields = {}
    for line in contract.lines:
        fields[f"quantity_{line.id}"] = StrictIntegerField(_l("Quantity"), validators=[
            InputRequired(_l("Enter the quantity.")),
            NumberRange(1, MAX_QUANTITY, message=_l("A quantity from 1 to %(n)s.", n=MAX_QUANTITY))])
        fields[f"price_{line.id}"] = MoneyField(_l("Unit price (yuan)"), validators=[
            InputRequired(_l("Enter the unit price.")),
            NumberRange(min=0.01, max=float(MAX_UNIT_PRICE),
                        message=_l("A unit price above 0 and at most %(n)s yuan.", n=MAX_UNIT_PRICE))])
    return type("LinesForm", (VersionedForm,), fields)


def instalments_form():
    """Up to 12 rows of percent, condition and note (``percent_<n>``, ``condition_<n>``, ``note_<n>``)."""
    fields = {}
    condition_choices = choices((c.value, c.label) for c in InstalmentCondition)
    for n in range(1, MAX_ROWS + 1):
        fields[f"percent_{n}"] = PercentField(_l("Percent"), validators=[Optional()])
        fields[f"condition_{n}"] = SelectField(_l("Condition"), choices=condition_choices,
                                               validators=[Optional()], validate_choice=True)
        fields[f"note_{n}"] = StringField(_l("Note"), validators=[
            Optional(), Length(max=256, message=_l("At most %(n)s characters.", n=256))])
    return type("InstalmentsForm", (VersionedForm,), fields)


InstalmentsForm = instalments_form()


class SignForm(VersionedForm):
    signed_on = DateField(_l("Signed on"), validators=[InputRequired(_l("Enter the date of signing."))])
    purchaser_signatory = StringField(_l("Signatory of the purchaser"), validators=[
        DataRequired(_l("Who signs for this party?")),
        Length(max=services.NAME_MAX, message=_l("At most %(n)s characters.", n=services.NAME_MAX))])
    supplier_signatory = StringField(_l("Signatory of the supplier"), validators=[
        DataRequired(_l("Who signs for this party?")),
        Length(max=services.NAME_MAX, message=_l("At most %(n)s characters.", n=services.NAME_MAX))])
    scan = FileField(_l("Sealed scan (PDF, JPEG or PNG)"), validators=[Optional()],
                     description=_l("Optional: the paper copy with both seals, scanned."))


class PublishForm(VersionedForm):
    published_on = DateField(_l("Published on"), validators=[InputRequired(_l("Enter the date of publication."))])
    publication_ref = StringField(_l("Where it was published"), validators=[
        DataRequired(_l("Where was it published (the website or the notice number)?")),
        Length(max=services.REF_MAX, message=_l("At most %(n)s characters.", n=services.REF_MAX))])


class FileForm(VersionedForm):
    filed_on = DateField(_l("Filed on"), validators=[InputRequired(_l("Enter the date of filing."))])
    filing_ref = StringField(_l("Filing reference"), validators=[
        Optional(), Length(max=128, message=_l("At most %(n)s characters.", n=128))])


class StartForm(VersionedForm):
    started_on = DateField(_l("Service started on"), validators=[InputRequired(_l("Enter the first day of service."))])


def supplement_form(parent):
    """The reason and a quantity to add for each line of the original contract (``qty_<id>``)."""
    fields = {"change_reason": TextAreaField(_l("Why the service is added"), render_kw={"rows": 3}, validators=[
        DataRequired(_l("Say why the service is added; it is kept with the contract.")),
        Length(max=TEXT_MAX, message=_l("At most %(n)s characters.", n=TEXT_MAX))])}
    for line in parent.lines:
        fields[f"qty_{line.id}"] = StrictIntegerField(_l("Quantity to add"), validators=[Optional()])
    return type("SupplementForm", (FlaskForm,), fields)
