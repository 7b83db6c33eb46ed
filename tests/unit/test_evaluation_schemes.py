"""Evaluation schemes: the tree's validation, the default scheme of DOMAIN §6, flattening to indicator rows."""

import copy
from decimal import Decimal

import pytest

from evaluation.models import Rule
from evaluation.schemes import DEFAULT_SCHEME, Node, leaves, scheme_from_rows, scheme_to_rows, validate
from evaluation.scoring import band_points

D = Decimal


def leaf(code, points, rule="manual", **extra):
    return Node(code=code, name=f"指标{code}", max_points=D(points), rule=rule, evidence="评分要点", **extra)


def branch(code, points, *children):
    return Node(code=code, name=f"指标{code}", max_points=D(points), children=list(children))


def good_tree():
    return [
        branch("1", "40",
               branch("1.1", "40", leaf("1.1.1", "25"), leaf("1.1.2", "15", "completion"))),
        branch("2", "60",
               branch("2.1", "35.50", leaf("2.1.1", "35.50", "satisfaction", bands=[["95", "1"], ["0", "0.5"]])),
               leaf("2.2", "24.50")),  # a leaf at level 2 is allowed
    ]


def codes(problems):
    return [code for code, _message in problems]


def test_a_good_tree_is_valid():
    assert validate(good_tree()) == []


def test_default_scheme_is_valid():
    assert validate(DEFAULT_SCHEME) == []


def test_default_scheme_follows_domain_weights_and_names():
    assert [(node.name, node.max_points) for node in DEFAULT_SCHEME] == [
        ("决策", D(15)), ("过程", D(25)), ("产出", D(35)), ("效益", D(25))]
    level2 = {node.name: [child.name for child in node.children] for node in DEFAULT_SCHEME}
    assert level2 == {
        "决策": ["立项依据", "绩效目标合理性", "预算编制"],
        "过程": ["资金使用合规", "台账与报告", "人员资质", "信息安全", "整改落实"],
        "产出": ["对象覆盖率", "服务量完成率", "服务及时率", "服务质量抽查合格率"],
        "效益": ["需求解决率", "服务对象满意度", "可持续影响"],
    }
    satisfaction = DEFAULT_SCHEME[3].children[1]
    assert satisfaction.max_points >= 10
    assert sum(leaf.max_points for leaf in leaves(DEFAULT_SCHEME)) == D(100)


def test_default_scheme_every_level_two_indicator_has_level_three_leaves_with_evidence():
    for level1 in DEFAULT_SCHEME:
        for level2 in level1.children:
            assert level2.children, level2.name
            for level3 in level2.children:
                assert level3.is_leaf
                assert level3.evidence and len(level3.evidence) > 20
                assert level3.rule in {rule.value for rule in Rule}


def test_default_scheme_computed_rules_are_where_the_app_has_the_data():
    rule_of = {level2.name: {leaf.rule for leaf in level2.children}
               for level1 in DEFAULT_SCHEME for level2 in level1.children}
    assert rule_of["服务量完成率"] == {Rule.COMPLETION}
    assert rule_of["对象覆盖率"] == {Rule.COVERAGE}
    assert rule_of["服务及时率"] == {Rule.TIMELINESS}
    assert rule_of["服务对象满意度"] == {Rule.SATISFACTION}
    assert rule_of["整改落实"] == {Rule.RECTIFICATION}
    computed = {leaf.rule for leaf in leaves(DEFAULT_SCHEME) if leaf.rule != Rule.MANUAL}
    assert computed == {rule.value for rule in Rule if rule.computed}
    for name in ("立项依据", "资金使用合规", "人员资质", "信息安全", "服务质量抽查合格率", "需求解决率"):
        assert rule_of[name] == {Rule.MANUAL}


def test_default_scheme_computed_leaves_score_full_at_100_percent():
    for node in leaves(DEFAULT_SCHEME):
        if node.rule != Rule.MANUAL:
            assert band_points(node.max_points, D(100), node.bands) == node.max_points


def break_(mutate):
    tree = good_tree()
    mutate(tree)
    return validate(tree)


@pytest.mark.parametrize(
    ("mutate", "expected_codes"),
    [
        # leaves no longer add up to 100 (and 2.2 no longer matches its parent)
        (lambda t: setattr(t[1].children[1], "max_points", D("24.49")), ["2", ""]),
        # a parent that is not the sum of its children, though the leaves still add up to 100
        (lambda t: setattr(t[0], "max_points", D("41")), ["1"]),
        (lambda t: setattr(t[0].children[0].children[0], "rule", None), ["1.1.1"]),
        (lambda t: setattr(t[0].children[0].children[0], "rule", "guess"), ["1.1.1"]),
        (lambda t: setattr(t[0].children[0], "rule", "manual"), ["1.1"]),  # only leaves have a rule
        (lambda t: setattr(t[1].children[1], "code", "1.1.1"), ["1.1.1"]),  # duplicate code
        (lambda t: setattr(t[1].children[1], "code", " "), [""]),
        (lambda t: setattr(t[1].children[1], "code", "1.2.3.4.5.6.7.8.9"), ["1.2.3.4.5.6.7.8.9"]),
        (lambda t: setattr(t[1].children[1], "name", ""), ["2.2"]),
        (lambda t: setattr(t[1].children[0].children[0], "bands", [["80", "1"], ["90", "0.5"]]), ["2.1.1"]),
        (lambda t: setattr(t[1].children[0].children[0], "bands", [["100", "2"]]), ["2.1.1"]),
        (lambda t: setattr(t[0].children[0].children[0], "bands", [["100", "1"]]), ["1.1.1"]),  # manual + bands
    ],
)
def test_broken_trees_name_the_indicator(mutate, expected_codes):
    problems = break_(mutate)
    assert codes(problems) == expected_codes
    assert all(message.strip() for _code, message in problems)


@pytest.mark.parametrize("points", ["0", "-5", "12.345", "abc", None])
def test_max_points_positive_with_two_decimals(points):
    tree = good_tree()
    tree[1].children[1].max_points = D(points) if points not in ("abc", None) else points
    problems = validate(tree)
    assert "2.2" in codes(problems)


def test_depth_at_most_three():
    tree = good_tree()
    deep = tree[0].children[0].children[0]
    deep.rule = None
    deep.children = [leaf("1.1.1.1", "25")]
    assert codes(validate(tree)) == ["1.1.1.1"]


def test_empty_scheme_is_invalid():
    assert codes(validate([])) == [""]


def test_leaves_must_sum_to_exactly_100_not_approximately():
    tree = [branch("1", "100.01", leaf("1.1", "100.01"))]
    assert codes(validate(tree)) == [""]
    tree = [leaf("1", "33.33"), leaf("2", "33.33"), leaf("3", "33.33")]
    assert codes(validate(tree)) == [""]
    tree = [leaf("1", "33.33"), leaf("2", "33.33"), leaf("3", "33.34")]
    assert validate(tree) == []


def test_scheme_to_rows_depth_first_with_levels_and_positions():
    rows = scheme_to_rows(good_tree())
    assert [(row["code"], row["level"], row["position"], row["parent_code"]) for row in rows] == [
        ("1", 1, 1, None), ("1.1", 2, 2, "1"), ("1.1.1", 3, 3, "1.1"), ("1.1.2", 3, 4, "1.1"),
        ("2", 1, 5, None), ("2.1", 2, 6, "2"), ("2.1.1", 3, 7, "2.1"), ("2.2", 2, 8, "2")]
    by_code = {row["code"]: row for row in rows}
    assert by_code["1"]["rule"] is None and by_code["1.1.2"]["rule"] == "completion"
    assert by_code["2.1.1"]["bands"] == [["95", "1"], ["0", "0.5"]]
    assert by_code["1.1.2"]["bands"] is None  # the default bands
    assert by_code["2.1"]["max_points"] == D("35.50")


def test_default_scheme_rows_fit_the_indicator_table_and_round_trip():
    rows = scheme_to_rows(DEFAULT_SCHEME)
    assert {row["level"] for row in rows} == {1, 2, 3}
    assert all(len(row["code"]) <= 16 and len(row["name"]) <= 128 for row in rows)
    assert [row["position"] for row in rows] == list(range(1, len(rows) + 1))
    rebuilt = scheme_from_rows(reversed(rows))  # order comes from the positions
    assert rebuilt == copy.deepcopy(DEFAULT_SCHEME)
    assert validate(rebuilt) == []
