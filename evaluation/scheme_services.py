"""Evaluation schemes in the database: the shipped default, cloning, saving a draft, publishing (DOMAIN §6).

The tree rules themselves are in :mod:`evaluation.schemes` (pure); this module stores trees as
:class:`evaluation.models.Indicator` rows and keeps the versions of a scheme in order.

Versions and codes. Every version of one scheme shares its ``code``; ``number`` counts 1, 2, 3 … within
the code. :func:`clone_scheme` copies any version into a new draft:

* without a new code, the draft is the next version of the same scheme: number = the highest number of that
  code + 1 (whichever version was copied). A code has at most one draft: when one exists already it is
  returned as it is, and nothing is copied;
* with a new code (the administrator starts another scheme from this one), the draft is version 1 of that
  code; a code already in use is refused.

A draft may be saved while it is still incomplete (sums not matching, leaves without rule), as long as it
can be stored (codes, names, depth, points, bands readable): :func:`save_draft` returns the problems left.
:func:`publish` refuses a scheme with any problem and lists every one; publishing a version supersedes the
version of the same code published before it. Published and superseded versions are read-only.
"""

import re
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm.attributes import flag_modified

from evaluation.models import Indicator, Rule, Scheme, SchemeState
from evaluation.schemes import (
    CODE_LENGTH,
    DEFAULT_SCHEME,
    MAX_DEPTH,
    NAME_LENGTH,
    RULES,
    Node,
    scheme_from_rows,
    scheme_to_rows,
    validate,
    walk,
)
from evaluation.scoring import CENT, to_decimal, validate_bands
from procurement.audit.services import Actor, append_audit
from procurement.db_types import utcnow
from procurement.errors import ConflictError, DomainError
from procurement.extensions import db
from procurement.i18n import gettext as _

DEFAULT_CODE = "default"
DEFAULT_NAME = "政府购买社会救助服务绩效评价指标体系"
DEFAULT_DESCRIPTION = ("按照《项目支出绩效评价管理办法》（财预〔2020〕10号）决策、过程、产出、效益四类指标设置，"
                       "权重分别为15、25、35、25分。")
SCHEME_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
NAME_MAX = 128  # Scheme.name
DESCRIPTION_MAX = 2000


class SchemeProblems(DomainError):
    """A tree refused: ``problems`` lists every ``(code, message)`` of :func:`evaluation.schemes.validate`."""

    def __init__(self, message: str, problems: list[tuple[str, str]]):
        super().__init__(message)
        self.problems = problems


def schemes() -> list[Scheme]:
    """Every version, by code then number."""
    return list(db.session.execute(select(Scheme).order_by(Scheme.code, Scheme.number)).scalars())


def tree(scheme: Scheme) -> list[Node]:
    """The scheme's indicators as a tree of :class:`evaluation.schemes.Node`."""
    return scheme_from_rows(scheme.indicators)


def draft_of(code: str) -> Scheme | None:
    return db.session.execute(select(Scheme).where(Scheme.code == code, Scheme.state == SchemeState.DRAFT)
                              ).scalars().first()


def _store(scheme: Scheme, nodes: list[Node]) -> None:
    """Replace the scheme's indicators with the tree (parents linked through ``parent_id``)."""
    for indicator in list(scheme.indicators):
        scheme.indicators.remove(indicator)
    db.session.flush()
    by_code: dict[str, Indicator] = {}
    for row in scheme_to_rows(nodes):
        indicator = Indicator(level=row["level"], position=row["position"], code=row["code"],
                              name=row["name"], max_points=row["max_points"],
                              rule=Rule(row["rule"]) if row["rule"] else None,
                              evidence=row["evidence"] or None, bands=row["bands"],
                              parent=by_code.get(row["parent_code"]) if row["parent_code"] else None)
        scheme.indicators.append(indicator)
        by_code[row["code"]] = indicator
    db.session.flush()


def ensure_default_scheme() -> int:
    """Store :data:`evaluation.schemes.DEFAULT_SCHEME` as the published version 1 of code "default", unless a
    scheme with that code exists; returns how many schemes were added (0 or 1)."""
    if db.session.scalar(select(func.count()).select_from(Scheme).where(Scheme.code == DEFAULT_CODE)):
        return 0
    scheme = Scheme(code=DEFAULT_CODE, name=DEFAULT_NAME, number=1, state=SchemeState.PUBLISHED,
                    description=DEFAULT_DESCRIPTION, published_at=utcnow())
    db.session.add(scheme)
    _store(scheme, DEFAULT_SCHEME)
    return 1


def clone_scheme(scheme: Scheme, actor: Actor, name: str | None = None, code: str | None = None) -> Scheme:
    """A new draft copied from ``scheme`` (see the module's rule on versions and codes)."""
    code = (code or "").strip() or scheme.code
    name = (name or "").strip() or scheme.name
    if len(name) > NAME_MAX:
        raise DomainError(_("A name has at most %(count)s characters.", count=NAME_MAX), field="name")
    if code == scheme.code:
        existing = draft_of(code)
        if existing is not None:
            return existing
        number = (db.session.scalar(select(func.max(Scheme.number)).where(Scheme.code == code)) or 0) + 1
    else:
        if not SCHEME_CODE.match(code):
            raise DomainError(_("A scheme code has 1 to 32 letters, digits, hyphens or underscores."), field="code")
        if db.session.scalar(select(func.count()).select_from(Scheme).where(Scheme.code == code)):
            raise DomainError(_("The scheme code %(code)s is already in use.", code=code), field="code")
        number = 1
    draft = Scheme(code=code, name=name, number=number, state=SchemeState.DRAFT, description=scheme.description,
                   cloned_from_id=scheme.id, created_by_id=actor.user_id)
    db.session.add(draft)
    _store(draft, tree(scheme))
    append_audit(actor, "scheme.clone", draft, detail={"from": scheme.id, "code": code, "number": number})
    db.session.flush()
    return draft


def _points(value) -> Decimal | None:
    try:
        points = to_decimal(value, "max_points")
    except (TypeError, ValueError):
        return None
    return points if points > 0 and points == points.quantize(CENT) and points < 10**9 else None


def storable(nodes: list[Node]) -> bool:
    """Whether the tree fits the tables: codes present, unique and short, names present, depth ≤ 3, points
    valid, known rules on leaves only, readable bands. Sums and missing rules may wait until publishing."""
    seen = set()
    for node, level, _parent in walk(nodes):
        code = (node.code or "").strip()
        if not code or code in seen or len(code) > CODE_LENGTH or level > MAX_DEPTH:
            return False
        seen.add(code)
        if not (node.name or "").strip() or len(node.name.strip()) > NAME_LENGTH or _points(node.max_points) is None:
            return False
        if node.rule and (not node.is_leaf or node.rule not in RULES):
            return False
        if node.bands:
            try:
                validate_bands(node.bands)
            except (TypeError, ValueError):
                return False
    return True


def _read_only(scheme: Scheme) -> None:
    if scheme.state != SchemeState.DRAFT:
        raise DomainError(_("Version %(n)s of this scheme is %(state)s and cannot be changed; clone it to make "
                            "a new draft.", n=scheme.number, state=scheme.state.label))


def save_draft(scheme: Scheme, nodes: list[Node], name: str, description: str | None, actor: Actor,
               expected_version: int | None) -> list[tuple[str, str]]:
    """Replace the draft's name, description and indicators; returns the problems left before publishing.

    Raises:
        DomainError: the scheme is published or superseded (read-only), or the name is missing.
        ConflictError: someone saved the draft since ``expected_version`` was loaded.
        SchemeProblems: the tree cannot be stored; ``problems`` has every problem of the tree.
    """
    _read_only(scheme)
    if expected_version is not None and expected_version != scheme.version:
        raise ConflictError(_("Someone else saved this draft just now. Your rows are still in the form; "
                              "check the saved draft and save again to replace it."))
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Enter the scheme's name."), field="name")
    if len(name) > NAME_MAX:
        raise DomainError(_("A name has at most %(count)s characters.", count=NAME_MAX), field="name")
    description = (description or "").strip() or None
    if description and len(description) > DESCRIPTION_MAX:
        raise DomainError(_("The description has at most %(count)s characters.", count=DESCRIPTION_MAX),
                          field="description")
    problems = validate(nodes)
    if not storable(nodes):
        raise SchemeProblems(_("The draft was not saved: correct the rows marked below."), problems)
    scheme.name, scheme.description = name, description
    _store(scheme, nodes)
    append_audit(actor, "scheme.save", scheme, detail={"indicators": len(list(walk(nodes))),
                                                        "problems": len(problems)})
    _bump(scheme)
    return problems


def _bump(scheme: Scheme) -> None:
    """Make the scheme row itself change so its version counter moves (indicators live in their own table)."""
    flag_modified(scheme, "name")
    db.session.flush()


def publish(scheme: Scheme, actor: Actor, expected_version: int | None = None) -> Scheme:
    """Publish a valid draft; the version of the same code published before it becomes superseded.

    Raises:
        DomainError: the scheme is not a draft.
        ConflictError: the draft changed since ``expected_version``.
        SchemeProblems: the tree has problems (every one listed).
    """
    _read_only(scheme)
    if expected_version is not None and expected_version != scheme.version:
        raise ConflictError(_("Someone else saved this draft just now. Check it again before publishing."))
    problems = validate(tree(scheme))
    if problems:
        raise SchemeProblems(_("The scheme cannot be published until every problem is corrected."), problems)
    previous = db.session.execute(select(Scheme).where(Scheme.code == scheme.code,
                                                       Scheme.state == SchemeState.PUBLISHED)).scalars().all()
    for old in previous:
        old.state = SchemeState.SUPERSEDED
    scheme.state = SchemeState.PUBLISHED
    scheme.published_at = utcnow()
    scheme.published_by_id = actor.user_id
    append_audit(actor, "scheme.publish", scheme, detail={"code": scheme.code, "number": scheme.number,
                                                           "superseded": [old.id for old in previous]})
    db.session.flush()
    return scheme


def current(code: str) -> Scheme | None:
    """The published version of a code, if any."""
    return db.session.execute(select(Scheme).where(Scheme.code == code, Scheme.state == SchemeState.PUBLISHED)
                              ).scalars().first()
