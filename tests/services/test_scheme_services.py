"""Evaluation schemes in the database: the shipped default, clone, save a draft, publish (DOMAIN §6)."""

import copy
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from evaluation import scheme_services as services
from evaluation.models import Indicator, Rule, Scheme, SchemeState
from evaluation.schemes import DEFAULT_SCHEME, Node, validate, walk
from procurement.audit.models import AuditRecord
from procurement.audit.services import Actor
from procurement.auth.roles import Role
from procurement.errors import ConflictError, DomainError
from procurement.extensions import db
from procurement.reference_data import load_reference_data
from tests.factories import make_user


@pytest.fixture
def admin():
    return Actor(make_user(Role.SYSADMIN, region_code="530000"), "127.0.0.1")


def default() -> Scheme:
    return db.session.execute(select(Scheme).where(Scheme.code == "default", Scheme.number == 1)).scalar_one()


def tree() -> list[Node]:
    return copy.deepcopy(DEFAULT_SCHEME)


def find(nodes, code) -> Node:
    return next(node for node, _level, _parent in walk(nodes) if node.code == code)


def audit_actions() -> list[str]:
    return list(db.session.execute(select(AuditRecord.action).order_by(AuditRecord.id)).scalars())


def test_the_default_scheme_is_shipped_published_with_its_tree():
    scheme = default()
    assert (scheme.number, scheme.state) == (1, SchemeState.PUBLISHED)
    assert scheme.published_at is not None
    indicators = scheme.indicators
    assert len(indicators) == len(list(walk(DEFAULT_SCHEME)))
    by_code = {i.code: i for i in indicators}
    assert by_code["1.1.1"].parent is by_code["1.1"] and by_code["1.1"].parent is by_code["1"]
    assert by_code["1"].parent_id is None and by_code["1"].rule is None
    assert by_code["4.2.1"].rule == Rule.SATISFACTION and by_code["4.2.1"].level == 3
    assert sum(i.max_points for i in indicators if i.level == 1) == Decimal(100)
    assert validate(services.tree(scheme)) == []


def test_loading_the_reference_data_again_adds_no_second_default():
    added = load_reference_data()
    assert added["evaluation_schemes"] == 0
    assert db.session.scalar(select(func.count()).select_from(Scheme).where(Scheme.code == "default")) == 1
    assert services.ensure_default_scheme() == 0


def test_the_default_is_stored_when_missing():
    db.session.execute(Indicator.__table__.delete())
    db.session.execute(Scheme.__table__.delete())
    assert services.ensure_default_scheme() == 1
    assert default().state == SchemeState.PUBLISHED


def test_clone_makes_the_next_version_as_a_draft_and_a_second_clone_returns_it(admin):
    draft = services.clone_scheme(default(), admin)
    assert (draft.code, draft.number, draft.state, draft.cloned_from_id) == ("default", 2, SchemeState.DRAFT,
                                                                             default().id)
    assert draft.published_at is None
    assert validate(services.tree(draft)) == []
    assert len(draft.indicators) == len(default().indicators)
    assert services.clone_scheme(default(), admin).id == draft.id
    assert audit_actions().count("scheme.clone") == 1


def test_clone_with_a_new_code_starts_another_scheme(admin):
    other = services.clone_scheme(default(), admin, name="居家养老服务评价", code="home-care")
    assert (other.code, other.number, other.name) == ("home-care", 1, "居家养老服务评价")
    with pytest.raises(DomainError) as refused:
        services.clone_scheme(default(), admin, code="home-care")
    assert refused.value.field == "code"
    with pytest.raises(DomainError):
        services.clone_scheme(default(), admin, code="含 空格")


def test_save_replaces_the_indicators_and_keeps_an_incomplete_draft(admin):
    draft = services.clone_scheme(default(), admin)
    nodes = tree()
    find(nodes, "4.3.2").name = "社会效益"
    find(nodes, "4.3.2").max_points = Decimal(2)  # leaves now add up to 99 and 4.3 is 7 ≠ 6
    problems = services.save_draft(draft, nodes, "新名称", "说明", admin, draft.version)
    codes = {code for code, _message in problems}
    assert codes == {"", "4.3"}
    db.session.expire_all()
    stored = {i.code: i for i in db.session.get(Scheme, draft.id).indicators}
    assert stored["4.3.2"].name == "社会效益" and stored["4.3.2"].max_points == Decimal(2)
    assert db.session.get(Scheme, draft.id).name == "新名称"
    assert "scheme.save" in audit_actions()


@pytest.mark.parametrize("spoil, code", [
    (lambda nodes: setattr(find(nodes, "1.1.1"), "rule", None), "1.1.1"),  # a leaf without rule
    (lambda nodes: setattr(find(nodes, "1.1"), "max_points", Decimal(6)), "1.1"),  # parent ≠ sum of children
    (lambda nodes: setattr(find(nodes, "3.1.1"), "bands", [["60", "1"], ["80", "1/2"]]), "3.1.1"),  # bands rising
    (lambda nodes: setattr(find(nodes, "1.1.1"), "bands", [["100", "1"]]), "1.1.1"),  # bands on a manual leaf
    (lambda nodes: setattr(find(nodes, "1.1.2"), "code", "1.1.1"), "1.1.1"),  # a code used twice
    (lambda nodes: setattr(find(nodes, "1.1.1"), "max_points", Decimal(0)), "1.1.1"),  # no points
    (lambda nodes: setattr(find(nodes, "1.1.1"), "max_points", Decimal("2.555")), "1.1.1"),  # three decimals
    (lambda nodes: setattr(find(nodes, "1.1.1"), "name", " "), "1.1.1"),  # no name
    (lambda nodes: setattr(find(nodes, "1.1.1"), "rule", "guess"), "1.1.1"),  # unknown rule
    (lambda nodes: setattr(find(nodes, "1.1"), "rule", "manual"), "1.1"),  # a rule on a parent
    (lambda nodes: find(nodes, "1.1.1").children.append(Node("1.1.1.1", "第四级", Decimal(3), "manual")),
     "1.1.1.1"),  # four levels
])
def test_each_kind_of_invalid_tree_is_reported_on_its_indicator(admin, spoil, code):
    draft = services.clone_scheme(default(), admin)
    nodes = tree()
    spoil(nodes)
    try:
        problems = services.save_draft(draft, nodes, draft.name, None, admin, draft.version)
    except services.SchemeProblems as exc:  # cannot be stored: the draft keeps its valid tree
        problems = exc.problems
    else:  # stored as an incomplete draft: it cannot be published
        with pytest.raises(services.SchemeProblems) as refused:
            services.publish(draft, admin)
        assert refused.value.problems == problems
    assert code in {problem_code for problem_code, _message in problems}
    assert all(message for _code, message in problems)


def test_an_unstorable_tree_changes_nothing(admin):
    draft = services.clone_scheme(default(), admin)
    before = [(i.code, i.max_points) for i in draft.indicators]
    nodes = tree()
    find(nodes, "1.1.2").code = "1.1.1"
    with pytest.raises(services.SchemeProblems) as refused:
        services.save_draft(draft, nodes, draft.name, None, admin, draft.version)
    assert ("1.1.1", refused.value.problems[0][1]) in refused.value.problems
    assert [(i.code, i.max_points) for i in db.session.get(Scheme, draft.id).indicators] == before


def test_an_empty_tree_is_a_problem(admin):
    draft = services.clone_scheme(default(), admin)
    assert services.save_draft(draft, [], draft.name, None, admin, draft.version) == [
        ("", validate([])[0][1])]
    with pytest.raises(services.SchemeProblems):
        services.publish(draft, admin)


def test_a_stale_save_is_a_conflict(admin):
    draft = services.clone_scheme(default(), admin)
    loaded = draft.version
    services.save_draft(draft, tree(), "甲的修改", None, admin, loaded)
    assert draft.version != loaded
    with pytest.raises(ConflictError):
        services.save_draft(draft, tree(), "乙的修改", None, admin, loaded)


def test_the_name_is_required(admin):
    draft = services.clone_scheme(default(), admin)
    with pytest.raises(DomainError) as refused:
        services.save_draft(draft, tree(), "  ", None, admin, draft.version)
    assert refused.value.field == "name"


def test_publish_supersedes_the_previous_version_and_both_are_read_only(admin):
    old = default()
    draft = services.clone_scheme(old, admin)
    services.publish(draft, admin, draft.version)
    assert draft.state == SchemeState.PUBLISHED and draft.published_at is not None
    assert old.state == SchemeState.SUPERSEDED
    assert db.session.scalar(select(func.count()).select_from(Scheme).where(
        Scheme.code == "default", Scheme.state == SchemeState.PUBLISHED)) == 1
    assert audit_actions()[-1] == "scheme.publish"
    for scheme in (old, draft):
        with pytest.raises(DomainError):
            services.save_draft(scheme, tree(), "改", None, admin, scheme.version)
        with pytest.raises(DomainError):
            services.publish(scheme, admin)
    assert services.clone_scheme(draft, admin).number == 3


def test_publishing_another_code_leaves_the_default_published(admin):
    other = services.clone_scheme(default(), admin, code="other")
    services.publish(other, admin)
    assert default().state == SchemeState.PUBLISHED
