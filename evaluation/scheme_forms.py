"""Forms of the scheme pages: clone a scheme, edit a draft as a table of rows.

The editor's rows are read into :class:`evaluation.schemes.Node` s here: the parent of a row comes from its
code (1.2.3 belongs to 1.2), rows are ordered by their codes, a blank row is ignored and a ticked row is
dropped. Problems of one field (a number that is not a number, bands that cannot be read, a code whose
parent is missing) go on that field; the tree's own problems come from :func:`evaluation.schemes.validate`.
"""

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from evaluation.models import Rule
from evaluation.schemes import CODE_LENGTH, NAME_LENGTH, Node
from procurement.forms import VersionedForm, choices

MAX_ROWS = 200
EMPTY_ROWS = 3
INDICATOR_CODE = re.compile(r"^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$")
BAND = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*[:：]\s*(\d+(?:\.\d+)?(?:\s*/\s*\d+)?)\s*$")
EVIDENCE_MAX = 2000


def rule_choices():
    return choices([("", _l("— (an indicator with sub-indicators)"))] + [(rule.value, rule.label) for rule in Rule])


class CloneForm(FlaskForm):
    """Optional: a new code (another scheme, version 1) and a name; both blank make the next version."""

    code = StringField(_l("New scheme code"), validators=[Optional(), Length(max=32)],
                       description=_l("Leave blank to make the next version of this scheme."))
    name = StringField(_l("Name"), validators=[Optional(), Length(max=128)])


class RowForm(Form):
    """One indicator row of the editor (no CSRF of its own: it is part of the draft form)."""

    code = StringField(_l("Code"), validators=[Optional(), Length(max=CODE_LENGTH)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=NAME_LENGTH)])
    max_points = StringField(_l("Maximum points"), validators=[Optional(), Length(max=20)])
    rule = SelectField(_l("Scoring rule"), validate_choice=False)
    evidence = TextAreaField(_l("Evidence and scoring points"), render_kw={"rows": 2},
                             validators=[Optional(), Length(max=EVIDENCE_MAX)])
    bands = StringField(_l("Rate bands"), validators=[Optional(), Length(max=200)])
    delete = BooleanField(_l("Delete"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule.choices = rule_choices()

    def is_blank(self) -> bool:
        return not any((field.data or "").strip() for field in (self.code, self.name, self.max_points,
                                                                self.rule, self.evidence, self.bands))


class DraftForm(VersionedForm):
    name = StringField(_l("Name"), validators=[Length(max=128)])
    description = TextAreaField(_l("Description"), render_kw={"rows": 2}, validators=[Optional(), Length(max=2000)])
    rows = FieldList(FormField(RowForm), min_entries=0, max_entries=MAX_ROWS)


def bands_text(bands) -> str:
    """Stored bands as the editor shows them: ``100:1, 80:2/3, 60:1/3``; blank for the default bands."""
    if not bands:
        return ""
    return ", ".join(f"{threshold}:{share}" for threshold, share in bands)


def parse_bands(text: str) -> list[list[str]] | None:
    """``100:1, 80:2/3`` → ``[["100", "1"], ["80", "2/3"]]``; blank → None (the default bands).

    Raises:
        ValueError: a part is not ``rate:share``.
    """
    text = (text or "").strip()
    if not text:
        return None
    result = []
    for part in re.split(r"[,，;；]", text):
        if not part.strip():
            continue
        match = BAND.match(part)
        if not match:
            raise ValueError(part)
        result.append([match.group(1), match.group(2).replace(" ", "")])
    if not result:
        raise ValueError(text)
    return result


def _sort_key(code: str):
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in code.split(".")]


def read_rows(form: DraftForm) -> tuple[list[Node], bool]:
    """The tree from the editor's rows; the second value is False when a field got an error."""
    ok = True
    kept = []
    for entry in form.rows:
        row = entry.form
        if row.delete.data or row.is_blank():
            continue
        code = (row.code.data or "").strip()
        if not code:
            row.code.errors = list(row.code.errors) + [_l("Enter the indicator's code, e.g. 1.2.3.")]
            ok = False
            continue
        if not INDICATOR_CODE.match(code):
            row.code.errors = list(row.code.errors) + [_l("A code is numbers separated by dots, e.g. 1.2.3.")]
            ok = False
            continue
        try:
            points = Decimal((row.max_points.data or "").strip().replace("，", "").replace(",", ""))
            if not points.is_finite() or abs(points) >= 10**9:
                raise InvalidOperation
        except InvalidOperation:
            row.max_points.errors = list(row.max_points.errors) + [_l("Enter the maximum points, e.g. 8 or 2.5.")]
            ok = False
            points = None
        try:
            bands = parse_bands(row.bands.data)
        except ValueError:
            row.bands.errors = list(row.bands.errors) + [
                _l("Write the bands as rate:share from the highest rate down, e.g. 100:1, 80:2/3, 60:1/3.")]
            ok = False
            bands = None
        kept.append((entry, Node(code=code, name=(row.name.data or "").strip(), max_points=points,
                                 rule=(row.rule.data or "").strip() or None,
                                 evidence=(row.evidence.data or "").strip() or None, bands=bands)))
    kept.sort(key=lambda pair: _sort_key(pair[1].code))
    by_code: dict[str, Node] = {}
    roots: list[Node] = []
    for entry, node in kept:
        if node.code in by_code:  # validate reports the duplicate; keep the first
            entry.form.code.errors = list(entry.form.code.errors) + [
                _l("This code is used by another row.")]
            ok = False
            continue
        parent_code = node.code.rpartition(".")[0]
        if parent_code and parent_code not in by_code:
            entry.form.code.errors = list(entry.form.code.errors) + [
                _l("There is no row for its parent indicator %(code)s.", code=parent_code)]
            ok = False
            continue
        by_code[node.code] = node
        (by_code[parent_code].children if parent_code else roots).append(node)
    if not ok:
        return roots, False
    return roots, True
