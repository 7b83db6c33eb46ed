from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from procurement.forms import MoneyField, StrictIntegerField, VersionedForm, choices
from procurement.rules import catalog as rules
from procurement.rules.catalog import StaffQualification, Unit


class CheckboxListField(SelectMultipleField):
    """Several choices shown as a row of checkboxes (rendered by macros.render_field)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _code(form, field):
    try:
        field.data = rules.check_item_code(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _frequency(form, field):
    try:
        rules.parse_frequency(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _indicators(form, field):
    names = rules.split_list(field.data)
    if not names:
        raise ValidationError(_l("Name at least one output indicator."))
    if len(names) > rules.INDICATORS_MAX:
        raise ValidationError(_l("At most 10 output indicators."))
    if any(len(n) > rules.INDICATOR_MAX for n in names):
        raise ValidationError(_l("An indicator name has at most 32 characters."))


class ItemForm(VersionedForm):
    code = StringField(_l("Code"), validators=[InputRequired(_l("Enter a code.")), _code],
                       description=_l("Unique within the list, e.g. YN-S01-001."))
    category = SelectField(_l("Category"), coerce=int, validators=[InputRequired(_l("Choose a category."))])
    name = StringField(_l("Service name"), validators=[DataRequired(_l("Enter the service name.")),
                                                       Length(max=rules.NAME_MAX, message=_l("At most 64 characters."))])
    content = TextAreaField(_l("Service content"), render_kw={"rows": 3},
                            validators=[DataRequired(_l("Describe what is done.")),
                                        Length(max=rules.TEXT_MAX, message=_l("At most 2000 characters."))])
    target_groups = CheckboxListField(_l("Target groups"), coerce=int,
                                      validators=[DataRequired(_l("Choose at least one target group."))])
    standard = TextAreaField(_l("Service standard"), render_kw={"rows": 3},
                             validators=[DataRequired(_l("Enter the service standard (quality requirements).")),
                                         Length(max=rules.TEXT_MAX, message=_l("At most 2000 characters."))])
    frequency = StringField(_l("Frequency"), validators=[DataRequired(_l("Enter the frequency.")), _frequency],
                            description=_l("Like 4次/月 (per 日, 周, 月, 季度 or 年), or 按需."))
    duration_minutes = StrictIntegerField(
        _l("Duration per visit (minutes)"),
        validators=[Optional(), NumberRange(1, rules.DURATION_MAX_MINUTES, message=_l("Between 1 and 1440 minutes."))])
    unit = SelectField(_l("Unit of measure"), validators=[InputRequired(_l("Choose a unit."))],
)
    reference_price = MoneyField(
        _l("Reference unit price (yuan)"),
        validators=[InputRequired(_l("Enter the reference unit price.")),
                    NumberRange(min=0.01, max=rules.PRICE_MAX_YUAN,
                                message=_l("The price must be more than 0 and at most 1,000,000.00 yuan."))])
    qualifications = CheckboxListField(_l("Required staff qualifications"))
    indicators = StringField(_l("Output indicators"),
                             validators=[InputRequired(_l("Name at least one output indicator.")), _indicators],
                             description=_l("Separate with “、”, e.g. 服务人次、服务时长、满意度."))

    def __init__(self, *args, categories=(), target_groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = choices((c.id, f"{c.code} {c.name}") for c in categories)
        self.target_groups.choices = choices((g.id, g.name) for g in target_groups)
        self.unit.choices = choices((u.value, u.label) for u in Unit)
        self.qualifications.choices = choices((q.value, q.label) for q in StaffQualification)


class NewListForm(FlaskForm):
    year = StrictIntegerField(_l("Year"), validators=[InputRequired(_l("Enter the year.")),
                                                      NumberRange(2000, 2100, message=_l("Enter a year between 2000 and 2100."))])


class ImportForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"), validators=[FileRequired(_l("Choose the Excel file to import."))])


class AdoptForm(FlaskForm):
    items = SelectMultipleField(_l("Items"), coerce=int,
                                validators=[DataRequired(_l("Choose at least one item to adopt."))])


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Keyword"))
    category = SelectField(_l("Category"), coerce=str)
    group = SelectField(_l("Target group"), coerce=str)
    year = SelectField(_l("Year"), coerce=str)
    scope = SelectField(_l("List"), coerce=str)
    sort = SelectField(_l("Sort by"), choices=choices([
        ("code", _l("Code")), ("name", _l("Name")), ("category", _l("Category")),
        ("price", _l("Price, low to high")), ("-price", _l("Price, high to low"))]))
