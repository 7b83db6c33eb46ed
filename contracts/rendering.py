"""Template bodies (stored in the database, edited by administrators) rendered in Jinja's sandbox.

A body sees only a context of plain values — strings, numbers, lists and dicts of them — never a
database object, so a template cannot reach the application. Two modes:

- ``preview``: an undefined placeholder (declared but without a value) or an unknown one (not in the
  schema) renders as a red mark with its name, so the author or the officer sees what is missing;
- ``strict``: anything undefined is an error (used when a document is issued).
"""

import enum
from dataclasses import dataclass, field
from functools import lru_cache

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, meta
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from procurement.i18n import gettext as _


class FieldType(enum.StrEnum):
    TEXT = "text"  # one line
    PARAGRAPH = "paragraph"  # several lines; rendered with the |paragraphs filter
    DATE = "date"  # formatted already, e.g. 2026年1月1日
    MONEY = "money"  # formatted already, e.g. 2,160,000.00
    NUMBER = "number"
    LIST = "list"  # rows, each a dict with the declared ``fields``


@dataclass(frozen=True)
class Placeholder:
    name: str
    type: FieldType
    required: bool
    description: str
    sample: object = None
    fields: tuple["Placeholder", ...] = ()

    @classmethod
    def from_dict(cls, data: dict) -> "Placeholder":
        return cls(name=data["name"], type=FieldType(data["type"]), required=bool(data.get("required", False)),
                   description=data.get("description", ""), sample=data.get("sample"),
                   fields=tuple(cls.from_dict(f) for f in data.get("fields", ())))

    def to_dict(self) -> dict:
        data = {"name": self.name, "type": self.type.value, "required": self.required, "description": self.description}
        if self.sample is not None:
            data["sample"] = self.sample
        if self.fields:
            data["fields"] = [f.to_dict() for f in self.fields]
        return data


def parse_schema(raw: list) -> list[Placeholder]:
    """A schema as stored (JSON); raises ``ValueError`` with a readable message on a malformed one."""
    if not isinstance(raw, list):
        raise ValueError(_("The placeholder schema is a list of placeholders."))
    placeholders, seen = [], set()
    for number, entry in enumerate(raw, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].isidentifier():
            raise ValueError(_("Placeholder %(n)s needs a name made of letters, digits and underscores.", n=number))
        if entry["name"] in seen:
            raise ValueError(_("Placeholder %(name)s is declared twice.", name=entry["name"]))
        seen.add(entry["name"])
        try:
            placeholder = Placeholder.from_dict(entry)
        except (ValueError, TypeError, KeyError):
            raise ValueError(_("Placeholder %(name)s needs a type: text, paragraph, date, money, number or list.",
                               name=entry["name"])) from None
        if placeholder.type == FieldType.LIST and not placeholder.fields:
            raise ValueError(_("The list placeholder %(name)s declares the fields of its rows.", name=entry["name"]))
        placeholders.append(placeholder)
    return placeholders


def sample_context(schema: list[Placeholder]) -> dict:
    """The samples declared in the schema: what a template preview is rendered with."""
    return {p.name: p.sample for p in schema if p.sample is not None}


# --- the sandbox --------------------------------------------------------------------------------

MISSING_CLASS = "placeholder-missing"


class MarkedUndefined(Undefined):
    """Renders as a red mark naming the placeholder; iterates as empty; attributes stay marked."""

    __slots__ = ()

    def _name(self) -> str:
        return self._undefined_name or "?"

    def __str__(self) -> str:
        return Markup('<span class="{0}" title="{1}">{{{{ {1} }}}}</span>').format(MISSING_CLASS, self._name())

    def __html__(self) -> str:
        return str(self)

    def __getattr__(self, name):
        if name[:2] == "__":
            raise AttributeError(name)
        return MarkedUndefined(name=f"{self._name()}.{name}")

    def __getitem__(self, key):
        return MarkedUndefined(name=f"{self._name()}.{key}")


def _paragraphs(value) -> Markup:
    """Several lines of plain text as ``<p>`` elements, escaped."""
    if isinstance(value, Undefined):
        return Markup(str(value))
    text = str(value or "")
    return Markup("").join(Markup("<p>{}</p>").format(line.strip()) for line in text.splitlines() if line.strip())


#: Results larger than this (characters of a repeated string, digits of a power) are refused: a template is
#: data an administrator types, and must not be able to stall a worker.
MAX_RESULT = 100_000


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox, with ``*`` and ``**`` refused when their result would be huge."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > 64 or isinstance(left, int | float) and abs(left) > 10**6:
                raise SecurityError("power too large")
        elif operator == "*":
            sizes = [len(v) for v in (left, right) if isinstance(v, str | list | tuple)]
            counts = [v for v in (left, right) if isinstance(v, int) and not isinstance(v, bool)]
            if sizes and counts and sizes[0] * abs(counts[0]) > MAX_RESULT:
                raise SecurityError("repetition too large")
        return super().call_binop(context, operator, left, right)


def _make_env(undefined) -> SandboxedEnvironment:
    env = BoundedSandbox(autoescape=True, undefined=undefined, trim_blocks=True, lstrip_blocks=True,
                               finalize=lambda value: "" if value is None else value)
    env.filters["paragraphs"] = _paragraphs
    env.globals.clear()  # no range(), dict(), lipsum(), cycler()…: a template has its context and nothing else
    return env


PREVIEW_ENV = _make_env(MarkedUndefined)
STRICT_ENV = _make_env(StrictUndefined)


@dataclass
class TemplateReport:
    """What is wrong with a template body against its schema."""

    syntax_error: str | None = None
    unknown: list[str] = field(default_factory=list)  # used in the body, not declared
    unused_required: list[str] = field(default_factory=list)  # declared required, never used

    @property
    def ok(self) -> bool:
        return self.syntax_error is None and not self.unknown


@lru_cache(maxsize=64)
def _parse(body: str):
    return PREVIEW_ENV.parse(body)


def inspect_body(body: str, schema: list[Placeholder]) -> TemplateReport:
    try:
        ast = _parse(body)
        used = meta.find_undeclared_variables(ast) - {"loop"}
    except TemplateSyntaxError as exc:
        return TemplateReport(syntax_error=_("Line %(line)s: %(message)s", line=exc.lineno, message=exc.message))
    except RecursionError:  # thousands of nested brackets or blocks: the parser's recursion, not a 500
        return TemplateReport(syntax_error=_("The template is nested too deeply to be read."))
    declared = {p.name for p in schema}
    return TemplateReport(unknown=sorted(used - declared),
                          unused_required=sorted(p.name for p in schema if p.required and p.name not in used))


class RenderError(Exception):
    """The body could not be rendered: a syntax error, an unsafe operation, or (strict) an undefined value."""


@lru_cache(maxsize=32)
def _compile(body: str, strict: bool):
    return (STRICT_ENV if strict else PREVIEW_ENV).from_string(body)


def render_body(body: str, context: dict, schema: list[Placeholder] | None = None, strict: bool = False) -> str:
    """The body rendered with ``context``. With a schema, names outside it are left undefined (so marked).

    Raises:
        RenderError: with a message for the template's author.
    """
    if schema is not None:
        # optional placeholders without a value are empty; required ones stay undefined (marked, or an error)
        declared = {p.name for p in schema}
        context = {**{p.name: None for p in schema if not p.required},
                   **{k: v for k, v in context.items() if k in declared}}
    try:
        return _compile(body, strict).render(context)
    except TemplateSyntaxError as exc:
        raise RenderError(_("Line %(line)s: %(message)s", line=exc.lineno, message=exc.message)) from None
    except UndefinedError as exc:
        raise RenderError(_("A placeholder has no value: %(message)s", message=exc.message)) from None
    except SecurityError as exc:
        raise RenderError(_("The template tried something not allowed: %(message)s", message=str(exc))) from None
    except TemplateError as exc:
        raise RenderError(str(exc)) from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise RenderError(_("The template failed: %(message)s", message=str(exc))) from None
    except RecursionError:  # a macro that calls itself, or nesting too deep to compile
        raise RenderError(_("The template is nested too deeply, or a macro calls itself without end.")) from None


def missing_values(schema: list[Placeholder], context: dict) -> list[Placeholder]:
    """Required placeholders without a value (``None``, empty text or an empty list), including in list rows."""
    missing = []
    for p in schema:
        value = context.get(p.name)
        if p.required and (value is None or value == "" or value == []):
            missing.append(p)
        elif p.type == FieldType.LIST and isinstance(value, list):
            for row in value:
                for f in p.fields:
                    if f.required and (not isinstance(row, dict) or row.get(f.name) in (None, "")):
                        missing.append(Placeholder(f"{p.name}.{f.name}", f.type, True, f.description))
                        break
    return missing


def page_html(body_html: str, title: str, stylesheet: str | None = None, lang: str = "zh-CN") -> str:
    """A complete HTML document around a rendered body.

    The PDF passes its stylesheet separately (parsed once and cached); the browser preview and the
    Chromium comparison inline it.
    """
    style = f"<style>{stylesheet}</style>" if stylesheet else ""
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"{style}</head><body>{body_html}</body></html>")
