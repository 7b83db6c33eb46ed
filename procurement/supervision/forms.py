"""Forms of the service-report pages: shapes only; the checks of a delivery live in the services and rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from procurement.forms import MoneyField, TwoPlacesField, VersionedForm, choices


class QuantityField(TwoPlacesField):
    invalid_message = _l("Enter a quantity, e.g. 1.5.")


class OpenForm(FlaskForm):
    """Open (or make) the report of one period: ``period`` is the ISO date of its first day."""

    period = StringField(_l("Reporting period"))


class RowForm(FlaskForm):
    """One delivery; every field is checked by the service, so all its problems are shown at once."""

    id_number = StringField(_l("ID number of the beneficiary"), validators=[Optional()],
                            render_kw={"autocomplete": "off", "maxlength": 18})
    item = SelectField(_l("Service item"), validators=[Optional()], validate_choice=False)
    delivered_on = DateField(_l("Date of the service"), validators=[Optional()])
    quantity = QuantityField(_l("Quantity"), validators=[Optional()])
    worker = StringField(_l("Service worker"), validators=[Optional()], render_kw={"maxlength": 64})
    note = StringField(_l("Note"), validators=[Optional()], render_kw={"maxlength": 256})

    def __init__(self, *args, contract=None, **kwargs):
        super().__init__(*args, **kwargs)
        codes = []
        if contract is not None:
            lines = list(contract.lines)
            if contract.parent_id is None:
                for supplement in contract.supplements:
                    lines.extend(supplement.lines)
            seen = set()
            for line in lines:
                if line.item.code not in seen:
                    seen.add(line.item.code)
                    codes.append((line.item.code, f"{line.item.code} {line.item.name}"))
        self.item.choices = choices(codes)


class NarrativeForm(VersionedForm):
    narrative = TextAreaField(_l("Narrative"), validators=[Optional()], render_kw={"rows": 6},
                              description=_l("The period's work in a few paragraphs: what was done, for whom, "
                                             "what went wrong and what comes next."))


class ExpenditureForm(FlaskForm):
    purpose = StringField(_l("Purpose"), validators=[Optional()], render_kw={"maxlength": 128})
    amount = MoneyField(_l("Amount (yuan)"), validators=[Optional()])
    note = StringField(_l("Note"), id="expenditure_note", validators=[Optional()], render_kw={"maxlength": 256})


class AttachmentForm(FlaskForm):
    attachment = FileField(_l("Attachment"), description=_l("A sign-in sheet, photo or receipt: PDF, JPEG or PNG."))


class ImportForm(FlaskForm):
    """A file of delivery rows (Excel or CSV, the template's columns): checked all or nothing."""

    file = FileField(_l("File of deliveries"),
                     description=_l("Excel (.xlsx) or CSV with the template's columns; every row is checked and "
                                    "nothing is imported unless all rows are good."),
                     render_kw={"accept": ".xlsx,.csv,application/vnd.openxmlformats-officedocument."
                                          "spreadsheetml.sheet,text/csv"})


class SubmitForm(VersionedForm):
    pass


class ReturnForm(VersionedForm):
    """The overall reason; the reasons per row come as ``row_<id>`` fields of the rows table."""

    reason = TextAreaField(_l("Reason for returning"), validators=[Optional()], render_kw={"rows": 3})


class AcceptForm(VersionedForm):
    pass
