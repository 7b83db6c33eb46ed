"""Excel import and export of service lists (openpyxl).

Reading validates every row and collects every error before anything is
imported; writing neutralizes text that a spreadsheet would run as a formula.
"""

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from procurement.i18n import gettext as _
from procurement.rules import catalog as rules
from procurement.rules.catalog import UNIT_SPELLINGS, StaffQualification, format_frequency
from procurement.rules.spreadsheet import neutralize, unneutralize

MAX_ROWS = 10_000
SHEET_NAME = "服务清单"

# (field, header, width, required).  Headers are the file format and stay Chinese in every UI language.
COLUMNS = (
    ("code", "编码", 16, True),
    ("category", "服务类别", 12, True),
    ("name", "服务名称", 22, True),
    ("content", "服务内容", 40, True),
    ("target_groups", "服务对象", 28, True),
    ("standard", "服务标准", 40, True),
    ("frequency", "服务频次", 10, True),
    ("duration_minutes", "每次时长（分钟）", 10, False),
    ("unit", "计量单位", 9, True),
    ("reference_price", "参考单价（元）", 12, True),
    ("qualifications", "人员资质要求", 22, False),
    ("indicators", "产出指标", 28, True),
)
EXPORT_EXTRA = (("active", "状态", 8), ("origin", "来源", 10))
HEADER_BY_FIELD = {f: h for f, h, _w, _r in COLUMNS}

QUALIFICATION_SPELLINGS = {
    StaffQualification.SOCIAL_WORKER: ("社工证", "社会工作者职业资格"),
    StaffQualification.CARE_WORKER: ("护理员证", "养老护理员证", "养老护理员"),
    StaffQualification.MEDICAL: ("医护资格", "医师资格", "护士资格", "医护执业资格"),
    StaffQualification.COUNSELOR: ("心理咨询资质", "心理咨询师"),
    StaffQualification.REHAB: ("康复治疗师", "康复治疗师资格"),
    StaffQualification.LEGAL: ("法律职业资格", "律师执业证"),
    StaffQualification.FOOD_HEALTH: ("健康证", "食品从业人员健康证"),
}
NO_QUALIFICATION = ("无", "无要求", "不限")


@dataclass(frozen=True)
class RowError:
    row: int  # spreadsheet row number, 1-based, header is row 1
    column: str  # header text, or "" for the whole row
    message: str


@dataclass
class ParsedRow:
    row: int
    data: dict


@dataclass
class ParseResult:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.file_error is None and not self.errors


@dataclass(frozen=True)
class Lookups:
    """Names and codes the file may use, mapped to the objects they stand for."""

    categories: Mapping[str, object]
    target_groups: Mapping[str, object]
    negative_rules: tuple = ()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(unneutralize(value) if isinstance(value, str) else value).strip()


def _decimal(value) -> Decimal:
    if isinstance(value, float):
        return Decimal(repr(value))
    text = _text(value).replace(",", "").replace("，", "").lstrip("¥￥").strip()
    return Decimal(text)


def _qualification(text: str):
    for qual, spellings in QUALIFICATION_SPELLINGS.items():
        if text in spellings or text == qual.value or text == qual.label:
            return qual
    raise ValueError(_("Unknown qualification “%(text)s”; use: %(choices)s.", text=text,
                       choices="、".join(s[0] for s in QUALIFICATION_SPELLINGS.values())))


def parse_row(raw: Mapping[str, object], lookups: Lookups) -> tuple[dict, dict[str, str]]:
    """Clean one row's values; returns (data, {field: message}) with every problem found."""
    data, errors = {}, {}

    def required(name, max_len=None):
        value = _text(raw.get(name))
        if not value:
            errors[name] = _("This column is required.")
        elif max_len and len(value) > max_len:
            errors[name] = _("At most %(n)s characters (this has %(m)s).", n=max_len, m=len(value))
        return value

    try:
        data["code"] = rules.check_item_code(_text(raw.get("code")))
    except ValueError as exc:
        errors["code"] = str(exc)
    category_text = _text(raw.get("category"))
    data["category"] = lookups.categories.get(category_text)
    if data["category"] is None:
        errors["category"] = (_("Unknown category “%(text)s”.", text=category_text) if category_text
                              else _("This column is required."))
    data["name"] = required("name", rules.NAME_MAX)
    data["content"] = required("content", rules.TEXT_MAX)
    data["standard"] = required("standard", rules.TEXT_MAX)
    groups, unknown = [], []
    for part in rules.split_list(_text(raw.get("target_groups"))):
        group = lookups.target_groups.get(part)
        (groups if group is not None else unknown).append(group if group is not None else part)
    if unknown:
        errors["target_groups"] = _("Unknown target group “%(text)s”.", text="、".join(unknown))
    elif not groups:
        errors["target_groups"] = _("Name at least one target group.")
    data["target_groups"] = list(dict.fromkeys(groups))
    try:
        data["frequency_times"], data["frequency_period"] = rules.parse_frequency(_text(raw.get("frequency")))
    except ValueError as exc:
        errors["frequency"] = str(exc)
    duration = _text(raw.get("duration_minutes"))
    data["duration_minutes"] = None
    if duration:
        if not duration.isdigit() or not 1 <= int(duration) <= rules.DURATION_MAX_MINUTES:
            errors["duration_minutes"] = _("Enter whole minutes between 1 and 1440, or leave empty.")
        else:
            data["duration_minutes"] = int(duration)
    try:
        data["unit"] = rules.parse_unit(_text(raw.get("unit")))
    except ValueError as exc:
        errors["unit"] = str(exc)
    try:
        price = _decimal(raw.get("reference_price"))
        if not price.is_finite():
            raise InvalidOperation
        if price != price.quantize(Decimal("0.01")):
            errors["reference_price"] = _("An amount has at most two decimals (fen).")
        elif not Decimal("0.01") <= price <= rules.PRICE_MAX_YUAN:
            errors["reference_price"] = _("The price must be more than 0 and at most 1,000,000.00 yuan.")
        else:
            data["reference_price"] = price.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors["reference_price"] = _("Enter an amount in yuan, e.g. 1350.00.")
    quals = []
    for part in rules.split_list(_text(raw.get("qualifications"))):
        if part in NO_QUALIFICATION:
            continue
        try:
            quals.append(_qualification(part))
        except ValueError as exc:
            errors["qualifications"] = str(exc)
    data["qualifications"] = list(dict.fromkeys(quals))
    indicators = rules.split_list(_text(raw.get("indicators")))
    if not indicators:
        errors["indicators"] = _("Name at least one output indicator.")
    elif len(indicators) > rules.INDICATORS_MAX:
        errors["indicators"] = _("At most 10 output indicators.")
    elif any(len(i) > rules.INDICATOR_MAX for i in indicators):
        errors["indicators"] = _("An indicator name has at most 32 characters.")
    data["indicators"] = indicators
    if "name" not in errors and "content" not in errors:
        hits = rules.negative_list_hits([data["name"], data["content"]], lookups.negative_rules)
        if hits:
            errors["name"] = _("“%(keyword)s” is on the negative list (%(entry)s) and may not be purchased: %(clause)s.",
                               keyword=hits[0].keyword, entry=hits[0].rule.name, clause=hits[0].rule.clause)
    return data, errors


def read_items(fileobj, lookups: Lookups) -> ParseResult:
    """Read and validate a whole workbook; nothing is imported here."""
    result = ParseResult()
    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, EOFError):
        result.file_error = _("The file is not an Excel workbook (.xlsx). Save it as .xlsx and try again.")
        return result
    try:
        sheet = workbook[SHEET_NAME] if SHEET_NAME in workbook.sheetnames else workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            result.file_error = _("The workbook is empty.")
            return result
        known = {h: f for f, h, _w, _r in COLUMNS} | {f: f for f, _h, _w, _r in COLUMNS}
        positions = {}
        for index, title in enumerate(header):
            name = known.get(_text(title))
            if name is not None and name not in positions:
                positions[name] = index
        missing = [h for f, h, _w, req in COLUMNS if req and f not in positions]
        if missing:
            result.file_error = _("The first row must hold the column titles of the template; missing: %(cols)s.",
                                  cols="、".join(missing))
            return result
        first_row_of_code: dict[str, int] = {}
        for number, values in enumerate(rows, start=2):
            if values is None or all(v is None or _text(v) == "" for v in values):
                continue
            if len(result.rows) + len({e.row for e in result.errors}) >= MAX_ROWS:
                result.file_error = _("A file may hold at most %(n)s items.", n=MAX_ROWS)
                return result
            raw = {name: values[i] if i < len(values) else None for name, i in positions.items()}
            data, errors = parse_row(raw, lookups)
            code = data.get("code")
            if code and "code" not in errors:
                first = first_row_of_code.setdefault(code.upper(), number)
                if first != number:
                    errors["code"] = _("The code %(code)s appears again (first in row %(row)s).", code=code, row=first)
            if errors:
                result.errors.extend(RowError(number, HEADER_BY_FIELD[f], m) for f, m in errors.items())
            else:
                result.rows.append(ParsedRow(number, data))
        if not result.rows and not result.errors:
            result.file_error = _("The file holds no items below the column titles.")
    finally:
        workbook.close()
    return result


def _style_header(sheet, widths):
    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="1F4E79")
    for index, width in enumerate(widths, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def item_cells(item) -> list:
    """One item as spreadsheet cells, in :data:`COLUMNS` order (the import reads them back)."""
    return [
        item.code,
        item.category.name,
        item.name,
        item.content,
        "、".join(g.name for g in item.target_groups),
        item.standard,
        format_frequency(item.frequency_times, item.frequency_period),
        item.duration_minutes,
        UNIT_SPELLINGS[item.unit][0],
        float(item.reference_price),
        "、".join(QUALIFICATION_SPELLINGS[StaffQualification(q)][0] for q in item.qualifications or []) or "无",
        "、".join(item.indicators or []),
    ]


def write_items(items, title: str, description_lines=()) -> bytes:
    """An export of the given items, re-importable as is."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAME
    sheet.append([h for _f, h, _w, _r in COLUMNS] + [h for _f, h, _w in EXPORT_EXTRA])
    _style_header(sheet, [w for _f, _h, w, _r in COLUMNS] + [w for _f, _h, w in EXPORT_EXTRA])
    price_column = [f for f, _h, _w, _r in COLUMNS].index("reference_price") + 1
    count = 0
    for item in items:
        origin = "本级新增" if item.source_item_id is None else "采用参考清单"
        sheet.append([neutralize(v) for v in item_cells(item)] + ["启用" if item.active else "停用", origin])
        sheet.cell(row=sheet.max_row, column=price_column).number_format = "#,##0.00"
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS) + len(EXPORT_EXTRA))}{max(count + 1, 1)}"
    info = workbook.create_sheet("说明")
    for line in (title, *description_lines, f"共 {count} 项"):
        info.append([neutralize(line)])
    info.column_dimensions["A"].width = 80
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_template(category_names, group_names) -> bytes:
    """The import template: titles, drop-down lists, and an instructions sheet with an example."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAME
    sheet.append([h for _f, h, _w, _r in COLUMNS])
    _style_header(sheet, [w for _f, _h, w, _r in COLUMNS])
    options = workbook.create_sheet("选项")
    options.append(["服务类别", "计量单位", "服务对象", "人员资质要求"])
    units = [s[0] for s in UNIT_SPELLINGS.values()]
    quals = [s[0] for s in QUALIFICATION_SPELLINGS.values()] + ["无"]
    for i in range(max(len(category_names), len(units), len(group_names), len(quals))):
        options.append([
            category_names[i] if i < len(category_names) else None,
            units[i] if i < len(units) else None,
            group_names[i] if i < len(group_names) else None,
            quals[i] if i < len(quals) else None,
        ])
    options.sheet_state = "hidden"
    fields = [f for f, _h, _w, _r in COLUMNS]
    for name, column, count in (("category", "A", len(category_names)), ("unit", "B", len(units))):
        letter = get_column_letter(fields.index(name) + 1)
        validation = DataValidation(type="list", formula1=f"=选项!${column}$2:${column}${count + 1}", allow_blank=False,
                                    showErrorMessage=True, errorTitle="输入有误", error="请从下拉列表中选择")
        sheet.add_data_validation(validation)
        validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
    guide = workbook.create_sheet("填写说明")
    guide.column_dimensions["A"].width = 20
    guide.column_dimensions["B"].width = 90
    notes = {
        "code": "必填。1–32位字母、数字、“-”“_”“.”，本清单内唯一，如 YN-S01-001。已有编码的事项将被更新，新编码新增。",
        "category": "必填。服务类别名称或代码，见下拉列表。",
        "name": "必填，不超过64字。不得属于负面清单（审核确认、资金发放等政府应当直接履行的职责）。",
        "content": "必填，不超过2000字。",
        "target_groups": "必填。一个或多个，用“、”分隔：" + "、".join(group_names),
        "standard": "必填，质量要求，不超过2000字。",
        "frequency": "必填。如 4次/月、1次/周、2次/季度、1次/年，或“按需”。",
        "duration_minutes": "选填。整数分钟，1–1440。",
        "unit": "必填：" + "、".join(units),
        "reference_price": "必填。单位元，大于0，最多两位小数，不超过1,000,000.00。",
        "qualifications": "选填。用“、”分隔：" + "、".join(quals),
        "indicators": "必填。1–10个，用“、”分隔，如 服务人次、服务时长、服务对象满意度。",
    }
    guide.append(["列", "填写要求"])
    for f, h, _w, _r in COLUMNS:
        guide.append([h, notes[f]])
    guide.append([])
    guide.append(["示例", "YN-S01-001 | 照料护理 | 居家上门照料服务 | … | 特困供养人员、城乡低保对象 | … | 8次/月 | 60 | 次 | 45.00 | 护理员证 | 服务人次、服务对象满意度"])
    guide.append(["说明", "文件中任何一行有误时，整个文件都不会导入；系统会列出每一行、每一列的错误。"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
