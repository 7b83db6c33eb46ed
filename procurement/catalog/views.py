"""Service-list pages: browse, search, edit, adopt, import and export."""


import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from procurement.auth.permissions import current_actor, require
from procurement.auth.roles import Action
from procurement.catalog import excel, services
from procurement.catalog.forms import AdoptForm, FilterForm, ImportForm, ItemForm, NewListForm
from procurement.catalog.models import CatalogItem, ListKind, NegativeListEntry, ServiceList
from procurement.errors import ConflictError, DomainError
from procurement.extensions import db
from procurement.forms import choices, show_domain_error
from procurement.orgs.models import Region, RegionLevel
from procurement.rules.catalog import StaffQualification, Unit, parse_frequency
from procurement.rules.clock import beijing_today

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _int_arg(name):
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value < 2**31 else None


def _resolve_list(user) -> ServiceList | None:
    """The list chosen by ?scope=ref|<county code>&year=&version= (or the user's default)."""
    year = _int_arg("year")
    scope = request.args.get("scope", "")
    if not scope and year is None:
        return services.default_list_for(user, beijing_today().year)
    year = year or beijing_today().year
    if scope and scope != "ref":
        region = db.session.execute(select(Region).where(Region.code == scope)).scalar_one_or_none()
        return services.local_list(region, year) if region is not None else None
    version = _int_arg("version")
    versions = services.reference_lists(year)
    if version is not None:
        return next((v for v in versions if v.version_no == version), None)
    return services.current_reference_list(year) or next(iter(versions), None)


def _scope_choices(user, lists):
    choices = [("ref", _("Provincial reference list"))]
    counties = {lst.region for lst in lists if lst.kind == ListKind.LOCAL}
    own = user.organization.region
    if own.level == RegionLevel.COUNTY:
        counties.add(own)
    choices += [(r.code, r.name) for r in sorted(counties, key=lambda r: r.code)]
    return choices


@bp.route("/")
@require(Action.CATALOG_VIEW)
def index():
    lists = services.visible_lists(current_user)
    service_list = _resolve_list(current_user)
    form = FilterForm(request.args)
    form.category.choices = choices([("", _("All categories"))] + [(str(c.id), c.name) for c in services.categories()])
    form.group.choices = choices([("", _("All target groups"))] + [(str(g.id), g.name) for g in services.target_groups()])
    years = sorted({lst.year for lst in lists} | {beijing_today().year}, reverse=True)
    form.year.choices = choices((str(y), str(y)) for y in years)
    form.scope.choices = choices(_scope_choices(current_user, lists))
    if service_list is not None:
        form.year.data = str(service_list.year)
        form.scope.data = "ref" if service_list.kind == ListKind.REFERENCE else service_list.region.code
    flt = services.ItemFilter(
        q=(request.args.get("q") or "").strip()[:64],
        category_id=_int_arg("category"),
        target_group_id=_int_arg("group"),
        include_inactive=request.args.get("inactive") == "1",
        sort=request.args.get("sort") if request.args.get("sort") in services.SORTS else "code",
    )
    page = None
    if service_list is not None:
        page = db.paginate(services.item_query(service_list, flt), page=_int_arg("page") or 1,
                           per_page=current_app.config["PAGE_SIZE"], error_out=False, count=True)
    wanted_year = _int_arg("year") or beijing_today().year
    own = current_user.organization.region
    can_create_local = (current_user.may(Action.CATALOG_EDIT) and own.level == RegionLevel.COUNTY
                        and services.local_list(own, wanted_year) is None)
    versions = services.reference_lists(service_list.year) if service_list is not None and service_list.kind == ListKind.REFERENCE else []
    return render_template(
        "catalog/index.html", service_list=service_list, page=page, form=form, flt=flt, versions=versions,
        can_edit=service_list is not None and services.can_edit_list(current_user, service_list),
        can_manage_reference=services.can_manage_reference(current_user),
        can_create_local=can_create_local, wanted_year=wanted_year,
        new_list_form=NewListForm(year=wanted_year), export_args=request.args.to_dict(),
    )


@bp.route("/lists")
@require(Action.CATALOG_VIEW)
def lists():
    return render_template("catalog/lists.html", lists=services.visible_lists(current_user),
                           can_manage_reference=services.can_manage_reference(current_user),
                           year=beijing_today().year)


@bp.route("/lists", methods=["POST"])
@require(Action.CATALOG_EDIT)
def list_create():
    form = NewListForm()
    if not form.validate_on_submit():
        for error in form.year.errors:
            flash(error, "danger")
        return redirect(url_for("catalog.index"))
    try:
        service_list = services.create_local_list(current_user.organization.region, form.year.data, current_actor())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("catalog.index"))
    db.session.commit()
    flash(_("The %(year)s service list has been created. Adopt items from the reference list or add local ones.",
            year=service_list.year), "success")
    return redirect(url_for("catalog.adopt", list_id=service_list.id))


@bp.route("/lists/reference", methods=["POST"])
@require(Action.CATALOG_EDIT)
def list_version():
    """A new draft reference version: a copy of a given version, or empty for a new year."""
    based_on = db.session.get(ServiceList, request.form.get("based_on", type=int) or 0)
    year = based_on.year if based_on is not None else request.form.get("year", type=int)
    if year is None or not 2000 <= year <= 2100:
        flash(_("Enter a year between 2000 and 2100."), "danger")
        return redirect(url_for("catalog.lists"))
    if based_on is not None and based_on.kind != ListKind.REFERENCE:
        abort(404)
    try:
        draft = services.create_reference_version(year, current_actor(), based_on=based_on)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("catalog.lists"))
    db.session.commit()
    flash(_("Draft version %(v)s of the %(year)s reference list has been created.", v=draft.version_no, year=year), "success")
    return redirect(url_for("catalog.index", scope="ref", year=year, version=draft.version_no))


@bp.route("/lists/<int:list_id>/publish", methods=["POST"])
@require(Action.CATALOG_EDIT)
def list_publish(list_id):
    service_list = db.get_or_404(ServiceList, list_id)
    try:
        services.publish_list(service_list, current_actor())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("Version %(v)s has been published and is now read-only.", v=service_list.version_no), "success")
    return redirect(url_for("catalog.index", scope="ref", year=service_list.year, version=service_list.version_no))


def _list_url(service_list: ServiceList) -> str:
    if service_list.kind == ListKind.REFERENCE:
        return url_for("catalog.index", scope="ref", year=service_list.year, version=service_list.version_no)
    return url_for("catalog.index", scope=service_list.region.code, year=service_list.year)


@bp.route("/items/<int:item_id>")
@require(Action.CATALOG_VIEW)
def item_detail(item_id):
    item = db.get_or_404(CatalogItem, item_id)
    return render_template("catalog/item_detail.html", item=item, list_url=_list_url(item.service_list),
                           can_edit=services.can_edit_list(current_user, item.service_list))


def _item_form(item=None, **kwargs) -> ItemForm:
    form = ItemForm(categories=services.categories(), target_groups=services.target_groups(), **kwargs)
    if item is not None and not form.is_submitted():
        form.version.data = str(item.version)
        form.code.data = item.code
        form.category.data = item.category_id
        form.name.data = item.name
        form.content.data = item.content
        form.target_groups.data = [g.id for g in item.target_groups]
        form.standard.data = item.standard
        form.frequency.data = item.frequency
        form.duration_minutes.data = item.duration_minutes
        form.unit.data = item.unit.value
        form.reference_price.data = item.reference_price
        form.qualifications.data = list(item.qualifications or [])
        form.indicators.data = "、".join(item.indicators or [])
    return form


def _form_data(form: ItemForm) -> dict:
    from procurement.catalog.models import ServiceCategory, TargetGroup
    from procurement.rules.catalog import split_list

    times, period = parse_frequency(form.frequency.data)
    category = db.session.get(ServiceCategory, form.category.data)
    groups = db.session.execute(select(TargetGroup).where(TargetGroup.id.in_(form.target_groups.data))).scalars().all()
    return {
        "code": form.code.data, "category": category, "name": form.name.data.strip(),
        "content": form.content.data.strip(), "target_groups": groups, "standard": form.standard.data.strip(),
        "frequency_times": times, "frequency_period": period, "duration_minutes": form.duration_minutes.data,
        "unit": Unit(form.unit.data), "reference_price": form.reference_price.data,
        "qualifications": [StaffQualification(q) for q in form.qualifications.data],
        "indicators": split_list(form.indicators.data),
    }




@bp.route("/lists/<int:list_id>/items/new", methods=["GET", "POST"])
@require(Action.CATALOG_EDIT)
def item_new(list_id):
    service_list = db.get_or_404(ServiceList, list_id)
    if not services.can_edit_list(current_user, service_list):
        abort(403)
    form = _item_form()
    if form.validate_on_submit():
        try:
            item = services.save_item(service_list, _form_data(form), current_actor())
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The item %(code)s has been added.", code=item.code), "success")
            return redirect(url_for("catalog.item_detail", item_id=item.id))
    return render_template("catalog/item_form.html", form=form, service_list=service_list, item=None,
                           list_url=_list_url(service_list))


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@require(Action.CATALOG_EDIT)
def item_edit(item_id):
    item = db.get_or_404(CatalogItem, item_id)
    service_list = item.service_list
    if not services.can_edit_list(current_user, service_list):
        abort(403)
    form = _item_form(item)
    conflict = None
    if form.validate_on_submit():
        data = _form_data(form)
        try:
            services.save_item(service_list, data, current_actor(), item=item, expected_version=form.loaded_version())
        except ConflictError as exc:
            db.session.rollback()
            item = db.session.get(CatalogItem, item_id)
            current = services.item_values(item)
            mine = services.data_values(data)
            conflict = {
                "message": exc.message,
                "by": item.updated_by.display_name if item.updated_by else "",
                "at": item.updated_at,
                "fields": [(f, current[f], mine[f]) for f in services.ITEM_FIELDS if current[f] != mine[f]],
            }
            # The user's input stays in the form; the next save is made against the current version.
            form.version.data = str(item.version)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The item %(code)s has been saved.", code=item.code), "success")
            return redirect(url_for("catalog.item_detail", item_id=item.id))
    status = 409 if conflict else 200
    return render_template("catalog/item_form.html", form=form, service_list=service_list, item=item,
                           conflict=conflict, list_url=_list_url(service_list)), status


@bp.route("/items/<int:item_id>/active", methods=["POST"])
@require(Action.CATALOG_EDIT)
def item_toggle(item_id):
    item = db.get_or_404(CatalogItem, item_id)
    if not services.can_edit_list(current_user, item.service_list):
        abort(403)
    active = request.form.get("active") == "1"
    services.set_item_active(item, active, current_actor())
    db.session.commit()
    flash(_("The item %(code)s is in use again.", code=item.code) if active
          else _("The item %(code)s has been withdrawn; it stays on record.", code=item.code), "success")
    return redirect(url_for("catalog.item_detail", item_id=item.id))


@bp.route("/lists/<int:list_id>/adopt", methods=["GET", "POST"])
@require(Action.CATALOG_EDIT)
def adopt(list_id):
    target = db.get_or_404(ServiceList, list_id)
    if target.kind != ListKind.LOCAL or not services.can_edit_list(current_user, target):
        abort(403)
    reference = services.current_reference_list(target.year)
    candidates = services.items_of(reference) if reference is not None else []
    taken = {item.code.upper() for item in services.items_of(target, include_inactive=True)}
    form = AdoptForm()
    form.items.choices = choices((i.id, i.code) for i in candidates if i.code.upper() not in taken)
    if form.validate_on_submit():
        chosen = [i for i in candidates if i.id in set(form.items.data)]
        try:
            result = services.adopt_items(target, chosen, current_actor())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("%(n)s items adopted into the list.", n=len(result.adopted)), "success")
            return redirect(_list_url(target))
    return render_template("catalog/adopt.html", form=form, target=target, reference=reference,
                           candidates=candidates, taken=taken, list_url=_list_url(target))


@bp.route("/lists/<int:list_id>/import", methods=["GET", "POST"])
@require(Action.CATALOG_IMPORT)
def import_items(list_id):
    service_list = db.get_or_404(ServiceList, list_id)
    if not services.can_edit_list(current_user, service_list):
        abort(403)
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        lookups = _lookups()
        result = excel.read_items(form.file.data.stream, lookups)
        if result.ok:
            summary = services.import_items(service_list, result.rows, current_actor())
            db.session.commit()
            flash(_("Import complete: %(c)s items added, %(u)s updated, %(n)s unchanged.",
                    c=summary.created, u=summary.updated, n=summary.unchanged), "success")
            return redirect(_list_url(service_list))
        if result.file_error:
            form.file.errors = list(form.file.errors) + [result.file_error]
    status = 400 if (form.is_submitted() and (form.errors or (result and not result.ok))) else 200
    return render_template("catalog/import.html", form=form, service_list=service_list, result=result,
                           list_url=_list_url(service_list)), status


def _lookups() -> excel.Lookups:
    cats, groups = {}, {}
    for c in services.categories():
        cats[c.name] = cats[c.code] = c
    for g in services.target_groups():
        groups[g.name] = groups[g.code] = g
    return excel.Lookups(cats, groups, tuple(services.negative_rules()))


@bp.route("/lists/<int:list_id>/export.xlsx")
@require(Action.CATALOG_VIEW)
def export_items(list_id):
    service_list = db.get_or_404(ServiceList, list_id)
    flt = services.ItemFilter(
        q=(request.args.get("q") or "").strip()[:64], category_id=_int_arg("category"),
        target_group_id=_int_arg("group"), include_inactive=request.args.get("inactive") == "1",
        sort=request.args.get("sort") if request.args.get("sort") in services.SORTS else "code")
    items = db.session.execute(services.item_query(service_list, flt)).scalars()
    description = [f"导出时间：{beijing_today().isoformat()}"]
    if flt.q:
        description.append(f"关键词：{flt.q}")
    data = excel.write_items(items, f"{service_list.title}（第{service_list.version_no}版）", description)
    filename = f"service-list-{service_list.year}-{service_list.region.code}-v{service_list.version_no}.xlsx"
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=filename)


@bp.route("/import-template.xlsx")
@require(Action.CATALOG_VIEW)
def template():
    data = excel.write_template([c.name for c in services.categories()], [g.name for g in services.target_groups()])
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="service-list-template.xlsx")


@bp.route("/negative-list")
@require(Action.NEGATIVE_LIST_VIEW)
def negative_list():
    entries = db.session.execute(select(NegativeListEntry).order_by(NegativeListEntry.sort_order)).scalars().all()
    return render_template("catalog/negative_list.html", entries=entries)
