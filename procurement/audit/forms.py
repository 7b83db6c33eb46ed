"""The audit log's filter form (a GET form: no CSRF token, nothing changes)."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from procurement.audit.queries import AuditFilter

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class BeijingDateField(DateField):
    """A calendar date (YYYY-MM-DD) with a friendly message for anything else."""

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = datetime.strptime(str(valuelist[0]).strip(), "%Y-%m-%d").date()
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date like 2026-11-29.")) from None


def _in_range(form, field):
    if field.data is not None and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(_l("Enter a date between 2000 and 2100."))


def _text(max_len=64):
    return [Optional(), Length(max=max_len, message=_l("At most %(max)d characters."))]


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = BeijingDateField(_l("From (Beijing date)"), validators=[Optional(), _in_range])
    date_to = BeijingDateField(_l("To (Beijing date)"), validators=[Optional(), _in_range])
    user = StringField(_l("User"), validators=_text(), description=_l("User name or full name"))
    action = SelectField(_l("Action"), default="")
    outcome = SelectField(_l("Outcome"), default="")
    object_type = StringField(_l("Object type"), validators=_text())
    object_id = StringField(_l("Object ID"), validators=_text())
    ip = StringField(_l("IP address"), validators=_text(), description=_l("Exact address, or a prefix ending in *"))

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def to_filter(self) -> AuditFilter:
        def text(field):
            return (field.data or "").strip()

        return AuditFilter(
            date_from=self.date_from.data, date_to=self.date_to.data, user=text(self.user),
            action=self.action.data or "", outcome=self.outcome.data or "", object_type=text(self.object_type),
            object_id=text(self.object_id), ip=text(self.ip),
        )
