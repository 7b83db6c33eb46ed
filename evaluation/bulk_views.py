"""Bulk download of finalized evaluation sheets (/evaluation/bulk): choose, start, watch the progress, download."""

import io
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField

from evaluation import bulk as service
from evaluation.models import BulkDownload, Stage
from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.errors import AccessDenied, DomainError
from procurement.extensions import db
from procurement.forms import choices
from procurement.orgs.models import Region, RegionLevel

bp = Blueprint("bulk", __name__, url_prefix="/evaluation/bulk")


class SheetFilterForm(FlaskForm):
    class Meta:
        csrf = False

    region = SelectField(_l("Region"), coerce=str, validate_choice=False)
    stage = SelectField(_l("Stage"), coerce=str, validate_choice=False)
    finalized_from = StringField(_l("Finalized from"), render_kw={"type": "date"})
    finalized_to = StringField(_l("Finalized until"), render_kw={"type": "date"})

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = choices([("", _l("All my regions"))]
                                      + [(r.code, f"{r.level.label}：{r.name}") for r in regions])
        self.stage.choices = choices([("", _l("Both stages"))] + [(s.value, s.label) for s in Stage])


class StartForm(FlaskForm):
    """Only the CSRF token: the chosen sheets are the checked ``sheets`` boxes."""


def _regions(user) -> list[Region]:
    """The prefectures and counties in the user's region subtree, in tree order."""
    mine = user.organization.region
    return db.session.execute(select(Region).where(Region.path.startswith(mine.path),
                                                   Region.level != RegionLevel.PROVINCE)
                              .order_by(Region.path)).scalars().all()


def _date(field) -> date | None:
    text = (field.data or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        field.errors = [_("Enter a date like 2026-03-31.")]
        return None


def _filter(form: SheetFilterForm, regions: list[Region]) -> service.SheetFilter | None:
    flt = service.SheetFilter()
    by_code = {r.code: r for r in regions}
    if form.region.data:
        flt.region = by_code.get(form.region.data)
        if flt.region is None:
            form.region.errors = [_("Choose a region of your own.")]
    if form.stage.data:
        try:
            flt.stage = Stage(form.stage.data)
        except ValueError:
            form.stage.errors = [_("Choose a stage from the list.")]
    flt.finalized_from, flt.finalized_to = _date(form.finalized_from), _date(form.finalized_to)
    if flt.finalized_from and flt.finalized_to and flt.finalized_to < flt.finalized_from:
        form.finalized_to.errors = [_("The end comes before the start.")]
    if any(f.errors for f in form):
        return None
    return flt


@bp.route("", methods=["GET", "POST"])
@require(Action.EVALUATION_VIEW)
def index():
    actor = current_actor()
    regions = _regions(actor.user)
    form = SheetFilterForm(request.args, regions=regions)
    start = StartForm()
    status = 200
    if request.method == "POST":
        if start.validate_on_submit():
            try:
                bulk = service.start_bulk(actor, request.form.getlist("sheets"))
            except DomainError as exc:
                db.session.rollback()
                flash(exc.message, "danger")
                status = 400
            else:
                db.session.commit()
                _launch(bulk.id)
                return redirect(url_for("bulk.job", bulk_id=bulk.id))
        else:
            status = 400
            flash(_("The form has expired; please try again."), "danger")
    flt = _filter(form, regions)
    sheets = service.filter_sheets(actor.user, flt) if flt is not None else []
    if flt is None:
        status = 400
    return render_template("evaluation_bulk/index.html", form=form, start=start, sheets=sheets,
                           limit=service.MAX_SHEETS, recent=service.recent_bulks(actor.user),
                           state_label=service.state_label), status


def _launch(bulk_id: int) -> None:
    """Queue the zip for the worker (in tests and immediate mode it is built at once)."""
    from procurement import tasks

    tasks.build_bulk_zip(bulk_id)
    if current_app.config.get("HUEY_IMMEDIATE"):
        db.session.expire_all()


def _own(bulk_id: int) -> BulkDownload:
    bulk = db.get_or_404(BulkDownload, bulk_id)
    if not service.can_download(current_actor().user, bulk):
        abort(404)
    return bulk


@bp.route("/<int:bulk_id>")
@require(Action.EVALUATION_VIEW)
def job(bulk_id):
    bulk = _own(bulk_id)
    return render_template("evaluation_bulk/job.html", bulk=bulk, finished=bulk.state in service.FINISHED,
                           state_label=service.state_label(bulk))


@bp.route("/<int:bulk_id>/download")
@require(Action.EVALUATION_VIEW)
def download(bulk_id):
    bulk = _own(bulk_id)
    try:
        data = service.bulk_zip(bulk, current_actor())
    except AccessDenied:
        abort(404)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("bulk.job", bulk_id=bulk.id))
    db.session.commit()
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True,
                     download_name=f"绩效评价表-{bulk.id}.zip")
