"""Forms of the purchase steps, the deadlines filter and the working-day calendar: shape checks only.

Cross-record rules (periods, eligibility, budget, order of dates against the project) are the services'.
"""

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from procurement.forms import MoneyField, VersionedForm, choices
from procurement.orgs.forms import StrictDateField
from procurement.projects.models import DayOff
from procurement.rules.clock import beijing_today

#: No bid for a social-assistance service comes near this; larger figures are typing mistakes.
MAX_PRICE = Decimal("100000000.00")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _not_in_future(form, field):
    """The step records something that has happened: it cannot be dated after today (Beijing time)."""
    if field.data is not None and field.data > beijing_today():
        raise ValidationError(_l("This date is in the future; record the step once it has happened."))


def _price_range(form, field):
    # Not NumberRange: it would add a second message to an amount that could not be read at all.
    if field.data is not None and not Decimal("0.01") <= field.data <= MAX_PRICE:
        raise ValidationError(_l("The price must be more than 0 and at most 100,000,000.00 yuan."))


class ScoreField(DecimalField):
    """A committee score from 0 to 100 with at most two decimals; parse errors are friendly messages."""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not str(valuelist[0]).strip():
            return
        try:
            value = Decimal(str(valuelist[0]).strip())
        except InvalidOperation:
            raise ValueError(_l("Enter a score like 85.5.")) from None
        if not value.is_finite():
            raise ValueError(_l("Enter a score like 85.5."))
        if not Decimal(0) <= value <= Decimal(100):
            raise ValueError(_l("A score is between 0 and 100."))
        if value != value.quantize(Decimal("0.01")):
            raise ValueError(_l("A score has at most two decimals."))
        self.data = value.quantize(Decimal("0.01"))


def _score(label):
    return ScoreField(label, validators=[Optional()], description=_l("0 to 100, at most two decimals."))


class AnnouncementForm(VersionedForm):
    documents_issued_on = StrictDateField(_l("Documents issued on"),
                                          validators=[InputRequired(_l("Enter the date the documents were issued."))])
    response_deadline = StrictDateField(_l("Response deadline"), validators=[Optional()],
                                        description=_l("The day bids or responses close."))
    announcement_ref = StringField(_l("Announcement reference or address"), filters=[_strip],
                                   validators=[Optional(), Length(max=256, message=_l("At most 256 characters."))],
                                   description=_l("The notice number, or its address on the government procurement website."))


class NoticeForm(VersionedForm):
    notice_start = StrictDateField(_l("Notice published on"), validators=[InputRequired(_l("Enter the first day of the notice."))])
    notice_end = StrictDateField(_l("Notice ends on"), validators=[InputRequired(_l("Enter the last day of the notice."))])


class InvitationForm(FlaskForm):
    supplier = SelectField(_l("Supplier"), coerce=str, validators=[DataRequired(_l("Choose a supplier."))])
    invited_on = StrictDateField(_l("Invited on"), validators=[InputRequired(_l("Enter the date of the invitation.")),
                                                               _not_in_future])


class BidForm(FlaskForm):
    supplier = SelectField(_l("Supplier"), coerce=str, validators=[DataRequired(_l("Choose a supplier."))])
    submitted_on = StrictDateField(_l("Submitted on"), validators=[InputRequired(_l("Enter the date the bid was received.")),
                                                                   _not_in_future])
    price = MoneyField(_l("Price (yuan)"), validators=[InputRequired(_l("Enter the price of the bid.")), _price_range])
    technical_score = _score(_l("Technical score"))
    price_score = _score(_l("Price score"))
    total_score = _score(_l("Total score"))
    note = TextAreaField(_l("Note"), filters=[_strip], render_kw={"rows": 2},
                         validators=[Optional(), Length(max=2000, message=_l("At most 2000 characters."))])


class ScoreForm(VersionedForm):
    technical_score = _score(_l("Technical score"))
    price_score = _score(_l("Price score"))
    total_score = ScoreField(_l("Total score"), validators=[InputRequired(_l("Enter the total score."))],
                             description=_l("0 to 100, at most two decimals."))


class EvaluationForm(VersionedForm):
    evaluated_on = StrictDateField(_l("Evaluated on"), validators=[InputRequired(_l("Enter the date of the evaluation.")),
                                                                   _not_in_future])
    evaluation_result = TextAreaField(
        _l("The evaluation committee's result"), filters=[_strip], render_kw={"rows": 5},
        validators=[DataRequired(_l("Enter the committee's result: the ranking and the recommended supplier.")),
                    Length(max=4000, message=_l("At most 4000 characters."))])


class AwardForm(VersionedForm):
    supplier = SelectField(_l("Awarded supplier"), coerce=str, validators=[DataRequired(_l("Choose the awarded supplier."))])
    award_decided_on = StrictDateField(_l("Award decided on"),
                                       validators=[InputRequired(_l("Enter the date of the award decision.")), _not_in_future])
    award_notice_on = StrictDateField(_l("Award notice published on"),
                                      validators=[InputRequired(_l("Enter the date the award notice is published."))],
                                      description=_l("At most 2 working days after the decision."))


class DeadlineFilterForm(FlaskForm):
    class Meta:
        csrf = False

    state = SelectField(_l("Show"), coerce=str)
    step = SelectField(_l("Step"), coerce=str)
    bureau = SelectField(_l("Purchaser"), coerce=str)


# --- the working-day calendar ----------------------------------------------------------------

class CalendarYearForm(FlaskForm):
    source = StringField(_l("Source"), filters=[_strip],
                         validators=[DataRequired(_l("Enter the source of the schedule.")),
                                     Length(max=128, message=_l("At most 128 characters."))],
                         description=_l("The title of the State Council notice, e.g. 国务院办公厅关于2027年部分节假日安排的通知."))


class CalendarDayForm(FlaskForm):
    day = StrictDateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    kind = SelectField(_l("Type of day"), coerce=str, validators=[DataRequired(_l("Choose the kind of day."))],
                       choices=choices([(DayOff.HOLIDAY.value, _l("Holiday: a weekday off")),
                                        (DayOff.WORKDAY.value, _l("Adjusted working day: a weekend day worked"))]))
    name = StringField(_l("Name"), filters=[_strip],
                       validators=[DataRequired(_l("Enter the name, e.g. 春节 or 春节调休.")),
                                   Length(max=32, message=_l("At most 32 characters."))])


class CalendarRemoveForm(FlaskForm):
    day = StrictDateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
