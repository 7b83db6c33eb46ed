"""Forms for editing a contract template version, and for checking a document on the public page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from contracts.services import BODY_MAX, TEXT_MAX
from procurement.forms import VersionedForm


class VersionForm(VersionedForm):
    """A draft version: its body, print stylesheet, placeholder schema (JSON) and what changed."""

    body = TextAreaField(_l("Template body (HTML with placeholders)"), render_kw={"rows": 24, "spellcheck": "false"},
                         validators=[DataRequired(_l("The template body cannot be empty.")), Length(max=BODY_MAX)])
    stylesheet = TextAreaField(_l("Print stylesheet (CSS)"), render_kw={"rows": 10, "spellcheck": "false"},
                               validators=[Optional(), Length(max=BODY_MAX)])
    schema = TextAreaField(_l("Placeholder schema (JSON)"), render_kw={"rows": 16, "spellcheck": "false"},
                           validators=[DataRequired(_l("The schema cannot be empty; an empty list is [].")),
                                       Length(max=BODY_MAX)],
                           description=_l("A list of placeholders, each with name, type (text, paragraph, date, "
                                          "money, number or list), required, description and sample."))
    note = TextAreaField(_l("What changed in this version"), render_kw={"rows": 2},
                         validators=[Optional(), Length(max=TEXT_MAX)])


class VerifyForm(FlaskForm):
    """A PDF to check against the documents this system issued."""

    document = FileField(_l("PDF document"), render_kw={"accept": ".pdf,application/pdf"},
                         validators=[FileRequired(_l("Choose the PDF file to check."))])
