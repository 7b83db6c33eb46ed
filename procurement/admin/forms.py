"""Forms of the administration pages; the settings form is generated from the definitions."""

from dataclasses import replace
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, Regexp

from procurement.admin.services import USERNAME_RE
from procurement.auth.roles import Role
from procurement.forms import MoneyField, StrictIntegerField, VersionedForm, choices
from procurement.settings import SettingDef, format_value

PHONE_RE = r"^[0-9+\-() ]{3,32}$"
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def organization_choices(orgs, placeholder=None) -> list:
    """Organizations as select choices in one <optgroup> per kind (``orgs`` sorted by kind)."""
    result = choices([("", placeholder)]) if placeholder is not None else []
    for org in orgs:
        label = org.name if org.active else f"{org.name} ({_l('inactive')})"
        result += [replace(c, optgroup=str(org.kind.label)) for c in choices([(str(org.id), label)])]
    return result


def role_choices(roles, none_label) -> list:
    return choices([("", none_label)] + [(r.value, r.label) for r in roles])


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class AccountFieldsMixin:
    display_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the person's name.")),
                                                       Length(max=64, message=_l("At most 64 characters."))])
    organization = SelectField(_l("Organization"), coerce=_int_or_none,
                               validators=[InputRequired(_l("Choose an organization."))])
    phone = StringField(_l("Phone"), validators=[Optional(), Regexp(PHONE_RE, message=_l("Enter a phone number (digits, +, -)."))],
                        render_kw={"inputmode": "tel", "autocomplete": "off"})
    email = StringField(_l("Email"), validators=[Optional(), Length(max=128, message=_l("At most 128 characters.")),
                                                 Regexp(EMAIL_RE, message=_l("Enter an email address like name@example.cn."))],
                        render_kw={"inputmode": "email", "autocomplete": "off"})


class AccountCreateForm(AccountFieldsMixin, FlaskForm):
    username = StringField(
        _l("User name"),
        validators=[DataRequired(_l("Enter a user name.")),
                    Regexp(USERNAME_RE, message=_l("A user name has 3 to 32 characters: letters, digits, “.”, “_” or “-”."))],
        description=_l("3 to 32 letters, digits, “.”, “_” or “-”; used to log in."), render_kw={"autocomplete": "off"})
    password = PasswordField(_l("Initial password"), validators=[DataRequired(_l("Enter an initial password.")), Length(max=128)],
                             render_kw={"autocomplete": "new-password"},
                             description=_l("Give it to the person in a safe way; it must be changed at the first login."))
    confirm = PasswordField(_l("Repeat the initial password"),
                            validators=[DataRequired(_l("Repeat the initial password.")),
                                        EqualTo("password", message=_l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})

    # Field order on the page.
    FIELDS = ("username", "display_name", "organization", "phone", "email", "password", "confirm")


class AccountEditForm(AccountFieldsMixin, VersionedForm):
    fingerprint = HiddenField()

    FIELDS = ("display_name", "organization", "phone", "email")


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("New initial password"), validators=[DataRequired(_l("Enter an initial password.")), Length(max=128)],
                             render_kw={"autocomplete": "new-password"},
                             description=_l("The person must change it at the next login."))
    confirm = PasswordField(_l("Repeat the initial password"),
                            validators=[DataRequired(_l("Repeat the initial password.")),
                                        EqualTo("password", message=_l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), validate_choice=True)


class AccountFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"))
    organization = SelectField(_l("Organization"))
    role = SelectField(_l("Role"))
    status = SelectField(_l("Status"), choices=choices([("", _l("Active and disabled")), ("active", _l("Active")),
                                                         ("disabled", _l("Disabled"))]))
    locked = BooleanField(_l("Locked only"))

    def __init__(self, *args, orgs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organization.choices = organization_choices(orgs, _l("All organizations"))
        self.role.choices = choices([("", _l("All roles")), ("none", _l("No role yet"))] + [(r.value, r.label) for r in Role])


# --- settings ------------------------------------------------------------------------------

def field_name(key: str) -> str:
    return key.replace(".", "__")


def _range_message(definition: SettingDef):
    return _l("Enter a value between %(min)s and %(max)s.", min=format_value(definition, definition.minimum),
              max=format_value(definition, definition.maximum))


def _setting_field(definition: SettingDef):
    description = definition.help
    if definition.kind is bool:
        return BooleanField(definition.label, description=description)
    if definition.kind is int:
        return StrictIntegerField(
            definition.label, description=description,
            validators=[InputRequired(_l("Enter a value.")),
                        NumberRange(definition.minimum, definition.maximum, message=_range_message(definition))],
            render_kw={"inputmode": "numeric", "min": definition.minimum, "max": definition.maximum})
    return MoneyField(
        definition.label, description=description,
        validators=[InputRequired(_l("Enter a value.")),
                    NumberRange(Decimal(definition.minimum), Decimal(definition.maximum), message=_range_message(definition))],
        render_kw={"inputmode": "decimal"})


def settings_form(definitions, values: dict, submitted: bool) -> FlaskForm:
    """A form with one field per setting, named ``login__max_failures`` for ``login.max_failures``.

    Filled from the request when ``submitted``, otherwise from the current ``values``.
    """

    class SettingsForm(FlaskForm):
        pass

    for definition in definitions:
        setattr(SettingsForm, field_name(definition.key), _setting_field(definition))
    if submitted:
        return SettingsForm()
    return SettingsForm(formdata=None, data={field_name(d.key): values[d.key] for d in definitions})


def settings_values(form, definitions) -> dict:
    return {d.key: form[field_name(d.key)].data for d in definitions}

