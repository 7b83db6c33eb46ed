"""Template bodies in Jinja's sandbox: schemas, placeholder checks, preview marks, strict mode, and the shipped templates."""

import json
from pathlib import Path

import pytest

from contracts.rendering import (
    MISSING_CLASS,
    PREVIEW_ENV,
    STRICT_ENV,
    FieldType,
    Placeholder,
    RenderError,
    inspect_body,
    missing_values,
    page_html,
    parse_schema,
    render_body,
    sample_context,
)

SHIPPED = Path(__file__).resolve().parents[2] / "contracts" / "default_templates"
SHIPPED_STEMS = sorted(p.name.removesuffix(".schema.json") for p in SHIPPED.glob("*.schema.json"))

SCHEMA = parse_schema([
    {"name": "supplier_name", "type": "text", "required": True, "description": "乙方名称", "sample": "阳光社工中心"},
    {"name": "special_terms", "type": "paragraph", "required": False, "description": "其他约定"},
    {"name": "items", "type": "list", "required": True, "description": "服务清单",
     "fields": [{"name": "name", "type": "text", "required": True, "description": "服务项目"}]},
])


def shipped(stem: str) -> tuple[str, list[Placeholder]]:
    body = (SHIPPED / f"{stem}.html").read_text(encoding="utf-8")
    schema = parse_schema(json.loads((SHIPPED / f"{stem}.schema.json").read_text(encoding="utf-8")))
    return body, schema


# --- schemas ----------------------------------------------------------------------------------------

def test_a_schema_round_trips_through_its_stored_form():
    assert parse_schema([p.to_dict() for p in SCHEMA]) == SCHEMA
    assert SCHEMA[2].type == FieldType.LIST and SCHEMA[2].fields[0].name == "name"


@pytest.mark.parametrize("raw", [
    {"name": "x", "type": "text"},  # not a list
    [{"name": "amount", "type": "money"}, {"name": "amount", "type": "text"}],  # declared twice
    [{"name": "has space", "type": "text"}],
    [{"name": "1st", "type": "text"}],
    [{"name": "{{x}}", "type": "text"}],
    [{"type": "text"}],
    ["amount"],
    [{"name": "amount", "type": "currency"}],  # unknown type
    [{"name": "amount"}],  # no type
    [{"name": "items", "type": "list"}],  # a list without the fields of its rows
    [{"name": "items", "type": "list", "fields": []}],
])
def test_malformed_schemas_are_refused_with_a_message(raw):
    with pytest.raises(ValueError) as refused:
        parse_schema(raw)
    assert str(refused.value)


def test_samples_make_the_preview_context():
    assert sample_context(SCHEMA) == {"supplier_name": "阳光社工中心"}


# --- inspecting a body --------------------------------------------------------------------------------

def test_inspect_finds_unknown_placeholders_and_unused_required_ones():
    report = inspect_body("<p>{{ supplier_name }} {{ suplier_name }}</p>{{ special_terms }}{{ bank.name }}", SCHEMA)
    assert report.unknown == ["bank", "suplier_name"]
    assert report.unused_required == ["items"]
    assert report.syntax_error is None and not report.ok


def test_inspect_counts_loop_variables_and_loop_as_used_not_unknown():
    body = "{% for item in items %}{{ loop.index }} {{ item.name }}{% endfor %}{{ supplier_name }}"
    report = inspect_body(body, SCHEMA)
    assert (report.unknown, report.unused_required, report.ok) == ([], [], True)


@pytest.mark.parametrize("body", ["{% for item in items %}{{ item.name }}", "{{ supplier_name", "{% if %}x{% endif %}",
                                  "{{ supplier_name }}\n{% endfor %}"])
def test_inspect_reports_a_syntax_error_with_its_line(body):
    report = inspect_body(body, SCHEMA)
    assert report.syntax_error and not report.ok
    with pytest.raises(RenderError):
        render_body(body, {}, SCHEMA)


# --- preview and strict ----------------------------------------------------------------------------------

def test_preview_marks_undefined_and_unknown_placeholders_with_their_names():
    html = render_body("<p>{{ supplier_name }}</p><p>{{ mystery }}</p><p>{{ items[0].name }}</p>", {}, SCHEMA)
    assert html.count(MISSING_CLASS) == 3
    assert 'title="supplier_name"' in html and 'title="mystery"' in html and 'title="items.0.name"' in html


def test_preview_marks_an_unknown_placeholder_even_when_the_context_has_it():
    html = render_body("{{ supplier_name }}|{{ secret }}", {"supplier_name": "甲", "secret": "不应出现"}, SCHEMA)
    assert html.startswith("甲|") and "不应出现" not in html and 'title="secret"' in html


def test_preview_iterates_an_undefined_list_as_empty():
    html = render_body("<ul>{% for item in items %}<li>{{ item.name }}</li>{% endfor %}</ul>", {}, SCHEMA)
    assert html == "<ul></ul>"


def test_strict_mode_refuses_an_undefined_placeholder():
    with pytest.raises(RenderError) as refused:
        render_body("<p>{{ supplier_name }}</p>", {}, SCHEMA, strict=True)
    assert "supplier_name" in str(refused.value)
    with pytest.raises(RenderError):
        render_body("{{ mystery }}", {"mystery": "x"}, SCHEMA, strict=True)  # not in the schema: undefined


def test_optional_placeholders_without_a_value_render_empty_not_none():
    body = "[{{ special_terms }}][{{ special_terms | paragraphs }}]{% if special_terms %}第十三条{% endif %}"
    for strict in (False, True):
        assert render_body(body, {}, SCHEMA, strict=strict) == "[][]"
        assert render_body(body, {"special_terms": None}, SCHEMA, strict=strict) == "[][]"
    assert render_body("[{{ value }}]", {"value": None}) == "[]"  # without a schema too


def test_values_are_escaped():
    html = render_body("<p>{{ supplier_name }}</p>", {"supplier_name": '<script>alert("x")</script>&'}, SCHEMA,
                       strict=True)
    assert "<script>" not in html
    assert html == "<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;</p>"


def test_paragraphs_become_escaped_p_elements():
    html = render_body("{{ special_terms | paragraphs }}", {"special_terms": "第一段<b>粗</b>\n\n  第二段  \n"}, SCHEMA)
    assert html == "<p>第一段&lt;b&gt;粗&lt;/b&gt;</p><p>第二段</p>"


# --- the sandbox -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("body", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ supplier_name.__class__.__mro__[1].__subclasses__() }}",
    "{{ items.__class__.__base__.__subclasses__() }}",
    "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{{ c }}{% endfor %}",
])
def test_the_sandbox_refuses_reaching_python_internals(body, strict):
    context = {"supplier_name": "甲", "items": [{"name": "x"}]}
    with pytest.raises(RenderError) as refused:
        render_body(body, context, SCHEMA, strict=strict)
    assert "<class" not in str(refused.value) and "subprocess" not in str(refused.value)


@pytest.mark.parametrize("strict", [False, True])
def test_internals_never_render(strict):
    for body in ("{{ supplier_name.__class__ }}", "{{ '{0.__class__}'.format(supplier_name) }}"):
        try:
            html = render_body(body, {"supplier_name": "甲"}, SCHEMA, strict=strict)
        except RenderError:
            continue
        assert "<class" not in html and "&lt;class" not in html


@pytest.mark.parametrize("name", ["range", "lipsum", "cycler", "joiner", "namespace", "dict"])
def test_a_template_has_no_globals(name):
    assert PREVIEW_ENV.globals == {} and STRICT_ENV.globals == {}
    with pytest.raises(RenderError):
        render_body(f"{{{{ {name}() }}}}", {}, SCHEMA)
    with pytest.raises(RenderError):
        render_body(f"{{{{ {name} }}}}", {}, SCHEMA, strict=True)
    assert MISSING_CLASS in render_body(f"{{{{ {name} }}}}", {}, SCHEMA)  # the preview marks it as unknown


def test_range_cannot_make_a_loop():
    with pytest.raises(RenderError):
        render_body("{% for i in range(1000000) %}x{% endfor %}", {}, SCHEMA)


# --- values the schema asks for --------------------------------------------------------------------------

def test_missing_values_lists_required_placeholders_and_row_fields_without_a_value():
    assert [p.name for p in missing_values(SCHEMA, {})] == ["supplier_name", "items"]
    assert [p.name for p in missing_values(SCHEMA, {"supplier_name": "", "items": []})] == ["supplier_name", "items"]
    context = {"supplier_name": "甲", "items": [{"name": "居家照料"}, {"name": ""}]}
    assert [p.name for p in missing_values(SCHEMA, context)] == ["items.name"]
    assert missing_values(SCHEMA, {"supplier_name": "甲", "items": [{"name": "居家照料"}]}) == []


def test_page_html_is_a_chinese_document_with_an_escaped_title():
    html = page_html("<p>正文</p>", "合同<一>", "p { color: red }")
    assert html.startswith('<!doctype html><html lang="zh-CN">')
    assert "<title>合同&lt;一&gt;</title>" in html and "<style>p { color: red }</style>" in html
    assert "<style>" not in page_html("<p>正文</p>", "合同")


# --- every shipped template against its schema -------------------------------------------------------------

def test_the_shipped_templates_are_found():
    assert SHIPPED_STEMS == ["service_contract", "supplementary_contract"]


@pytest.mark.parametrize("stem", SHIPPED_STEMS)
def test_every_shipped_template_matches_its_schema(stem):
    body, schema = shipped(stem)
    report = inspect_body(body, schema)
    assert report.syntax_error is None
    assert report.unknown == [], f"{stem}.html uses placeholders its schema does not declare"
    assert report.unused_required == [], f"{stem}.schema.json requires placeholders the body never shows"
    assert [p.name for p in schema if p.required and p.sample is None] == []  # publishing asks for them
    assert missing_values(schema, sample_context(schema)) == []


@pytest.mark.parametrize("stem", SHIPPED_STEMS)
def test_every_shipped_template_renders_strictly_with_its_samples(stem):
    body, schema = shipped(stem)
    samples = sample_context(schema)
    html = render_body(body, samples, schema, strict=True)
    assert MISSING_CLASS not in html and "None" not in html
    for p in schema:  # every required value shows in the document
        if p.required and p.type != FieldType.LIST:
            assert str(p.sample) in html, p.name


@pytest.mark.parametrize("stem", SHIPPED_STEMS)
def test_every_shipped_template_renders_strictly_without_its_optional_values(stem):
    body, schema = shipped(stem)
    required = {p.name: p.sample for p in schema if p.required}
    html = render_body(body, required, schema, strict=True)
    assert MISSING_CLASS not in html and "None" not in html
    for p in schema:
        if not p.required and isinstance(p.sample, str) and len(p.sample) > 6:
            assert p.sample not in html, p.name


@pytest.mark.parametrize("stem", SHIPPED_STEMS)
def test_every_shipped_template_refuses_strictly_when_a_required_value_is_missing(stem):
    body, schema = shipped(stem)
    samples = sample_context(schema)
    for p in schema:
        if p.required:
            with pytest.raises(RenderError):
                render_body(body, {k: v for k, v in samples.items() if k != p.name}, schema, strict=True)
            preview = render_body(body, {k: v for k, v in samples.items() if k != p.name}, schema)
            assert f'title="{p.name}' in preview or p.type == FieldType.LIST, p.name
