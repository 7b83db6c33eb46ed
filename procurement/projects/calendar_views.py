"""The working-day calendar, maintained by the system administrator."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.forms import show_domain_error
from procurement.projects import calendar_services
from procurement.projects.calendar_services import FIRST_YEAR, LAST_YEAR
from procurement.projects.models import DayOff
from procurement.projects.step_forms import CalendarDayForm, CalendarRemoveForm, CalendarYearForm
from procurement.projects.views import bp
from procurement.rules.clock import beijing_today


@bp.route("/calendar")
@require(Action.CALENDAR_VIEW)
def calendar():
    this_year = beijing_today().year
    summaries = calendar_services.year_summaries((this_year, this_year + 1))
    return render_template("projects/calendar.html", summaries=summaries, this_year=this_year,
                           can_edit=calendar_services.can_edit_calendar(current_user))


@bp.route("/calendar/<int:year>", methods=["GET", "POST"])
@require(Action.CALENDAR_EDIT)
def calendar_year(year):
    if not FIRST_YEAR <= year <= LAST_YEAR:
        abort(404)
    entered = calendar_services.calendar_year(year)
    action = request.form.get("action", "") if request.method == "POST" else ""

    def data_for(name):  # each form reads the request only when it is the one sent
        return {} if action == name else {"formdata": None}

    year_form = CalendarYearForm(prefix="year", source=entered.source if entered else None, **data_for("year"))
    day_form = CalendarDayForm(prefix="day", **data_for("add"))
    remove_form = CalendarRemoveForm(prefix="remove", **data_for("remove"))
    refused = False
    if request.method == "POST":
        form, message, call = {
            "year": (year_form, _("%(year)s has been entered: its deadlines are computed on its holiday schedule.", year=year),
                     lambda: calendar_services.enter_year(year, year_form.source.data, current_actor())),
            "add": (day_form, _("The day has been added."),
                    lambda: calendar_services.add_day(year, day_form.day.data, DayOff(day_form.kind.data),
                                                      day_form.name.data, current_actor())),
            "remove": (remove_form, _("The day has been removed."),
                       lambda: calendar_services.remove_day(remove_form.day.data, current_actor())),
        }.get(action, (None, None, None))
        if form is None:
            flash(_("The form could not be understood. Reload the page and try again."), "danger")
            refused = True
        elif form.validate_on_submit():
            try:
                call()
            except DomainError as exc:
                db.session.rollback()
                if isinstance(exc, AccessDenied):
                    abort(403)
                if form is remove_form:  # a hidden field: its message goes above the page
                    flash(exc.message, "danger")
                else:
                    show_domain_error(form, exc)
                refused = True
            else:
                db.session.commit()
                flash(message, "success")
                return redirect(url_for("projects.calendar_year", year=year))
        else:
            refused = True
            if form is remove_form:  # a hidden field: its error has no place on the page
                flash(_("The day to remove could not be read. Reload the page and try again."), "danger")
    entered = calendar_services.calendar_year(year)
    return render_template("projects/calendar_year.html", year=year, entered=entered, year_form=year_form,
                           day_form=day_form, remove_form=remove_form, days=calendar_services.year_days(year),
                           weekday_names=weekday_names()), 400 if refused else 200


def weekday_names() -> list[str]:
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]
