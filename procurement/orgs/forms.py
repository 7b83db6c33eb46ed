"""Forms of the registry: one per use case; shape checks here, cross-record rules in the services."""

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from procurement.forms import VersionedForm, choices
from procurement.orgs import rules
from procurement.orgs.models import ORG_KIND_LABELS, OrgKind, OrgType, RegionLevel
from procurement.rules import eligibility
from procurement.rules.identifiers import check_uscc

_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


class StrictDateField(DateField):
    """A date typed as 2026-03-01, 2026/3/1 or 2026年3月1日; a parse error is a friendly message."""

    def process_formdata(self, valuelist):
        raw = valuelist[0] if valuelist else ""
        if not raw or not str(raw).strip():
            self.data = None
            return
        match = _DATE.match(str(raw).translate(str.maketrans("０１２３４５６７８９", "0123456789")))
        try:
            if match is None:
                raise ValueError
            self.data = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date like 2026-03-01.")) from None
        if not 1900 <= self.data.year <= 2200:
            self.data = None
            raise ValueError(_l("Enter a date like 2026-03-01."))


def _credit_code(form, field):
    try:
        field.data = check_uscc(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _phone(form, field):
    if field.data and field.data.strip():
        try:
            field.data = rules.check_phone(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def _email(form, field):
    if field.data and field.data.strip():
        try:
            field.data = rules.check_email(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def _bank_account(form, field):
    if field.data and field.data.strip():
        try:
            field.data = rules.check_bank_account_no(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def region_label(region) -> str:
    """An option label indented by level, so a flat select reads like the tree."""
    return "\u3000" * region.depth + f"{region.name} ({region.code})"


# --- regions -------------------------------------------------------------------------------

class RegionForm(FlaskForm):
    code = StringField(_l("Code (GB/T 2260)"), filters=[_strip],
                       validators=[InputRequired(_l("Enter the 6-digit region code.")), Length(max=6, message=_l("A region code has exactly 6 digits (GB/T 2260), e.g. 530626."))],
                       description=_l("6 digits, e.g. 530626."))
    name = StringField(_l("Name"), filters=[_strip],
                       validators=[DataRequired(_l("Enter the name of the region.")), Length(max=64, message=_l("At most 64 characters."))])
    level = SelectField(_l("Level"), validators=[InputRequired(_l("Choose the level of the region."))])
    parent = SelectField(_l("Belongs to"), coerce=str)

    def __init__(self, *args, parents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.level.choices = choices((lv.value, lv.label) for lv in RegionLevel)
        self.parent.choices = choices([("", _l("— none (a province) —"))]
                                      + [(r.code, region_label(r)) for r in parents])


class RegionNameForm(FlaskForm):
    name = StringField(_l("Name"), filters=[_strip],
                       validators=[DataRequired(_l("Enter the name of the region.")), Length(max=64, message=_l("At most 64 characters."))])


# --- organizations -------------------------------------------------------------------------

class _ContactFields:
    address = StringField(_l("Address"), filters=[_strip], validators=[Optional(), Length(max=256, message=_l("At most 256 characters."))])
    contact_name = StringField(_l("Contact person"), filters=[_strip], validators=[Optional(), Length(max=64, message=_l("At most 64 characters."))])
    contact_phone = StringField(_l("Contact phone"), filters=[_strip], validators=[Optional(), _phone],
                                description=_l("Mobile, e.g. 13800000000, or landline with area code, e.g. 0871-63131000."))
    contact_email = StringField(_l("E-mail"), filters=[_strip], validators=[Optional(), _email])
    note = TextAreaField(_l("Note"), filters=[_strip], render_kw={"rows": 2},
                         validators=[Optional(), Length(max=2000, message=_l("At most 2000 characters."))])


class OrganizationForm(VersionedForm, _ContactFields):
    name = StringField(_l("Name"), filters=[_strip],
                       validators=[DataRequired(_l("Enter the name of the organization.")), Length(max=128, message=_l("At most 128 characters."))])
    kind = SelectField(_l("Kind"), validators=[InputRequired(_l("Choose the kind of organization."))])
    org_type = SelectField(_l("Legal form"), validators=[InputRequired(_l("Choose the legal form."))])
    region = SelectField(_l("Region"), coerce=str, validators=[InputRequired(_l("Choose the region."))])
    credit_code = StringField(_l("Unified social credit code"), filters=[_strip],
                              validators=[InputRequired(_l("Please enter the unified social credit code.")), _credit_code],
                              description=_l("18 characters (GB 32100-2015)."))
    legal_representative = StringField(_l("Head of the organization"), filters=[_strip],
                                       validators=[Optional(), Length(max=64, message=_l("At most 64 characters."))])

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices((k.value, ORG_KIND_LABELS[k]) for k in (OrgKind.BUREAU, OrgKind.FINANCE, OrgKind.AGENCY))
        self.org_type.choices = choices((t.value, t.label) for t in OrgType)
        self.region.choices = choices([("", _l("— choose —"))] + [(r.code, region_label(r)) for r in regions])


class SupplierForm(VersionedForm, _ContactFields):
    # A supplier must be reachable: the contact fields are required here.
    address = StringField(_l("Address"), filters=[_strip], validators=[
        DataRequired(_l("Enter the address.")), Length(max=256, message=_l("At most 256 characters."))])
    contact_name = StringField(_l("Contact person"), filters=[_strip], validators=[
        DataRequired(_l("Enter the contact person.")), Length(max=64, message=_l("At most 64 characters."))])
    contact_phone = StringField(_l("Contact phone"), filters=[_strip], validators=[DataRequired(_l("Enter the contact phone.")), _phone],
                                description=_l("Mobile, e.g. 13800000000, or landline with area code, e.g. 0871-63131000."))
    name = StringField(_l("Name"), filters=[_strip],
                       validators=[DataRequired(_l("Enter the name of the organization.")), Length(max=128, message=_l("At most 128 characters."))])
    credit_code = StringField(_l("Unified social credit code"), filters=[_strip],
                              validators=[InputRequired(_l("Please enter the unified social credit code.")), _credit_code],
                              description=_l("18 characters (GB 32100-2015); lower case and spaces are corrected."))
    org_type = SelectField(_l("Organization type"), validators=[InputRequired(_l("Choose the organization type."))])
    region = SelectField(_l("Registered in"), coerce=str, validators=[InputRequired(_l("Choose the region where the organization is registered."))])
    legal_representative = StringField(_l("Legal representative"), filters=[_strip],
                                       validators=[DataRequired(_l("Enter the legal representative.")), Length(max=64, message=_l("At most 64 characters."))])
    bank_account_name = StringField(_l("Account holder"), filters=[_strip], validators=[Optional(), Length(max=128, message=_l("At most 128 characters."))])
    bank_name = StringField(_l("Bank"), filters=[_strip], validators=[Optional(), Length(max=128, message=_l("At most 128 characters."))],
                            description=_l("Bank and branch, e.g. 中国农业银行股份有限公司绥江县支行."))
    bank_account_no = StringField(_l("Account number"), filters=[_strip], validators=[Optional(), _bank_account],
                                  description=_l("8 to 30 digits."))
    service_regions = SelectMultipleField(_l("Service regions"), coerce=str,
                                          validators=[DataRequired(_l("Choose at least one region the supplier serves."))],
                                          render_kw={"size": 10},
                                          description=_l("Hold Ctrl (or ⌘) to choose several; a prefecture or the province covers every county below it."))

    def __init__(self, *args, regions=(), org_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.org_type.choices = choices([("", _l("— choose —"))] + [(t.value, t.label) for t in org_types])
        region_choices = [(r.code, region_label(r)) for r in regions]
        self.region.choices = choices([("", _l("— choose —"))] + region_choices)
        self.service_regions.choices = choices(region_choices)

    def validate_org_type(self, field):
        problem = eligibility.org_type_problem(field.data)
        if problem is not None:
            raise ValidationError(f"{problem.message}（{problem.citation}）")
        if not self.credit_code.errors and self.credit_code.data:
            problem = eligibility.civil_affairs_type_problem(self.credit_code.data, field.data)
            if problem is not None:
                raise ValidationError(problem.message)


class QualificationForm(FlaskForm):
    name = StringField(_l("Certificate"), filters=[_strip],
                       validators=[DataRequired(_l("Enter the name of the certificate.")), Length(max=128, message=_l("At most 128 characters."))],
                       description=_l("e.g. 民办非企业单位登记证书, 养老机构备案回执."))
    number = StringField(_l("Number"), filters=[_strip], validators=[Optional(), Length(max=64, message=_l("At most 64 characters."))])
    issuer = StringField(_l("Issued by"), filters=[_strip], validators=[Optional(), Length(max=128, message=_l("At most 128 characters."))])
    valid_from = StrictDateField(_l("Valid from"), validators=[InputRequired(_l("Enter the date the certificate is valid from."))])
    valid_until = StrictDateField(_l("Valid until"), validators=[Optional()],
                                  description=_l("Leave empty if the certificate does not expire."))

    def validate_valid_until(self, field):
        problem = rules.period_problem(self.valid_from.data, field.data)
        if problem:
            raise ValidationError(problem)


class BanForm(FlaskForm):
    starts_on = StrictDateField(_l("First day"), validators=[InputRequired(_l("Enter the first day of the ban."))])
    ends_on = StrictDateField(_l("Last day (inclusive)"), validators=[InputRequired(_l("Enter the last day of the ban."))],
                              description=_l("1 to 3 years, e.g. from 2026-03-01 to 2027-02-28 for one year."))
    reason = TextAreaField(_l("Reason"), filters=[_strip], render_kw={"rows": 3},
                           validators=[DataRequired(_l("Enter the reason for the ban (the violation and the decision).")),
                                       Length(max=2000, message=_l("At most 2000 characters."))])
    document_ref = StringField(_l("Decision document"), filters=[_strip],
                               validators=[Optional(), Length(max=128, message=_l("At most 128 characters."))],
                               description=_l("e.g. 昭财采处〔2026〕12号."))

    def validate_ends_on(self, field):
        problem = rules.ban_period_problem(self.starts_on.data, field.data)
        if problem:
            raise ValidationError(problem[1])


# --- filters -------------------------------------------------------------------------------

class SupplierFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"))
    org_type = SelectField(_l("Organization type"), coerce=str)
    region = SelectField(_l("Service region"), coerce=str)
    flag = SelectField(_l("Show"), coerce=str, choices=choices([
        ("", _l("All")), ("banned", _l("Banned today")), ("expiring", _l("Certificate expiring within 30 days")),
        ("expired", _l("Certificate expired"))]))
    status = SelectField(_l("Status"), coerce=str, choices=choices([
        ("active", _l("Active")), ("inactive", _l("Deactivated")), ("all", _l("All"))]))
    sort = SelectField(_l("Sort by"), coerce=str, choices=choices([
        ("name", _l("Name")), ("credit_code", _l("Credit code")), ("region", _l("Region"))]))


class OrgFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"))
    kind = SelectField(_l("Kind"), coerce=str)
    region = SelectField(_l("Region"), coerce=str)
