"""Forms of the supervision pages: shapes only; every rule is checked by the services, all problems at once."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from procurement.forms import StrictIntegerField, VersionedForm, choices
from procurement.oversight.models import (
    ComplaintChannel,
    Confirmation,
    InspectionKind,
    Outcome,
    Satisfaction,
    Severity,
)


def _enum_choices(enum_cls, blank: str | None = None):
    pairs = [(m.value, m.label) for m in enum_cls]
    return choices(([("", blank)] if blank else []) + pairs)


class _EnumSelect(SelectField):
    """A select of an enum's members; an unknown value reads as nothing (the service then names the field)."""

    def __init__(self, label, enum_cls, **kwargs):
        super().__init__(label, validators=[Optional()], validate_choice=False, **kwargs)
        self.enum_cls = enum_cls

    def member(self):
        return self.enum_cls._value2member_map_.get(self.data) if isinstance(self.data, str) else None


class InspectionForm(FlaskForm):
    kind = _EnumSelect(_l("Kind of inspection"), InspectionKind)
    inspected_on = DateField(_l("Date of the inspection"), validators=[Optional()])
    period_start = DateField(_l("Period inspected: from"), validators=[Optional()])
    period_end = DateField(_l("Period inspected: to"), validators=[Optional()])
    inspectors = StringField(_l("Inspectors"), validators=[Optional()], render_kw={"maxlength": 256},
                             description=_l("Names and units of the people who inspected."))
    place = StringField(_l("Place"), validators=[Optional()], render_kw={"maxlength": 256},
                        description=_l("Required for an on-site inspection."))
    sample_size = StrictIntegerField(_l("Beneficiaries to call back"), validators=[Optional()],
                                     description=_l("A phone follow-up: the app draws this many at random among "
                                                    "those the supplier reports having served in the period."))
    summary = TextAreaField(_l("What was looked at and found"), validators=[Optional()], render_kw={"rows": 4})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _enum_choices(InspectionKind, "—")


class SummaryForm(VersionedForm):
    summary = TextAreaField(_l("What was looked at and found"), validators=[Optional()], render_kw={"rows": 4})


class CallForm(FlaskForm):
    """One sampled beneficiary's answers; fields carry the call's id so several forms live on one page."""

    called_on = DateField(_l("Called on"), validators=[Optional()])
    reached = RadioField(_l("Reached"), validators=[Optional()], validate_choice=False)
    confirmation = _EnumSelect(_l("Services reported"), Confirmation)
    satisfaction = _EnumSelect(_l("Satisfaction"), Satisfaction)
    note = StringField(_l("Note"), validators=[Optional()], render_kw={"maxlength": 512})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reached.choices = choices([("yes", _l("Reached")), ("no", _l("Not reached"))])
        self.confirmation.choices = _enum_choices(Confirmation, "—")
        self.satisfaction.choices = _enum_choices(Satisfaction, "—")

    def reached_value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.reached.data)


class ComplaintForm(FlaskForm):
    received_on = DateField(_l("Received on"), validators=[Optional()])
    channel = _EnumSelect(_l("Channel"), ComplaintChannel)
    subject = TextAreaField(_l("What the complaint says"), validators=[Optional()], render_kw={"rows": 4},
                            description=_l("Do not write the complainant's name, ID number or phone here."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = _enum_choices(ComplaintChannel, "—")


class CloseComplaintForm(VersionedForm):
    closed_on = DateField(_l("Closed on"), validators=[Optional()])
    substantiated = RadioField(_l("Substantiated"), validators=[Optional()], validate_choice=False)
    handling = TextAreaField(_l("Handling and reply"), validators=[Optional()], render_kw={"rows": 3})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.substantiated.choices = choices([("yes", _l("Substantiated")), ("no", _l("Not substantiated"))])

    def substantiated_value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.substantiated.data)


class FindingForm(FlaskForm):
    found_on = DateField(_l("Found on"), validators=[Optional()])
    severity = _EnumSelect(_l("Severity"), Severity)
    description = TextAreaField(_l("What is wrong"), validators=[Optional()], render_kw={"rows": 3})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.severity.choices = _enum_choices(Severity, "—")


class NoticeForm(FlaskForm):
    issued_on = DateField(_l("Issued on"), validators=[Optional()])
    working_days = StrictIntegerField(_l("Working days to put it right"), validators=[Optional()])
    requirement = TextAreaField(_l("What must be put right"), validators=[Optional()], render_kw={"rows": 3})


class EvidenceForm(FlaskForm):
    evidence = FileField(_l("Evidence"), description=_l("A photo, sign-in sheet or document: PDF, JPEG or PNG."))


class AnswerForm(VersionedForm):
    answer = TextAreaField(_l("What was put right"), validators=[Optional()], render_kw={"rows": 4})


class CloseNoticeForm(VersionedForm):
    reinspected_on = DateField(_l("Re-inspected on"), validators=[Optional()])
    outcome = _EnumSelect(_l("Outcome of the re-inspection"), Outcome)
    closing_note = TextAreaField(_l("Findings of the re-inspection"), validators=[Optional()], render_kw={"rows": 3})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome.choices = _enum_choices(Outcome, "—")


class NoticeFilterForm(FlaskForm):
    class Meta:
        csrf = False

    state = SelectField(_l("State"), validators=[Optional()], validate_choice=False)
