"""Cross-cutting web concerns: language, security headers, template helpers, home and health pages."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import Blueprint, current_app, has_request_context, jsonify, redirect, render_template, request, session, url_for
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

from procurement.auth.roles import Action
from procurement.rules.catalog import StaffQualification

bp = Blueprint("main", __name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    action: Action
    section: tuple[str, ...] = ()  # other endpoints (prefixes) under this entry
    more: bool = False  # reference pages used now and then: under "More", keeping the bar on one line

    def active(self, endpoint: str | None) -> bool:
        return bool(endpoint) and (endpoint == self.endpoint or endpoint.startswith(self.section or ("\0",)))


def navigation(user) -> tuple[list, list]:
    """The items ``user`` may use, on the bar and under "More"; an endpoint reached through two actions once."""
    seen, bar, more = set(), [], []
    for item in NAVIGATION:
        if item.endpoint not in seen and user.may(item.action):
            seen.add(item.endpoint)
            (more if item.more else bar).append(item)
    return bar, more


#: Navigation; each role sees only what it may use.
NAVIGATION = [
    NavItem("catalog.index", _l("Service list"), Action.CATALOG_VIEW, ("catalog.item", "catalog.list", "catalog.import", "catalog.export", "catalog.adopt", "catalog.template")),
    NavItem("projects.index", _l("Projects"), Action.PROJECT_VIEW,
            ("projects.detail", "projects.new", "projects.edit", "projects.line", "projects.target", "projects.method",
             "projects.split", "projects.announcement", "projects.notice", "projects.invitation", "projects.bid",
             "projects.evaluation", "projects.award")),
    NavItem("projects.deadlines", _l("My deadlines"), Action.DEADLINES_VIEW),
    NavItem("contracts.index", _l("Contracts"), Action.CONTRACT_VIEW, ("contracts.",)),
    NavItem("contracts.index", _l("My contracts"), Action.OWN_CONTRACTS_VIEW, ("contracts.",)),
    NavItem("evaluation.index", _l("Performance evaluation"), Action.EVALUATION_VIEW, ("evaluation.", "bulk.")),
    NavItem("evaluation.index", _l("My evaluation sheets"), Action.SHEET_SCORE, ("evaluation.",)),
    NavItem("oversight.notices", _l("Rectifications"), Action.SUPERVISION_VIEW, ("oversight.",)),
    NavItem("oversight.notices", _l("Rectifications"), Action.RECTIFICATION_ANSWER, ("oversight.",)),
    NavItem("beneficiaries.index", _l("Beneficiaries"), Action.BENEFICIARY_VIEW, ("beneficiaries.",)),
    NavItem("beneficiaries.index", _l("Assigned beneficiaries"), Action.ASSIGNED_BENEFICIARIES_VIEW, ("beneficiaries.",)),
    NavItem("payments.index", _l("Payments"), Action.PAYMENT_VIEW, ("payments.",)),
    NavItem("projects.budgets", _l("Budget lines"), Action.BUDGET_VIEW, ("projects.budget",)),
    NavItem("projects.my_purchases", _l("My purchases"), Action.OWN_BIDS_VIEW, ("projects.my_purchase",)),
    NavItem("catalog.negative_list", _l("Negative list"), Action.NEGATIVE_LIST_VIEW, more=True),
    NavItem("orgs.suppliers", _l("Suppliers"), Action.SUPPLIER_VIEW, ("orgs.supplier",)),
    NavItem("orgs.own", _l("My organization"), Action.OWN_ORG_VIEW, more=True),
    NavItem("orgs.organizations", _l("Organizations"), Action.ORG_VIEW, ("orgs.organization",), more=True),
    NavItem("orgs.regions", _l("Regions"), Action.REGION_VIEW, ("orgs.region",), more=True),
    NavItem("admin.users", _l("Users"), Action.USER_MANAGE, ("admin.user",)),
    NavItem("admin.roles", _l("Roles and accounts"), Action.ROLE_ASSIGN, ("admin.role",)),
    NavItem("admin.system_settings", _l("System settings"), Action.SETTINGS_SYSTEM),
    NavItem("projects.calendar", _l("Working-day calendar"), Action.CALENDAR_EDIT, ("projects.calendar_",)),
    NavItem("contracts.templates", _l("Contract templates"), Action.TEMPLATE_EDIT, ("contracts.template", "contracts.version_")),
    NavItem("schemes.index", _l("Evaluation schemes"), Action.SCHEME_EDIT, ("schemes.",)),
    NavItem("admin.security_settings", _l("Security policy"), Action.SETTINGS_SECURITY),
    NavItem("audit.index", _l("Audit log"), Action.AUDIT_VIEW, ("audit.",)),
]


def download(data: bytes, name: str, mimetype: str = "application/pdf"):
    """``data`` as a file download named ``name`` (a Chinese name kept intact with RFC 5987's filename*)."""
    import io
    from urllib.parse import quote

    from flask import send_file

    response = send_file(io.BytesIO(data), mimetype=mimetype or "application/octet-stream", as_attachment=True,
                         download_name=name)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def stored_download(record):
    """The stored upload of ``record`` (``sha256``, ``name``, ``media_type``) as a download; 404 when missing."""
    from flask import abort

    from procurement import files

    data = files.load(record.sha256)
    if data is None:
        abort(404)
    return download(data, record.name, record.media_type)


def select_locale():
    if not has_request_context():  # CLI and background work: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    wanted = session.get("lang")
    if wanted in current_app.config["LANGUAGES"]:
        return wanted
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def money(value) -> str:
    if value is None:
        return ""
    return f"¥{Decimal(value):,.2f}"


def date_filter(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        # Stored in UTC, shown in Beijing time (Flask-Babel's timezone).
        pattern = "yyyy年M月d日 HH:mm" if get_locale().language == "zh" else "yyyy-MM-dd HH:mm"
        return format_datetime(value, pattern)
    return format_date(value, "long")


class IdConverter(IntegerConverter):
    """``<int:…>`` in URLs, bounded to the database's integer range so a huge id is a 404, not an error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def init_app(app):
    app.register_blueprint(bp)

    @app.before_request
    def strip_nul_characters():
        # U+0000 is never meaningful input, and PostgreSQL refuses it in text: drop it before anyone reads it.
        for name in ("args", "form"):
            values = getattr(request, name)
            if any("\x00" in value for _key, value in values.items(multi=True)):
                setattr(request, name, ImmutableMultiDict(
                    [(key, value.replace("\x00", "")) for key, value in values.items(multi=True)]))

    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["date"] = date_filter
    app.jinja_env.globals["NAVIGATION"] = NAVIGATION
    app.jinja_env.globals["navigation"] = navigation
    app.jinja_env.globals["Action"] = Action
    app.jinja_env.globals["q_label"] = lambda code: StaffQualification(code).label
    app.jinja_env.add_extension("jinja2.ext.do")

    @app.context_processor
    def inject():
        return {"current_locale": "zh_CN" if get_locale().language == "zh" else "en", "languages": app.config["LANGUAGES"],
                "demo_mode": app.config["DEMO_MODE"]}

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["PRODUCTION"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if current_user and current_user.is_authenticated and request.endpoint != "static":
            # Pages of logged-in users may hold personal data: never cache them.
            headers["Cache-Control"] = "no-store"
        return response


@bp.route("/")
@login_required
def home():
    from procurement.dashboard import home_context

    return render_template("home.html", **home_context(current_user))


@bp.route("/healthz")
def healthz():
    from procurement.health import run_checks

    result = run_checks()
    return jsonify(result), 200 if result["status"] == "ok" else 503


@bp.route("/language/<code>", methods=["POST"])
def set_language(code):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("main.home"))


def is_safe_next(target: str | None) -> bool:
    return bool(target) and target.startswith("/") and not target.startswith("//") and "\\" not in target


def today_beijing() -> date:
    from procurement.rules.clock import beijing_today

    return beijing_today()
