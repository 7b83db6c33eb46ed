"""The audit log for the audit administrator: browse, inspect, export, verify.

Nothing here changes or removes a record: the only write is appending the audit
records of exports and verifications themselves.
"""

import json
from datetime import UTC

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from procurement.audit import export, queries
from procurement.audit.forms import AuditFilterForm
from procurement.audit.labels import AREA_LABELS, OUTCOME_LABELS, action_label, outcome_badge, outcome_label
from procurement.audit.models import AuditRecord
from procurement.audit.verification import latest_verifications, runs_from_detail, verify_and_record
from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.extensions import db
from procurement.forms import choices
from procurement.rules.clock import BEIJING, utcnow
from procurement.rules.hashchain import GENESIS_HASH, record_hash

bp = Blueprint("audit", __name__, url_prefix="/audit")

#: Pages beyond this are refused before any query (an absurd offset is a slow scan, or an overflow).
MAX_PAGE = 100_000
SHORT_DETAIL = 80


def _action_choices(actions: list[str]) -> list[tuple[str, str]]:
    """All actions; then per area "all of the area" (a prefix ending in ".") followed by its actions."""
    pairs = [("", _("All actions"))]
    areas: dict[str, list[str]] = {}
    for action in actions:
        area, dot, _rest = action.partition(".")
        areas.setdefault(area + dot, []).append(action)
    for prefix, members in sorted(areas.items()):
        if prefix.endswith("."):
            area_name = AREA_LABELS.get(prefix[:-1], prefix[:-1])
            pairs.append((prefix, _("%(area)s: all actions (%(prefix)s*)", area=area_name, prefix=prefix)))
        for action in members:
            label = action_label(action)
            pairs.append((action, f"{label} ({action})" if label else action))
    return pairs


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    form.action.choices = choices(_action_choices(queries.known_actions()))
    form.outcome.choices = choices([("", _("All outcomes"))] + [(k, str(v)) for k, v in OUTCOME_LABELS.items()])
    return form


def _filter_args() -> dict:
    return {k: v for k, v in request.args.items() if k != "page"}


def short_detail(detail) -> str:
    if not detail:
        return ""
    text = ", ".join(f"{k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
                     for k, v in sorted(detail.items()))
    return text if len(text) <= SHORT_DETAIL else text[: SHORT_DETAIL - 1] + "…"


def _page_number() -> tuple[int, str | None]:
    raw = request.args.get("page", "").strip()
    if not raw:
        return 1, None
    try:
        number = int(raw)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_PAGE:
        return 1, _("There is no page %(page)s; the first page is shown.", page=raw[:40])
    return number, None


@bp.context_processor
def _helpers() -> dict:
    return {"action_label": action_label, "outcome_label": outcome_label, "outcome_badge": outcome_badge,
            "short_detail": short_detail}


@bp.route("/")
@require(Action.AUDIT_VIEW)
def index():
    form = _filter_form()
    page_number, page_error = _page_number()
    page, names = None, {}
    valid = form.validate()
    if valid:
        query = queries.record_query(form.to_filter())
        per_page = current_app.config["PAGE_SIZE"]
        page = db.paginate(query, page=page_number, per_page=per_page, error_out=False, count=True)
        if page_number > 1 and page_number > page.pages:
            page_error = _("There is no page %(page)s; the last page is shown.", page=page_number)
            page = db.paginate(query, page=max(page.pages, 1), per_page=per_page, error_out=False, count=True)
        names = queries.display_names(r.user_id for r in page.items)
    return render_template(
        "audit/index.html", form=form, page=page, names=names, page_error=page_error,
        export_args=_filter_args(),
    ), 200 if valid else 400


def _get_record(record_id: int) -> AuditRecord:
    # An id beyond the column's range is simply not there (SQLite would overflow on it).
    if not 0 < record_id < 2**31:
        abort(404)
    return db.get_or_404(AuditRecord, record_id)


@bp.route("/<int:record_id>")
@require(Action.AUDIT_VIEW)
def detail(record_id):
    record = _get_record(record_id)
    neighbours = {
        r.seq: r for r in db.session.execute(
            db.select(AuditRecord).where(AuditRecord.seq.in_((record.seq - 1, record.seq + 1)))
        ).scalars()
    }
    previous, following = neighbours.get(record.seq - 1), neighbours.get(record.seq + 1)
    expected_prev = GENESIS_HASH if record.seq == 1 else (previous.hash if previous is not None else None)
    names = queries.display_names([record.user_id])
    return render_template(
        "audit/detail.html", record=record, previous=previous, following=following,
        display_name=names.get(record.user_id),
        hash_ok=record_hash(record.prev_hash, record.chain_fields()) == record.hash,
        link_ok=None if expected_prev is None else expected_prev == record.prev_hash,
        utc_iso=record.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        beijing=record.at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        detail_json=json.dumps(record.detail or {}, ensure_ascii=False, indent=2, sort_keys=True),
    )


def _export(fmt: str):
    form = _filter_form()
    if not form.validate():
        flash(_("Correct the filter before exporting."), "danger")
        return redirect(url_for("audit.index", **_filter_args()))
    flt = form.to_filter()
    # Records appended while the file is written (including this export's own record) stay out of it.
    up_to_seq = queries.last_seq()
    rows = queries.count_records(flt, up_to_seq)
    limit = current_app.config.get("AUDIT_EXPORT_MAX_ROWS", export.MAX_ROWS)
    actor = current_actor()
    if rows > limit:
        export.record_export(actor, flt, fmt, rows, up_to_seq, refused=True)
        db.session.commit()
        flash(_("The export would hold %(rows)s records; at most %(limit)s can be exported at once. "
                "Narrow the date range or the other filters and export in parts.", rows=rows, limit=limit), "danger")
        return redirect(url_for("audit.index", **_filter_args()))
    stamp = utcnow().astimezone(BEIJING).strftime("%Y%m%d-%H%M%S")
    if fmt == "csv":
        export.record_export(actor, flt, fmt, rows, up_to_seq)
        db.session.commit()
        response = Response(stream_with_context(export.stream_csv(queries.iter_rows(flt, up_to_seq))),
                            mimetype=export.CSV_MIMETYPE)
        response.headers["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
        return response
    filters = flt.as_detail()
    info = [
        _("Audit log export"),
        _("Exported %(time)s (Beijing time) by %(user)s", time=stamp, user=actor.username),
        _("Filters: %(filters)s", filters=json.dumps(filters, ensure_ascii=False) if filters else _("none")),
        _("%(rows)s records, up to seq %(seq)s", rows=rows, seq=up_to_seq),
    ]
    output = export.write_xlsx(queries.iter_rows(flt, up_to_seq), info)
    export.record_export(actor, flt, fmt, rows, up_to_seq)
    db.session.commit()
    response = Response(export.file_chunks(output), mimetype=export.XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.xlsx"'
    return response


@bp.route("/export.csv")
@require(Action.AUDIT_EXPORT)
def export_csv():
    return _export("csv")


@bp.route("/export.xlsx")
@require(Action.AUDIT_EXPORT)
def export_xlsx():
    return _export("xlsx")


@bp.route("/verify", methods=["GET", "POST"])
@require(Action.AUDIT_VIEW)
def verify():
    """GET: the latest (or a chosen) verification; POST: verify the chain now and record the outcome."""
    if request.method == "POST":
        record = verify_and_record(current_actor())
        db.session.commit()
        return redirect(url_for("audit.verify", record=record.id))
    record_id = request.args.get("record", type=int)
    history = latest_verifications()
    if record_id is not None:
        record = _get_record(record_id)
        if record.action != "audit.verify":
            abort(404)
    else:
        record = history[0] if history else None
    return render_template("audit/verify.html", record=record, runs=runs_from_detail(record.detail) if record else [],
                           history=history)
