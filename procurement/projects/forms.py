"""Forms of the project pages: one per use case.  Shapes only; cross-record rules live in the services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from procurement.forms import MoneyField, StrictIntegerField, VersionedForm, choices
from procurement.projects import services
from procurement.projects.models import FundingSource, TargetDirection
from procurement.rules.procurement import Method, SingleSourceGround
from procurement.rules.stages import STAGE_ORDER, ProjectStage

MAX_ID = 2**31 - 1


def parse_id(value) -> int | None:
    """A row id typed or picked by the user, or None when it cannot be one."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def _year_field(label):
    return StrictIntegerField(label, validators=[
        InputRequired(_l("Enter the fiscal year.")),
        NumberRange(2000, 2100, message=_l("Enter a year between 2000 and 2100."))])


class ProjectFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Keyword"))
    stage = SelectField(_l("Stage"), coerce=str, validate_choice=False)
    year = SelectField(_l("Fiscal year"), coerce=str, validate_choice=False)
    method = SelectField(_l("Method"), coerce=str, validate_choice=False)
    region = SelectField(_l("Region"), coerce=str, validate_choice=False)
    sort = SelectField(_l("Sort by"), coerce=str, validate_choice=False, choices=choices([
        ("-changed", _l("Stage changed, newest first")), ("changed", _l("Stage changed, oldest first")),
        ("code", _l("Code")), ("-total", _l("Total, high to low")), ("total", _l("Total, low to high"))]))

    def __init__(self, *args, years=(), regions=(), region_label=str, **kwargs):
        super().__init__(*args, **kwargs)
        stages = STAGE_ORDER + [ProjectStage.CANCELLED, ProjectStage.FAILED]
        self.stage.choices = choices([("", _l("All stages"))] + [(s.value, s.label) for s in stages])
        self.year.choices = choices([("", _l("All years"))] + [(str(y), str(y)) for y in years])
        self.method.choices = choices([("", _l("All methods"))] + [(m.value, m.label) for m in Method])
        self.region.choices = choices([("", _l("All regions"))] + [(r.code, region_label(r)) for r in regions])


class ProjectForm(VersionedForm):
    title = StringField(_l("Title"), validators=[
        DataRequired(_l("Enter the title.")),
        Length(max=services.TITLE_MAX, message=_l("At most 128 characters."))])
    fiscal_year = _year_field(_l("Fiscal year"))
    budget_line = SelectField(_l("Budget line"), coerce=str, validate_choice=False,
                              description=_l("The bureau's budget lines by fiscal year, with what is still free on each; choose one of the project's year."))
    description = TextAreaField(_l("Description"), render_kw={"rows": 3}, validators=[
        Optional(), Length(max=services.TEXT_MAX, message=_l("At most 4000 characters."))])
    expected_beneficiaries = StrictIntegerField(_l("Expected beneficiaries"), validators=[
        Optional(), NumberRange(0, services.MAX_BENEFICIARIES, message=_l("Between 0 and 10,000,000."))])
    service_start = DateField(_l("Service starts on"), validators=[Optional()])
    service_end = DateField(_l("Service ends on"), validators=[Optional()])
    service_place = StringField(_l("Place of service"), validators=[
        Optional(), Length(max=services.PLACE_MAX, message=_l("At most 256 characters."))])

    def __init__(self, *args, budget_lines=(), **kwargs):
        """``budget_lines``: (id, label, fiscal year) of the bureau's lines, shown grouped by year."""
        super().__init__(*args, **kwargs)
        self.budget_line.choices = choices([("", _l("— none yet —"))]) + [
            SelectChoice(value, label, optgroup=str(year)) for value, label, year in budget_lines]

    def validate_budget_line(self, field):
        if field.data and parse_id(field.data) is None:
            raise ValidationError(_l("Choose one of the budget lines."))

    def validate_service_end(self, field):
        start = self.service_start.data
        if field.data and start and field.data < start:
            raise ValidationError(_l("The service period must end on or after its start."))


class LineForm(FlaskForm):
    item = SelectField(_l("Service item"), coerce=str, validate_choice=False,
                       validators=[InputRequired(_l("Choose a service item."))])
    quantity = StrictIntegerField(_l("Quantity"), validators=[
        InputRequired(_l("Enter the quantity.")),
        NumberRange(1, services.MAX_QUANTITY, message=_l("The quantity must be a whole number from 1 to 10,000,000."))])
    unit_price = MoneyField(_l("Unit price (yuan)"), validators=[
        Optional(),
        NumberRange(min=0.01, max=float(services.MAX_UNIT_PRICE),
                    message=_l("The price must be more than 0 and at most 1,000,000.00 yuan."))],
        description=_l("Leave empty to use the item's reference price."))

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.item.choices = choices([("", _l("— choose —"))] + [
            (str(i.id), f"{i.code} {i.name} · {i.unit.label} · ¥{i.reference_price:,.2f}") for i in items])

    def validate_item(self, field):
        if parse_id(field.data) is None:
            raise ValidationError(_l("Choose a service item of the county's list."))


class TargetForm(FlaskForm):
    indicator = StringField(_l("Indicator"), render_kw={"list": "indicator-suggestions", "autocomplete": "off"},
                            validators=[DataRequired(_l("Name the indicator.")),
                                        Length(max=services.INDICATOR_MAX, message=_l("At most 64 characters."))])
    direction = SelectField(_l("Direction"), validators=[InputRequired(_l("Choose a direction."))],
                            choices=choices([(d.value, d.symbol) for d in TargetDirection]))
    target_value = MoneyField(_l("Target value"), validators=[
        InputRequired(_l("Enter the target value.")),
        NumberRange(min=0, max=float(services.MAX_TARGET_VALUE),
                    message=_l("The target value must be 0 or more, with at most two decimals."))])
    unit = StringField(_l("Unit"), validators=[DataRequired(_l("Give the unit.")),
                                               Length(max=services.UNIT_MAX, message=_l("At most 16 characters."))],
                       description=_l("For example 人次, 小时, %."))


class MethodForm(VersionedForm):
    method = SelectField(_l("Procurement method"), validators=[InputRequired(_l("Choose a method."))])
    method_approval_by = StringField(_l("Approved by"), validators=[
        Optional(), Length(max=services.REF_MAX, message=_l("At most 128 characters."))],
        description=_l("The prefecture-level finance department."))
    method_approval_ref = StringField(_l("Approval document number"), validators=[
        Optional(), Length(max=services.REF_MAX, message=_l("At most 128 characters."))])
    method_approval_on = DateField(_l("Approved on"), validators=[Optional()])
    single_source_ground = SelectField(_l("Single-source ground"), coerce=str, default="")
    single_source_reason = TextAreaField(_l("Why the ground applies"), render_kw={"rows": 3}, validators=[
        Optional(), Length(max=services.TEXT_MAX, message=_l("At most 4000 characters."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.method.choices = choices((m.value, m.label) for m in Method)
        self.single_source_ground.choices = choices(
            [("", _l("— not single source —"))] + [(g.value, g.label) for g in SingleSourceGround])


class SplitApprovalForm(VersionedForm):
    split_approval_ref = StringField(_l("Document number"), validators=[
        DataRequired(_l("Enter the document number of the adjustment or approval.")),
        Length(max=services.REF_MAX, message=_l("At most 128 characters."))])
    split_approval_on = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    split_approval_note = TextAreaField(_l("Note"), render_kw={"rows": 3}, validators=[
        Optional(), Length(max=services.TEXT_MAX, message=_l("At most 4000 characters."))])


class TransitionForm(VersionedForm):
    target = HiddenField()
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2}, validators=[
        Optional(), Length(max=services.TEXT_MAX, message=_l("At most 4000 characters."))])


class BudgetLineForm(VersionedForm):
    fiscal_year = _year_field(_l("Fiscal year"))
    funding_source = SelectField(_l("Source of funds"), validators=[InputRequired(_l("Choose the source of funds."))],
                                 choices=choices((f.value, f.label) for f in FundingSource))
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the name of the budget line.")),
                                               Length(max=128, message=_l("At most 128 characters."))])
    amount = MoneyField(_l("Amount (yuan)"), validators=[
        InputRequired(_l("Enter the amount.")),
        NumberRange(min=0.01, max=float(services.MAX_BUDGET),
                    message=_l("The amount must be more than 0 and at most ¥10,000,000,000.00."))])
    approval_ref = StringField(_l("Approval reference"), validators=[
        DataRequired(_l("Enter the reference of the budget approval.")),
        Length(max=services.REF_MAX, message=_l("At most 128 characters."))],
        description=_l("The budget document that approved the money, e.g. 绥财预〔2026〕12号."))
    approved_on = DateField(_l("Approved on"), validators=[Optional()])
    note = TextAreaField(_l("Note"), render_kw={"rows": 2}, validators=[
        Optional(), Length(max=services.TEXT_MAX, message=_l("At most 4000 characters."))])


class BudgetFilterForm(FlaskForm):
    class Meta:
        csrf = False

    year = SelectField(_l("Fiscal year"), coerce=str, validate_choice=False)

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.year.choices = choices([("", _l("All years"))] + [(str(y), str(y)) for y in years])
