"""The purchase step by step: announcement, notice, invitations, bids, evaluation, award; deadlines; suppliers' view.

Each step page loads the project, lets only officers who may edit it in (403 otherwise), validates its form,
calls one service and commits, then returns to the project page.  A refusal by the service rolls back and
shows the message next to its field, with the rule it cites, with status 400.
"""

from dataclasses import dataclass
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select, union
from sqlalchemy.orm import selectinload

from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.forms import choices, form_status, show_domain_error
from procurement.orgs import services as orgs
from procurement.orgs.models import Organization, OrgKind
from procurement.projects import services
from procurement.projects.models import Bid, Invitation, Project
from procurement.projects.step_forms import (
    AnnouncementForm,
    AwardForm,
    BidForm,
    DeadlineFilterForm,
    EvaluationForm,
    InvitationForm,
    NoticeForm,
    ScoreForm,
)
from procurement.projects.views import bp, stale_save
from procurement.rules import stages
from procurement.rules.clock import beijing_today
from procurement.rules.eligibility import Problem, Severity
from procurement.rules.procurement import MIN_INVITED, MIN_RESPONSES, PERIODS, RESPONSE_PERIOD, DayKind, Method
from procurement.rules.stages import ProjectStage

# --- helpers shared by the step pages -----------------------------------------------------------


def _editable(project_id: int) -> Project:
    project = db.get_or_404(Project, project_id)
    if not services.can_edit_project(current_user, project):
        abort(403)
    return project


def _refused(form, exc: DomainError) -> str | None:
    """Roll back and put the refusal on the form; returns the rule it cites (shown under the form)."""
    db.session.rollback()
    if isinstance(exc, AccessDenied):
        abort(403)
    show_domain_error(form, exc)
    return exc.citation


def _page(template: str, form, project: Project, citation: str | None, refused: bool, conflict=None, **context):
    status = 409 if conflict else 400 if refused else form_status(form)
    return render_template(template, form=form, project=project, citation=citation, today=beijing_today(),
                           conflict=conflict, **context), status


def _saved(*names: str) -> dict:
    """Form fields named like the project's columns, read from the saved project for a conflict."""
    return {name: (lambda p, name=name: getattr(p, name)) for name in names}


def _to_project(project: Project, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("projects.detail", project_id=project.id))


def _stage_note(project: Project, *stages_allowed: ProjectStage) -> str | None:
    """Why the step cannot be recorded now (shown above the form), or None."""
    if project.stage in stages_allowed:
        return None
    return _("This step is recorded while the project is “%(allowed)s”; it is now “%(stage)s”.",
             allowed="”, “".join(s.label for s in stages_allowed), stage=project.stage.label)


def _period_days(period) -> str:
    if period.kind == DayKind.WORKING:
        return _("%(n)s working days", n=period.days)
    return _("%(n)s calendar days", n=period.days)


def _active_suppliers() -> list[Organization]:
    return db.session.execute(
        select(Organization).where(Organization.kind == OrgKind.SUPPLIER, Organization.active.is_(True))
        .options(selectinload(Organization.qualifications), selectinload(Organization.bans))
        .order_by(Organization.name, Organization.id)).scalars().all()


def _chosen(form_field) -> Organization | None:
    """The organization picked in a select whose choices the form has already checked."""
    try:
        return db.session.get(Organization, int(form_field.data))
    except (TypeError, ValueError):
        return None


def _problems(org: Organization, on: date) -> list[Problem]:
    return orgs.supplier_eligibility(org, on)


def _flag(problems: list[Problem]) -> str:
    if any(p.severity == Severity.REFUSAL for p in problems):
        return " — " + _("not eligible")
    if problems:
        return " — " + _("see the warning")
    return ""


# --- announcement and notice ----------------------------------------------------------------


@bp.route("/<int:project_id>/announcement", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def announcement(project_id):
    project = _editable(project_id)
    today = beijing_today()
    form = AnnouncementForm()
    conflict = None
    if not form.is_submitted():
        form.version.data = str(project.version)
        form.documents_issued_on.data = project.documents_issued_on or today
        form.response_deadline.data = project.response_deadline
        form.announcement_ref.data = project.announcement_ref
    citation, refused = None, False
    if form.validate_on_submit():
        try:
            services.record_announcement(project, form.documents_issued_on.data, form.response_deadline.data,
                                         form.announcement_ref.data or None, current_actor(),
                                         expected_version=form.loaded_version())
        except ConflictError as exc:
            project, conflict = stale_save(exc, project_id, form,
                                           _saved("documents_issued_on", "response_deadline", "announcement_ref"))
        except DomainError as exc:
            citation, refused = _refused(form, exc), True
        else:
            return _to_project(project, _("The announcement has been recorded."))
    key = RESPONSE_PERIOD.get(project.method)
    period = PERIODS[key] if key else None
    issued_on = form.documents_issued_on.data or project.documents_issued_on or today
    earliest = period.end(services.work_calendar(), issued_on) if period else None
    return _page("projects/steps/announcement.html", form, project, citation, refused, conflict, period=period,
                 period_days=_period_days(period) if period else None, issued_on=issued_on, earliest=earliest,
                 stage_note=_stage_note(project, ProjectStage.APPROVED))


@bp.route("/<int:project_id>/notice", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def notice(project_id):
    project = _editable(project_id)
    today = beijing_today()
    form = NoticeForm()
    conflict = None
    if not form.is_submitted():
        form.version.data = str(project.version)
        form.notice_start.data = project.notice_start or today
        form.notice_end.data = project.notice_end
    citation, refused = None, False
    if form.validate_on_submit():
        try:
            services.record_notice(project, form.notice_start.data, form.notice_end.data, current_actor(),
                                   expected_version=form.loaded_version())
        except ConflictError as exc:
            project, conflict = stale_save(exc, project_id, form, _saved("notice_start", "notice_end"))
        except DomainError as exc:
            citation, refused = _refused(form, exc), True
        else:
            return _to_project(project, _("The single-source public notice has been recorded."))
    period = PERIODS["single_source_notice"]
    start = form.notice_start.data or project.notice_start or today
    earliest = period.end(services.work_calendar(), start)
    required = project.total >= services.thresholds().open_tender_threshold
    note = _stage_note(project, ProjectStage.DRAFT, ProjectStage.APPROVED)
    if project.method != Method.SINGLE_SOURCE:
        note = _("A public notice is recorded for single-source purchases.")
    return _page("projects/steps/notice.html", form, project, citation, refused, conflict, period=period, start=start,
                 earliest=earliest, required=required, threshold=services.thresholds().open_tender_threshold,
                 stage_note=note)


# --- invitations and bids -------------------------------------------------------------------


@bp.route("/<int:project_id>/invitations/new", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def invitation_add(project_id):
    project = _editable(project_id)
    today = beijing_today()
    suppliers = _active_suppliers()
    problems = {s.id: _problems(s, today) for s in suppliers}
    invited = {i.supplier_id for i in project.invitations}
    form = InvitationForm()
    form.supplier.choices = choices([("", _("Choose a supplier"))] + [
        (str(s.id), f"{s.name}（{s.credit_code or '—'}）" + (" — " + _("invited") if s.id in invited else "")
         + _flag(problems[s.id])) for s in suppliers])
    if not form.is_submitted():
        form.invited_on.data = today
    citation, refused = None, False
    if form.validate_on_submit():
        supplier = _chosen(form.supplier)
        try:
            services.invite_supplier(project, supplier, form.invited_on.data, current_actor())
        except DomainError as exc:
            citation, refused = _refused(form, exc), True
        else:
            return _to_project(project, _("%(name)s has been invited.", name=supplier.name))
    flagged = [(s, problems[s.id]) for s in suppliers if problems[s.id]]
    return _page("projects/steps/invitation.html", form, project, citation, refused, flagged=flagged,
                 min_invited=MIN_INVITED, stage_note=_stage_note(project, ProjectStage.APPROVED, ProjectStage.ANNOUNCED))


@bp.route("/<int:project_id>/bids/new", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def bid_add(project_id):
    project = _editable(project_id)
    today = beijing_today()
    suppliers = _active_suppliers()
    invited = {i.supplier_id for i in project.invitations}
    bidders = {b.supplier_id for b in project.bids}
    form = BidForm()

    def label(s):
        marks = []
        if s.id in invited:
            marks.append(_("invited"))
        if s.id in bidders:
            marks.append(_("bid recorded"))
        return f"{s.name}（{s.credit_code or '—'}）" + (" — " + "、".join(marks) if marks else "")

    form.supplier.choices = choices([("", _("Choose a supplier"))] + [(str(s.id), label(s)) for s in suppliers])
    if not form.is_submitted():
        form.submitted_on.data = min(today, project.response_deadline) if project.response_deadline else today
    citation, refused = None, False
    if form.validate_on_submit():
        supplier = _chosen(form.supplier)
        data = {"supplier": supplier, "submitted_on": form.submitted_on.data, "price": form.price.data,
                "technical_score": form.technical_score.data, "price_score": form.price_score.data,
                "total_score": form.total_score.data, "note": form.note.data or None}
        try:
            services.record_bid(project, data, current_actor())
        except DomainError as exc:
            citation, refused = _refused(form, exc), True
        else:
            return _to_project(project, _("The bid of %(name)s has been recorded.", name=supplier.name))
    return _page("projects/steps/bid.html", form, project, citation, refused,
                 invited_only=project.method == Method.INVITED_TENDER,
                 stage_note=_stage_note(project, ProjectStage.ANNOUNCED))


@bp.route("/<int:project_id>/bids/<int:bid_id>/score", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def bid_score(project_id, bid_id):
    project = _editable(project_id)
    bid = db.get_or_404(Bid, bid_id)
    if bid.project_id != project.id:
        abort(404)
    form = ScoreForm()
    conflict = None
    if not form.is_submitted():
        form.version.data = str(project.version)
        form.technical_score.data, form.price_score.data = bid.technical_score, bid.price_score
        form.total_score.data = bid.total_score
    citation, refused = None, False
    if form.validate_on_submit():
        data = {"technical_score": form.technical_score.data, "price_score": form.price_score.data,
                "total_score": form.total_score.data}
        try:
            services.score_bid(bid, data, current_actor(), expected_version=form.loaded_version())
        except ConflictError as exc:
            project, conflict = stale_save(exc, project_id, form, {
                name: (lambda p, name=name: getattr(db.session.get(Bid, bid_id), name))
                for name in ("technical_score", "price_score", "total_score")})
            bid = db.session.get(Bid, bid_id)
        except DomainError as exc:
            citation, refused = _refused(form, exc), True
        else:
            return _to_project(project, _("The scores of %(name)s have been recorded.", name=bid.supplier.name))
    return _page("projects/steps/bid_score.html", form, project, citation, refused, conflict, bid=bid,
                 stage_note=_stage_note(project, ProjectStage.ANNOUNCED, ProjectStage.EVALUATED))


# --- evaluation and award -------------------------------------------------------------------


@bp.route("/<int:project_id>/evaluation", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def evaluation(project_id):
    project = _editable(project_id)
    today = beijing_today()
    form = EvaluationForm()
    conflict = None
    if not form.is_submitted():
        form.version.data = str(project.version)
        form.evaluated_on.data = project.evaluated_on or today
        form.evaluation_result.data = project.evaluation_result
    citation, refused = None, False
    if form.validate_on_submit():
        try:
            services.record_evaluation(project, form.evaluated_on.data, form.evaluation_result.data, current_actor(),
                                       expected_version=form.loaded_version())
        except ConflictError as exc:
            project, conflict = stale_save(exc, project_id, form, _saved("evaluated_on", "evaluation_result"))
        except DomainError as exc:
            citation, refused = _refused(form, exc), True
        else:
            return _to_project(project, _("The evaluation has been recorded."))
    return _page("projects/steps/evaluation.html", form, project, citation, refused, conflict,
                 min_responses=MIN_RESPONSES.get(project.method, 1),
                 stage_note=_stage_note(project, ProjectStage.ANNOUNCED))


@dataclass(frozen=True)
class BidderCheck:
    bid: Bid
    problems: list[Problem]  # on the decision date: refusals and warnings


@bp.route("/<int:project_id>/award", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def award(project_id):
    project = _editable(project_id)
    today = beijing_today()
    bids = sorted(project.bids, key=lambda b: (b.total_score is None, -(b.total_score or 0), b.price, b.id))
    form = AwardForm()
    conflict = None
    form.supplier.choices = choices([("", _("Choose the awarded supplier"))]
                                    + [(str(b.supplier_id), b.supplier.name) for b in bids])
    if not form.is_submitted():
        form.version.data = str(project.version)
        form.supplier.data = str(project.award_supplier_id) if project.award_supplier_id else ""
        form.award_decided_on.data = project.award_decided_on or today
        form.award_notice_on.data = project.award_notice_on
    citation, refused = None, False
    if form.validate_on_submit():
        supplier = _chosen(form.supplier)
        decided_on = form.award_decided_on.data
        try:
            services.record_award(project, supplier, decided_on, form.award_notice_on.data, current_actor(),
                                  expected_version=form.loaded_version())
        except ConflictError as exc:
            name = supplier.name
            project, conflict = stale_save(exc, project_id, form, {
                "supplier": lambda p: p.award_supplier.name if p.award_supplier else None,
                **_saved("award_decided_on", "award_notice_on")}, typed={"supplier": lambda: name})
        except DomainError as exc:
            citation, refused = _refused(form, exc), True
        else:
            refusals = [p.message for p in _problems(supplier, decided_on) if p.severity == Severity.REFUSAL]
            if refusals:
                flash(_("Recorded, but %(name)s may not be awarded on %(day)s: %(why)s", name=supplier.name,
                        day=decided_on.isoformat(), why="；".join(refusals)), "warning")
            return _to_project(project, _("The award to %(name)s has been recorded.", name=supplier.name))
        bids = sorted(project.bids, key=lambda b: (b.total_score is None, -(b.total_score or 0), b.price, b.id))
    on_date = form.award_decided_on.data or project.award_decided_on or today
    checks = [BidderCheck(b, _problems(b.supplier, on_date)) for b in bids]
    shared = stages.shared_representatives([stages.BidFacts(b.supplier.name, b.supplier.legal_representative) for b in bids])
    notice_due = PERIODS["award_notice"].end(services.work_calendar(), on_date)
    return _page("projects/steps/award.html", form, project, citation, refused, conflict, checks=checks, shared=shared,
                 on_date=on_date, notice_due=notice_due, cite_award=stages.CITE_AWARD,
                 cite_notice=stages.CITE_AWARD_NOTICE, stage_note=_stage_note(project, ProjectStage.EVALUATED))


# --- my deadlines ---------------------------------------------------------------------------

#: state filter → the row states it shows
STATE_FILTERS = {
    "open": ("due", "overdue"),
    "overdue": ("overdue",),
    "due": ("due",),
    "done": ("done", "done_late"),
    "all": ("due", "overdue", "done", "done_late"),
}


class ListPagination(Pagination):
    """A page of an already computed list, for the ``pagination`` macro."""

    def _query_items(self):
        rows = self._query_args["rows"]
        return rows[self._query_offset:self._query_offset + self.per_page]

    def _query_count(self) -> int:
        return len(self._query_args["rows"])


def _arg(name: str, allowed) -> str:
    value = request.args.get(name, "")
    return value if value in allowed else ""


def _page_number() -> int:
    value = request.args.get("page", type=int)
    return value if value is not None and 0 < value < 100_000 else 1


def _order(row):
    if row.state == "overdue":
        return (0, row.due.toordinal(), row.code)
    if row.state == "due":
        return (1, row.due.toordinal(), row.code)
    return (2, -row.due.toordinal(), row.code)


@bp.route("/deadlines")
@require(Action.DEADLINES_VIEW)
def deadlines():
    today = beijing_today()
    state = _arg("state", STATE_FILTERS) or "open"
    step = _arg("step", services.DEADLINE_STEPS)
    rows = services.all_deadline_rows(current_user, today, include_done=state in ("done", "all"))
    bureaus = sorted({r.bureau for r in rows})
    bureau = _arg("bureau", bureaus)
    shown = STATE_FILTERS[state]
    rows = [r for r in rows if r.state in shown and (not step or r.step == step) and (not bureau or r.bureau == bureau)]
    rows.sort(key=_order)
    form = DeadlineFilterForm(request.args)
    form.state.choices = choices([("open", _("Due and overdue")), ("overdue", _("Overdue")), ("due", _("Due")),
                                  ("done", _("Done")), ("all", _("All"))])
    labels = {key: services.step_label(key) for key in services.DEADLINE_STEPS}
    form.step.choices = choices([("", _("All steps"))] + list(labels.items()))
    form.bureau.choices = choices([("", _("All purchasers"))] + [(b, b) for b in bureaus])
    form.state.data, form.step.data, form.bureau.data = state, step, bureau
    page = ListPagination(page=_page_number(), per_page=50, error_out=False, rows=rows)
    overdue = sum(1 for r in rows if r.state == "overdue")
    return render_template("projects/steps/deadlines.html", page=page, form=form, today=today, overdue=overdue,
                           labels=labels)


# --- the supplier's view --------------------------------------------------------------------

def _involved_ids(org_id: int):
    return union(select(Invitation.project_id).where(Invitation.supplier_id == org_id),
                 select(Bid.project_id).where(Bid.supplier_id == org_id))


@bp.route("/mine")
@require(Action.OWN_BIDS_VIEW)
def my_purchases():
    org_id = current_user.organization_id
    today = beijing_today()
    query = (select(Project).where(Project.id.in_(_involved_ids(org_id)))
             .order_by(Project.created_at.desc(), Project.id.desc()))
    page = db.paginate(query, page=_page_number(), per_page=50, error_out=False, count=True)
    ids = [p.id for p in page.items]
    own_bids = {b.project_id: b for b in db.session.execute(
        select(Bid).where(Bid.supplier_id == org_id, Bid.project_id.in_(ids))).scalars()} if ids else {}
    results = {p.id: services.public_award(p, today) for p in page.items}
    return render_template("projects/steps/my_purchases.html", page=page, own_bids=own_bids, results=results,
                           org_id=org_id, today=today)


@bp.route("/mine/<int:project_id>")
@require(Action.OWN_BIDS_VIEW)
def my_purchase(project_id):
    project = db.get_or_404(Project, project_id)
    if not services.supplier_involved(current_user, project):
        abort(404)
    org_id = current_user.organization_id
    today = beijing_today()
    own_bid = db.session.execute(select(Bid).where(Bid.project_id == project.id, Bid.supplier_id == org_id)).scalar_one_or_none()
    own_invitation = db.session.execute(select(Invitation).where(
        Invitation.project_id == project.id, Invitation.supplier_id == org_id)).scalar_one_or_none()
    return render_template("projects/steps/my_purchase.html", project=project, own_bid=own_bid,
                           own_invitation=own_invitation, result=services.public_award(project, today), org_id=org_id,
                           today=today)


# --- challenges (质疑) and replies -------------------------------------------------------------

def _register_challenge_deadlines() -> None:
    """The reply to a challenge joins "my deadlines" with these routes."""
    from procurement.projects import challenges

    challenges.register()


_register_challenge_deadlines()


def _challenge_forms(project: Project):
    """The record form (its supplier choices: the purchase's participants)."""
    from procurement.projects import challenges

    form = challenges.ChallengeForm()
    form.supplier.choices = choices([("", _("Choose a supplier"))]
                                    + [(str(o.id), o.name) for o in challenges.participants(project)])
    return form


@bp.app_template_global("challenge_card")
def challenge_card(project: Project) -> dict:
    """The project page's "Challenges" card: the challenges, the window, and the forms the user may use."""
    from procurement.projects import challenges

    card = challenges.challenge_card(current_user, project)
    record_form = None
    if card.may_record:
        record_form = challenges.ChallengeForm(formdata=None)
        record_form.supplier.choices = choices([("", _("Choose a supplier"))]
                                               + [(str(o.id), o.name) for o in challenges.participants(project)])
        record_form.received_on.data = beijing_today()
    reply_forms = {}
    if services.can_edit_project(current_user, project):
        for challenge in card.challenges:
            if challenge.is_open:
                reply = challenges.ChallengeReplyForm(formdata=None, prefix=f"reply{challenge.id}")
                reply.version.data = str(challenge.version)
                reply.replied_on.data = beijing_today()
                reply_forms[challenge.id] = reply
    return {"challenges": card.challenges, "window_end": card.window_end, "record_form": record_form,
            "reply_forms": reply_forms, "today": beijing_today(), "cite_window": challenges.CITE_WINDOW,
            "cite_reply": challenges.CITE_REPLY}


@bp.route("/<int:project_id>/challenges/new", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def challenge_add(project_id):
    from procurement.projects import challenges

    project = _editable(project_id)
    today = beijing_today()
    form = _challenge_forms(project)
    if not form.is_submitted():
        form.received_on.data = today
    citation, refused = None, False
    if form.validate_on_submit():
        try:
            challenge = challenges.record_challenge(project, _chosen(form.supplier), form.received_on.data,
                                                    form.subject.data, current_actor(), today,
                                                    matter=challenges.ChallengeMatter(form.matter.data))
        except DomainError as exc:
            citation, refused = _refused(form, exc), True
        else:
            due = challenge.reply_due
            db.session.commit()
            flash(_("The challenge has been recorded. The written reply is due by %(day)s.", day=due.day.isoformat()),
                  "success")
            return redirect(url_for("projects.detail", project_id=project_id, _anchor="challenges"))
    window_end = challenges.window_end(project)
    note = _stage_note(project, *(s for s in ProjectStage if s not in challenges.NOT_ANNOUNCED and not s.is_end))
    return _page("projects/steps/challenge.html", form, project, citation, refused, window_end=window_end,
                 cite_window=challenges.CITE_WINDOW, stage_note=note)


@bp.route("/<int:project_id>/challenges/<int:challenge_id>/reply", methods=["GET", "POST"])
@require(Action.PROJECT_EDIT)
def challenge_reply(project_id, challenge_id):
    from procurement.auth.models import User
    from procurement.projects import challenges

    project = _editable(project_id)
    challenge = db.get_or_404(challenges.Challenge, challenge_id)
    if challenge.project_id != project.id:
        abort(404)
    today = beijing_today()
    form = challenges.ChallengeReplyForm(prefix=f"reply{challenge.id}")
    if not form.is_submitted():
        form.version.data = str(challenge.version)
        form.replied_on.data = today
    citation, refused, conflict = None, False, None
    if form.validate_on_submit():
        try:
            late = challenges.reply_to_challenge(challenge, form.replied_on.data, form.reply.data,
                                                 challenges.ChallengeOutcome(form.outcome.data), current_actor(), today,
                                                 expected_version=form.loaded_version())
        except ConflictError as exc:
            db.session.rollback()
            project = db.session.get(Project, project_id)
            challenge = db.session.get(challenges.Challenge, challenge_id)
            who = challenge.replied_by_id and db.session.get(User, challenge.replied_by_id)
            conflict = {"message": exc.message, "by": (who.display_name or who.username) if who else "",
                        "at": challenge.updated_at, "fields": [
                            (form.replied_on.label.text, challenge.replied_on.isoformat() if challenge.replied_on else "—",
                             form.replied_on.data.isoformat() if form.replied_on.data else "—"),
                            (form.outcome.label.text, challenge.outcome.label if challenge.outcome else "—",
                             challenges.ChallengeOutcome(form.outcome.data).label),
                            (form.reply.label.text, challenge.reply or "—", form.reply.data)]}
            form.version.data = str(challenge.version)
        except DomainError as exc:
            citation, refused = _refused(form, exc), True
            challenge = db.session.get(challenges.Challenge, challenge_id)
        else:
            due = challenge.reply_due
            db.session.commit()
            if late:
                flash(_("The reply has been recorded, but late: it was due by %(day)s.", day=due.day.isoformat()),
                      "warning")
            else:
                flash(_("The reply has been recorded."), "success")
            return redirect(url_for("projects.detail", project_id=project_id, _anchor=f"challenge-{challenge_id}"))
    return _page("projects/steps/challenge_reply.html", form, project, citation, refused, conflict,
                 challenge=challenge, cite_reply=challenges.CITE_REPLY)
