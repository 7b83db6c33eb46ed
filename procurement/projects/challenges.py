"""Challenges (质疑) to a purchase and the purchaser's reply (DOMAIN §3; 政府采购法 第五十二、五十三条).

A supplier that took part in a purchase may challenge the documents, the process or the result in
writing within 7 working days of the day it knew or should have known of the harm; the purchaser replies
in writing within 7 working days of receiving the challenge.

DOMAIN §3 states the window only after the award notice ("challenge window after the award notice", 7
working days).  It says nothing of an earlier start for a challenge to the documents or the process, so
here every challenge counts from the award notice: one may be received from the day the documents were
issued (the purchase announced) until 7 working days after the award notice; a challenge to the result
only once the award notice is out.

The model, its services, the "my deadlines" rows and the two forms live here; the routes are in
:mod:`procurement.projects.steps`.  Nothing here is deleted (政府采购法 第四十二条).
"""

import enum
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Text, select
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from procurement.audit.services import Actor, append_audit
from procurement.auth.models import enum_column
from procurement.db_types import UTCDateTime, utcnow
from procurement.errors import AccessDenied, ConflictError, DomainError
from procurement.extensions import db
from procurement.forms import VersionedForm, choices
from procurement.i18n import N_
from procurement.i18n import gettext as _
from procurement.orgs.forms import StrictDateField
from procurement.orgs.models import Organization
from procurement.projects.models import Project
from procurement.rules.procurement import PERIODS
from procurement.rules.stages import ProjectStage
from procurement.rules.workdays import Deadline

CITE_WINDOW = PERIODS["challenge"].citation  # 《政府采购法》第五十二条
CITE_REPLY = PERIODS["challenge_reply"].citation  # 《政府采购法》第五十三条
CITE_PARTY = "《政府采购法》第五十二条；《政府采购质疑和投诉办法》（财政部令第94号）第十一条"
REPLY_STEP = "challenge_reply"
SUBJECT_MAX, REPLY_MAX = 4000, 4000
#: Stages in which nothing has been published yet: no one can challenge a purchase not announced.
NOT_ANNOUNCED = (ProjectStage.DRAFT, ProjectStage.APPROVED)


class ChallengeMatter(enum.StrEnum):
    """What is challenged (政府采购法实施条例 第五十三条)."""

    DOCUMENTS = "documents"  # 采购文件
    PROCESS = "process"  # 采购过程
    RESULT = "result"  # 中标、成交结果

    @property
    def label(self) -> str:
        return _(MATTER_MSGIDS[self])


MATTER_MSGIDS = {
    ChallengeMatter.DOCUMENTS: N_("The procurement documents"),
    ChallengeMatter.PROCESS: N_("The procurement process"),
    ChallengeMatter.RESULT: N_("The result (award)"),
}


class ChallengeOutcome(enum.StrEnum):
    UPHELD = "upheld"  # 质疑成立
    PARTLY_UPHELD = "partly_upheld"  # 部分成立
    DISMISSED = "dismissed"  # 质疑不成立

    @property
    def label(self) -> str:
        return _(OUTCOME_MSGIDS[self])


OUTCOME_MSGIDS = {
    ChallengeOutcome.UPHELD: N_("Upheld"),
    ChallengeOutcome.PARTLY_UPHELD: N_("Partly upheld"),
    ChallengeOutcome.DISMISSED: N_("Dismissed"),
}


class Challenge(db.Model):
    """A supplier's written challenge (质疑函) received by the purchaser, and the written reply."""

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    matter: Mapped[ChallengeMatter] = mapped_column(enum_column(ChallengeMatter, 16))
    received_on: Mapped[date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(Text)
    replied_on: Mapped[date | None] = mapped_column(Date)
    reply: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[ChallengeOutcome | None] = mapped_column(enum_column(ChallengeOutcome, 16))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    project = relationship(Project, backref=backref("challenges", order_by="Challenge.id", viewonly=True))
    supplier = relationship(Organization, lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("replied_on IS NULL OR replied_on >= received_on", name="reply_after_receipt"),
        # a reply is complete: its day, its text and its outcome together
        CheckConstraint("(replied_on IS NULL AND reply IS NULL AND outcome IS NULL) OR "
                        "(replied_on IS NOT NULL AND reply IS NOT NULL AND outcome IS NOT NULL)", name="reply_complete"),
    )

    @property
    def is_open(self) -> bool:
        return self.replied_on is None

    @property
    def reply_due(self) -> Deadline:
        """The last day of the reply (7 working days after receipt), on the entered holiday calendar."""
        return reply_due(self.received_on)

    @property
    def replied_late(self) -> bool:
        return self.replied_on is not None and self.replied_on > self.reply_due.day

    def overdue(self, today: date) -> bool:
        return self.replied_on is None and today > self.reply_due.day


# --- rules read from the project ------------------------------------------------------------

def _services():
    """The project services (imported late: they import every model module, this one included)."""
    from procurement.projects import services

    return services


def reply_due(received_on: date) -> Deadline:
    return PERIODS["challenge_reply"].end(_services().work_calendar(), received_on)


def window_end(project: Project) -> Deadline | None:
    """The last day a challenge may be received: 7 working days after the award notice (None before it)."""
    if project.award_notice_on is None:
        return None
    return PERIODS["challenge"].end(_services().work_calendar(), project.award_notice_on)


def participants(project: Project) -> list[Organization]:
    """The suppliers that took part: invited, or bid / responded (政府采购法 第五十二条: 供应商)."""
    seen, result = set(), []
    for org in [i.supplier for i in project.invitations] + [b.supplier for b in project.bids]:
        if org.id not in seen:
            seen.add(org.id)
            result.append(org)
    return result


def can_record_challenge(user, project: Project) -> bool:
    return _services().can_edit_project(user, project) and project.stage not in NOT_ANNOUNCED


def can_reply(user, challenge: Challenge) -> bool:
    return _services().can_edit_project(user, challenge.project) and challenge.is_open


def _ensure(allowed: bool) -> None:
    if not allowed:
        raise AccessDenied(_("You may not change this project."))


# --- services -------------------------------------------------------------------------------

def record_challenge(project: Project, supplier: Organization | None, received_on: date, subject: str, actor: Actor,
                     today: date, matter: ChallengeMatter = ChallengeMatter.RESULT) -> Challenge:
    """A written challenge received from a supplier that took part in the purchase.

    Raises:
        AccessDenied: the actor may not run this project's purchase.
        DomainError: the purchase is not announced yet, the day is in the future or outside the window,
            the supplier took no part, or the subject is empty.
    """
    _ensure(_services().can_edit_project(actor.user, project))
    subject = (subject or "").strip()
    if project.stage in NOT_ANNOUNCED or project.documents_issued_on is None and project.award_notice_on is None:
        raise DomainError(_("A purchase can be challenged only once it has been announced."), field="received_on",
                          citation=CITE_WINDOW)
    if received_on > today:
        raise DomainError(_("This date is in the future; record the step once it has happened."), field="received_on")
    if project.documents_issued_on is not None and received_on < project.documents_issued_on:
        raise DomainError(_("A challenge cannot be received before the documents were issued (%(day)s).",
                            day=project.documents_issued_on.isoformat()), field="received_on", citation=CITE_WINDOW)
    if matter == ChallengeMatter.RESULT and (project.award_notice_on is None or received_on < project.award_notice_on):
        raise DomainError(_("The result can be challenged only after the award notice has been published."),
                          field="matter", citation=CITE_WINDOW)
    end = window_end(project)
    if end is not None and received_on > end.day:
        raise DomainError(_("Received after the challenge window closed on %(day)s (7 working days after the award "
                            "notice of %(notice)s): the challenge is out of time.", day=end.day.isoformat(),
                            notice=project.award_notice_on.isoformat()), field="received_on", citation=CITE_WINDOW)
    if supplier is None or supplier.id not in {org.id for org in participants(project)}:
        raise DomainError(_("Only a supplier invited to this purchase or one that bid in it may challenge it."),
                          field="supplier", citation=CITE_PARTY)
    if not subject:
        raise DomainError(_("Enter what is challenged and why."), field="subject")
    if len(subject) > SUBJECT_MAX:
        raise DomainError(_("At most 4000 characters."), field="subject")
    challenge = Challenge(project_id=project.id, supplier_id=supplier.id, matter=matter, received_on=received_on,
                          subject=subject, recorded_by_id=actor.user_id, created_at=utcnow(), updated_at=utcnow())
    db.session.add(challenge)
    db.session.flush()
    db.session.expire(project, ["challenges"])
    due = challenge.reply_due
    append_audit(actor, "project.challenge", project, detail={
        "challenge": challenge.id, "supplier": supplier.id, "name": supplier.name, "matter": matter.value,
        "received_on": received_on.isoformat(), "reply_due": due.day.isoformat()})
    return challenge


def reply_to_challenge(challenge: Challenge, replied_on: date, reply: str, outcome: ChallengeOutcome | None,
                       actor: Actor, today: date, expected_version: int | None = None) -> bool:
    """The purchaser's written reply.  Returns whether it came after the reply deadline (accepted, flagged late).

    Raises:
        AccessDenied: the actor may not run this project's purchase.
        ConflictError: someone replied (or changed the challenge) since it was loaded.
        DomainError: no text or outcome, a day before receipt or in the future, or already answered.
    """
    project = challenge.project
    _ensure(_services().can_edit_project(actor.user, project))
    if expected_version is not None and challenge.version != expected_version:
        raise ConflictError(_("Someone else replied to this challenge while you were writing your reply."))
    if not challenge.is_open:
        raise DomainError(_("This challenge has already been answered on %(day)s.",
                            day=challenge.replied_on.isoformat()), field="reply")
    reply = (reply or "").strip()
    if not reply:
        raise DomainError(_("Enter the reply sent to the supplier."), field="reply")
    if len(reply) > REPLY_MAX:
        raise DomainError(_("At most 4000 characters."), field="reply")
    if outcome is None:
        raise DomainError(_("Choose the outcome of the challenge."), field="outcome")
    if replied_on < challenge.received_on:
        raise DomainError(_("The reply cannot come before the challenge was received (%(day)s).",
                            day=challenge.received_on.isoformat()), field="replied_on")
    if replied_on > today:
        raise DomainError(_("This date is in the future; record the step once it has happened."), field="replied_on")
    challenge.replied_on, challenge.reply, challenge.outcome = replied_on, reply, outcome
    challenge.replied_by_id = actor.user_id
    challenge.updated_at = utcnow()
    db.session.flush()
    due = challenge.reply_due
    late = replied_on > due.day
    append_audit(actor, "project.challenge_reply", project, detail={
        "challenge": challenge.id, "supplier": challenge.supplier_id, "replied_on": replied_on.isoformat(),
        "outcome": outcome.value, "reply_due": due.day.isoformat(), "late": late})
    return late


# --- "my deadlines" --------------------------------------------------------------------------

def challenge_deadline_rows(user, today: date, include_done: bool = False) -> list:
    """Challenges of the user's region awaiting a reply (due / overdue), and answered ones (done / done late).

    A provider of :data:`procurement.projects.services.DEADLINE_PROVIDERS` (registered by :func:`register`).
    """
    services = _services()
    query = (services.project_query(user).join(Challenge, Challenge.project_id == Project.id)
             .with_only_columns(Project.id, Project.code, Project.title, Organization.name, Challenge.id,
                                Challenge.received_on, Challenge.replied_on)
             .order_by(Challenge.id))
    if not include_done:
        query = query.where(Challenge.replied_on.is_(None))
    ends: dict = {}
    rows = []
    for pid, code, title, bureau, cid, received_on, replied_on in db.session.execute(query):
        due = ends.get(received_on)
        if due is None:
            due = ends[received_on] = reply_due(received_on)
        if replied_on is None:
            state = "due" if today <= due.day else "overdue"
        else:
            state = "done" if replied_on <= due.day else "done_late"
        rows.append(services.Deadline(pid, code, title, bureau, REPLY_STEP, received_on, due.day, due.estimated,
                                      replied_on, state, url_endpoint="projects.detail",
                                      url_args=(("project_id", pid), ("_anchor", f"challenge-{cid}"))))
    return rows


def register() -> None:
    """Put the reply deadline on "my deadlines" (its label and rule come from PERIODS); called with the routes."""
    services = _services()
    if challenge_deadline_rows not in services.DEADLINE_PROVIDERS:
        services.DEADLINE_PROVIDERS.append(challenge_deadline_rows)
    if REPLY_STEP not in services.DEADLINE_STEPS:
        services.DEADLINE_STEPS.append(REPLY_STEP)



# --- forms ----------------------------------------------------------------------------------

def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ChallengeForm(FlaskForm):
    supplier = SelectField(_l("Supplier"), coerce=str, validators=[DataRequired(_l("Choose a supplier."))])
    matter = SelectField(_l("What is challenged"), coerce=str,
                         validators=[DataRequired(_l("Choose what is challenged."))],
                         choices=choices([(m.value, _l(MATTER_MSGIDS[m])) for m in ChallengeMatter]))
    received_on = StrictDateField(_l("Received on"),
                                  validators=[InputRequired(_l("Enter the date the challenge was received."))])
    subject = TextAreaField(_l("The challenge"), filters=[_strip], render_kw={"rows": 3},
                            validators=[DataRequired(_l("Enter what is challenged and why.")),
                                        Length(max=SUBJECT_MAX, message=_l("At most 4000 characters."))],
                            description=_l("The matters challenged and the supplier's reasons, as in its letter."))


class ChallengeReplyForm(VersionedForm):
    replied_on = StrictDateField(_l("Replied on"), validators=[InputRequired(_l("Enter the date of the reply."))])
    outcome = SelectField(_l("Outcome"), coerce=str, validators=[DataRequired(_l("Choose the outcome of the challenge."))],
                          choices=choices([("", _l("Choose the outcome"))]
                                          + [(o.value, _l(OUTCOME_MSGIDS[o])) for o in ChallengeOutcome]))
    reply = TextAreaField(_l("Reply"), filters=[_strip], render_kw={"rows": 3},
                          validators=[DataRequired(_l("Enter the reply sent to the supplier.")),
                                      Length(max=REPLY_MAX, message=_l("At most 4000 characters."))])


@dataclass(frozen=True)
class ChallengeCard:
    """What the project page shows of the challenges."""

    challenges: list
    window_end: Deadline | None
    may_record: bool


def challenge_card(user, project: Project) -> ChallengeCard:
    return ChallengeCard(list(project.challenges), window_end(project), can_record_challenge(user, project))


def challenges_of(project_id: int) -> list[Challenge]:
    return list(db.session.execute(select(Challenge).where(Challenge.project_id == project_id)
                                   .order_by(Challenge.id)).scalars())
