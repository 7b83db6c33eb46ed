"""Evaluation schemes as plain data (DOMAIN §6): the tree of indicators, its validation, the default scheme.

No database and no Flask. A scheme is a list of level-1 :class:`Node` s; leaves carry the scoring rule
(one of :class:`evaluation.models.Rule`) and, for computed rules, optional rate bands (None → the default
bands of :data:`evaluation.scoring.DEFAULT_BANDS`). :func:`scheme_to_rows` flattens a tree into the rows
stored as :class:`evaluation.models.Indicator`; :func:`scheme_from_rows` builds it back.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from evaluation.models import Rule
from evaluation.scoring import CENT, HUNDRED, bands_to_json, to_decimal, validate_bands
from procurement.i18n import gettext as _

MAX_DEPTH = 3
CODE_LENGTH = 16  # Indicator.code
NAME_LENGTH = 128  # Indicator.name
RULES = frozenset(rule.value for rule in Rule)


@dataclass
class Node:
    """One indicator. A node without children is a leaf: it has the points and the rule."""

    code: str
    name: str
    max_points: Decimal
    rule: str | None = None
    evidence: str | None = None  # 评分要点
    bands: list | None = None  # [(at least rate %, share), …]; None or [] → the default bands
    children: list["Node"] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return not self.children


def walk(nodes: Iterable[Node], level: int = 1, parent: Node | None = None) -> Iterator[tuple[Node, int, Node | None]]:
    """Depth first: ``(node, level, parent)``."""
    for node in nodes:
        yield node, level, parent
        yield from walk(node.children, level + 1, node)


def leaves(nodes: Iterable[Node]) -> list[Node]:
    return [node for node, _level, _parent in walk(nodes) if node.is_leaf]


def _points(value) -> Decimal | None:
    try:
        return to_decimal(value, "max_points")
    except (TypeError, ValueError):
        return None


def validate(nodes: list[Node]) -> list[tuple[str, str]]:
    """Problems of a scheme as ``(code, message)`` (code "" for the scheme as a whole); empty when valid.

    Leaves sum to exactly 100; each parent equals the sum of its children; every leaf has a known rule and
    only leaves have one; depth ≤ 3; codes present, unique and short; names present; max points > 0 with
    at most two decimals; a computed leaf's bands, if given, are valid; a manual leaf has no bands.
    """
    problems: list[tuple[str, str]] = []
    if not nodes:
        return [("", _("A scheme needs at least one indicator."))]
    seen: set[str] = set()
    leaf_sum = Decimal(0)
    all_points_valid = True
    for node, level, _parent in walk(nodes):
        code = (node.code or "").strip()
        if not code:
            problems.append(("", _("Every indicator needs a code.")))
        elif code in seen:
            problems.append((code, _("The code %(code)s is used twice.", code=code)))
        elif len(code) > CODE_LENGTH:
            problems.append((code, _("A code has at most %(count)s characters.", count=CODE_LENGTH)))
        seen.add(code)
        if not (node.name or "").strip():
            problems.append((code, _("Every indicator needs a name.")))
        elif len(node.name.strip()) > NAME_LENGTH:
            problems.append((code, _("A name has at most %(count)s characters.", count=NAME_LENGTH)))
        if level > MAX_DEPTH:
            problems.append((code, _("Indicators go at most three levels deep.")))
        points = _points(node.max_points)
        if points is None or points <= 0:
            problems.append((code, _("The maximum points must be greater than zero.")))
            all_points_valid = False
        elif points != points.quantize(CENT):
            problems.append((code, _("Points have at most two decimals.")))
            all_points_valid = False
        if node.is_leaf:
            if points is not None:
                leaf_sum += points
            problems.extend(_leaf_problems(node, code))
        else:
            if node.rule:
                problems.append((code, _("Only indicators without sub-indicators have a scoring rule.")))
            child_points = [_points(child.max_points) for child in node.children]
            if points is not None and None not in child_points and sum(child_points, Decimal(0)) != points:
                problems.append((code, _(
                    "The maximum points (%(points)s) must equal the sum of its sub-indicators (%(total)s).",
                    points=points, total=sum(child_points, Decimal(0)))))
    if all_points_valid and leaf_sum != HUNDRED:
        problems.append(("", _("The indicators without sub-indicators must add up to exactly 100 points, "
                               "not %(total)s.", total=leaf_sum)))
    return problems


def _leaf_problems(node: Node, code: str) -> list[tuple[str, str]]:
    if not node.rule:
        return [(code, _("Every indicator without sub-indicators needs a scoring rule."))]
    if node.rule not in RULES:
        return [(code, _("Unknown scoring rule."))]
    if not node.bands:  # None or [] → the default bands
        return []
    if node.rule == Rule.MANUAL:
        return [(code, _("Rate bands apply to computed indicators only."))]
    try:
        validate_bands(node.bands)
    except (TypeError, ValueError):
        return [(code, _("The rate bands must go from the highest rate down, with shares between 0 and 1."))]
    return []


def scheme_to_rows(nodes: list[Node]) -> list[dict]:
    """Depth-first rows for :class:`evaluation.models.Indicator`: code, parent_code, level, position (1, 2, …),
    name, max_points, rule (None on parents), evidence, bands (JSON strings, or None for the default)."""
    rows = []
    for position, (node, level, parent) in enumerate(walk(nodes), start=1):
        rows.append({
            "code": node.code,
            "parent_code": parent.code if parent is not None else None,
            "level": level,
            "position": position,
            "name": node.name,
            "max_points": to_decimal(node.max_points, "max_points"),
            "rule": node.rule if node.is_leaf else None,
            "evidence": node.evidence,
            "bands": bands_to_json(node.bands) if node.bands and node.is_leaf else None,
        })
    return rows


def scheme_from_rows(rows: Iterable) -> list[Node]:
    """The tree back from rows (dicts with ``parent_code``, or Indicator objects with ``parent``), by position."""

    def get(row, name):
        return row[name] if isinstance(row, dict) else getattr(row, name, None)

    def parent_code(row):
        if isinstance(row, dict):
            return row.get("parent_code")
        parent = getattr(row, "parent", None)
        return parent.code if parent is not None else None

    ordered = sorted(rows, key=lambda row: get(row, "position"))
    by_code: dict[str, Node] = {}
    roots: list[Node] = []
    for row in ordered:
        rule = get(row, "rule")
        node = Node(code=get(row, "code"), name=get(row, "name"), max_points=get(row, "max_points"),
                    rule=rule.value if isinstance(rule, Rule) else rule, evidence=get(row, "evidence"),
                    bands=get(row, "bands"))
        by_code[node.code] = node
        owner = parent_code(row)
        if owner is None:
            roots.append(node)
        elif owner in by_code:
            by_code[owner].children.append(node)
        else:
            raise ValueError(f"indicator {node.code} comes before its parent {owner}")
    return roots


def _leaf(code, name, points, rule, evidence) -> Node:
    return Node(code=code, name=name, max_points=Decimal(points), rule=rule.value, evidence=evidence)


def _branch(code, name, points, *children) -> Node:
    return Node(code=code, name=name, max_points=Decimal(points), children=list(children))


M = Rule.MANUAL

#: The default scheme of DOMAIN §6 (决策/过程/产出/效益 of 财预〔2020〕10号), weights 15/25/35/25.
DEFAULT_SCHEME: list[Node] = [
    _branch("1", "决策", 15,
        _branch("1.1", "立项依据", 5,
            _leaf("1.1.1", "立项符合政策", 3, M,
                  "项目符合社会救助相关政策和政府购买服务指导性目录，属于购买主体职责范围。符合得3分；"
                  "依据不充分的酌情扣分。"),
            _leaf("1.1.2", "需求调研与论证", 2, M,
                  "立项前开展救助对象需求调查，有调研记录和论证意见。资料完整得2分；有调查但不完整得1分；"
                  "未调查不得分。")),
        _branch("1.2", "绩效目标合理性", 5,
            _leaf("1.2.1", "绩效目标明确", 3, M,
                  "合同及实施方案设定了明确的绩效目标，与服务内容、资金量相匹配。明确合理得3分；"
                  "目标笼统或与内容不符的酌情扣分。"),
            _leaf("1.2.2", "绩效指标细化量化", 2, M,
                  "绩效目标细化为可衡量的数量、质量、时效指标。全部量化得2分；部分量化得1分；未量化不得分。")),
        _branch("1.3", "预算编制", 5,
            _leaf("1.3.1", "预算测算依据", 3, M,
                  "预算按服务量和服务标准测算，依据充分、标准合理。得3分；测算依据不足的酌情扣分。"),
            _leaf("1.3.2", "资金与服务量匹配", 2, M,
                  "合同金额、付款计划与服务量和服务周期相匹配。匹配得2分；明显不匹配不得分。"))),
    _branch("2", "过程", 25,
        _branch("2.1", "资金使用合规", 6,
            _leaf("2.1.1", "专款专用", 4, M,
                  "项目资金专账核算、专款专用，无截留、挤占、挪用。符合得4分；发现一项违规扣2分，扣完为止。"),
            _leaf("2.1.2", "财务核算规范", 2, M,
                  "支出凭证、票据齐全合规，与服务台账相符。规范得2分；存在缺失的酌情扣分。")),
        _branch("2.2", "台账与报告", 5,
            _leaf("2.2.1", "服务台账完整真实", 3, M,
                  "服务记录、签收单、走访照片等台账完整、真实、可追溯，与服务报告一致。完整得3分；"
                  "抽查发现不一致的每处扣1分，扣完为止。"),
            _leaf("2.2.2", "档案管理规范", 2, M,
                  "项目档案分类归档、查阅方便。规范得2分；不规范的酌情扣分。")),
        _branch("2.3", "人员资质", 4,
            _leaf("2.3.1", "人员配备与资质", 4, M,
                  "服务人员数量、专业资质（如社会工作者职业资格）符合合同约定，人员变更按约报备。"
                  "符合得4分；人员不足或未报备变更的酌情扣分。")),
        _branch("2.4", "信息安全", 4,
            _leaf("2.4.1", "个人信息保护", 4, M,
                  "救助对象个人信息按《个人信息保护法》和合同约定收集、使用和保管，有保密制度，无泄露事件。"
                  "符合得4分；发生泄露不得分。")),
        _branch("2.5", "整改落实", 6,
            _leaf("2.5.1", "整改按期完成率", 6, Rule.RECTIFICATION,
                  "按期完成整改的整改通知数 ÷ 已下达的整改通知数，按比率档次计分；未下达整改通知的得满分。"))),
    _branch("3", "产出", 35,
        _branch("3.1", "对象覆盖率", 8,
            _leaf("3.1.1", "服务对象覆盖率", 8, Rule.COVERAGE,
                  "已获得服务的救助对象数 ÷ 分配给服务机构的救助对象数，按比率档次计分。")),
        _branch("3.2", "服务量完成率", 12,
            _leaf("3.2.1", "合同服务量完成率", 12, Rule.COMPLETION,
                  "已验收服务报告中的服务量 ÷ 合同约定的服务量（按评价期间计），按比率档次计分。")),
        _branch("3.3", "服务及时率", 7,
            _leaf("3.3.1", "服务报告按期提交率", 7, Rule.TIMELINESS,
                  "评价期间内按期提交的服务报告数 ÷ 应提交的服务报告数，按比率档次计分。")),
        _branch("3.4", "服务质量抽查合格率", 8,
            _leaf("3.4.1", "服务质量抽查", 8, M,
                  "购买主体或第三方对服务现场和服务记录进行抽查，合格率100%得8分，每降低5个百分点扣1分，"
                  "扣完为止。"))),
    _branch("4", "效益", 25,
        _branch("4.1", "需求解决率", 8,
            _leaf("4.1.1", "救助需求解决情况", 8, M,
                  "服务对象在评估中提出的困难和需求得到解决或有效转介的比例。解决率90%以上得8分；"
                  "70%–90%得5分；70%以下得2分。")),
        _branch("4.2", "服务对象满意度", 10,
            _leaf("4.2.1", "回访满意率", 10, Rule.SATISFACTION,
                  "电话或入户回访中答复“满意”或“基本满意”的人数 ÷ 成功回访人数，按比率档次计分。")),
        _branch("4.3", "可持续影响", 7,
            _leaf("4.3.1", "长效机制建设", 4, M,
                  "建立了可持续的服务机制（志愿者队伍、社区资源链接、转介渠道等）。机制健全得4分；"
                  "初步建立得2分；未建立不得分。"),
            _leaf("4.3.2", "社会效益与示范作用", 3, M,
                  "项目经验被媒体报道、推广或获得表彰，社会反响良好。有突出成效得3分；有一定成效得1–2分。"))),
]
