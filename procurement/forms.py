"""Form helpers shared by every area."""

from decimal import Decimal, InvalidOperation

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, IntegerField
from wtforms.fields.choices import SelectChoice


class VersionedForm(FlaskForm):
    """A form for a record two people may edit at once: carries the version the user loaded."""

    version = HiddenField()

    def loaded_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class StrictIntegerField(IntegerField):
    """An integer field whose parse error is a friendly message."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] not in ("", None):
            raw = str(valuelist[0]).strip().replace(",", "")
            try:
                self.data = int(raw)
            except ValueError:
                self.data = None
                raise ValueError(_l("Enter a whole number.")) from None
            if abs(self.data) >= 10**15:  # NumberRange would overflow converting it to float
                self.data = None
                raise ValueError(_l("The number is too large."))
        else:
            self.data = None


class TwoPlacesField(DecimalField):
    """A decimal with at most two places, from what people type; subclasses say how to read it and what to answer."""

    #: Absurd magnitudes (1e999999) would overflow quantize; nothing typed here is near this.
    limit = Decimal("1e15")
    invalid_message = _l("Enter a number.")
    places_message = _l("At most two decimals.")

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, places=2, **kwargs)

    def clean(self, raw: str) -> str:
        return raw

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not str(valuelist[0]).strip():
            return
        try:
            value = Decimal(self.clean(str(valuelist[0]).strip()))
            if not value.is_finite() or abs(value) >= self.limit:
                raise InvalidOperation
            quantized = value.quantize(Decimal("0.01"))
        except InvalidOperation:
            raise ValueError(self.invalid_message) from None
        if value != quantized:
            raise ValueError(self.places_message)
        self.data = quantized


class MoneyField(TwoPlacesField):
    """Yuan with at most two decimals; accepts “1,350.00” and “¥1350”."""

    invalid_message = _l("Enter an amount in yuan, e.g. 1350.00.")
    places_message = _l("An amount has at most two decimals (fen).")

    def clean(self, raw: str) -> str:
        return raw.replace(",", "").replace("，", "").lstrip("¥￥").strip()


class PercentField(TwoPlacesField):
    """A percentage with at most two decimals: “5”, “5%” and “0.05 %” are accepted."""

    limit = Decimal("1e6")
    invalid_message = _l("Enter a percentage, e.g. 5 or 0.05.")
    places_message = _l("A percentage has at most two decimals.")

    def clean(self, raw: str) -> str:
        return raw.replace("％", "%").rstrip("%").strip()


def choices(pairs) -> list[SelectChoice]:
    """``[(value, label), …]`` as WTForms ≥ 3.3 wants select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def show_domain_error(form, exc, fields: dict | None = None) -> None:
    """Put a service's refusal next to its field, or flash it when it belongs to no field.

    ``fields`` maps a service's field names to the form's where they differ. A refusal of access is
    not a form error: it propagates to the central handler (403).
    """
    from procurement.errors import AccessDenied

    if isinstance(exc, AccessDenied):
        raise exc
    name = fields.get(exc.field, exc.field) if fields and exc.field else exc.field
    field = form[name] if name and name in form else None
    if field is not None:
        field.errors = list(field.errors) + [exc.message]
    else:
        flash(exc.message, "danger")


def show_problems(form, exc, field_names: dict | None = None, describe=None) -> None:
    """Every problem of a refusal next to its field, or above the form when it names none of the form's fields.

    A service lists its problems in ``exc.problems`` as ``(field, message)`` pairs or as objects with ``field``
    and ``message``; ``field_names`` maps a service's names to the form's where they differ; ``describe`` turns
    a problem object into its text (e.g. with its legal citation). A refusal of access is not a form error: it
    propagates to the central handler (403).
    """
    from procurement.errors import AccessDenied

    if isinstance(exc, AccessDenied):
        raise exc
    for problem in getattr(exc, "problems", None) or [(exc.field or "", exc.message)]:
        if isinstance(problem, tuple):
            name, text = problem
        else:
            name, text = problem.field, describe(problem) if describe else problem.message
        name = (field_names or {}).get(name, name)
        if name and name in form and name not in ("version", "csrf_token"):
            form[name].errors = list(form[name].errors) + [text]
        elif text not in form.form_errors:
            form.form_errors.append(text)


def run_service(form, change, current_version=None, show=None):
    """Run one service call for a submitted form and commit: ``(result, None)``.

    A refusal is rolled back and put on the form (by ``show``, default :func:`show_problems`): ``(None, 409)``
    after an edit conflict — the form then carries ``current_version()``, against which the user's next save
    is made —, else ``(None, 400)``.
    """
    from procurement.errors import ConflictError, DomainError
    from procurement.extensions import db

    try:
        result = change()
    except ConflictError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        if current_version is not None and "version" in form:
            form.version.data = str(current_version())
        return None, 409
    except DomainError as exc:
        db.session.rollback()
        (show or show_problems)(form, exc)
        return None, 400
    db.session.commit()
    return result, None


def form_status(form) -> int:
    """400 for a submitted form sent back with its errors, else 200."""
    return 400 if form.is_submitted() and form.errors else 200
