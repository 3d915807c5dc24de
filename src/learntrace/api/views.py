"""Pages for training admins: API tokens and their use, learning record stores and what
was sent to them, and the continuing-education export."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.api import exports, tasks, tokens, xapi
from learntrace.api.forms import StoreForm, TokenForm
from learntrace.api.models import ApiToken, CreditExport, ExportTemplate, RecordStore, Scope, Statement
from learntrace.core.audit import save_with_audit
from learntrace.core.feedback import show_errors
from learntrace.core.numbers import whole_number
from learntrace.org.access import admin_required

NEW_TOKEN = "api-new-token"


@admin_required
def tokens_page(request):
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            row, secret = tokens.create_token(actor=request.user, user=data["username"], name=data["name"],
                                              scopes=data["scopes"], expires_days=data["expires_days"])
        except ValidationError as error:
            show_errors(request, error)
        else:
            # Kept in the session only until the next page shows it: a reload does not show it again.
            request.session[NEW_TOKEN] = {"name": row.name, "secret": secret}
            return redirect("api:tokens")
    created = request.session.pop(NEW_TOKEN, None) if request.method == "GET" else None
    rows = ApiToken.objects.select_related("user").order_by("-created_at")
    return render(request, "api/tokens.html", {
        "form": form, "created": created, "page": Paginator(rows, 50).get_page(request.GET.get("page")),
        "now": timezone.now(),
    })


@admin_required
def token_detail(request, token_id):
    token = get_object_or_404(ApiToken.objects.select_related("user", "created_by"), pk=token_id)
    uses = Paginator(token.uses.all(), 100).get_page(request.GET.get("page"))
    labels = dict(Scope.choices)
    return render(request, "api/token_detail.html", {"token": token, "page": uses, "now": timezone.now(),
                                                     "scopes": [(s, labels.get(s, "")) for s in token.scopes]})


@require_POST
@admin_required
def token_revoke(request, token_id):
    token = get_object_or_404(ApiToken, pk=token_id)
    tokens.revoke_token(actor=request.user, token=token)
    messages.success(request, _("The token was revoked: it no longer works."))
    return redirect("api:token", token_id=token.pk)


@admin_required
def stores(request):
    rows = list(RecordStore.objects.all())
    for store in rows:
        store.totals = xapi.totals(store)
    return render(request, "api/stores.html", {"stores": rows})


@admin_required
def store_edit(request, store_id=None):
    store = get_object_or_404(RecordStore, pk=store_id) if store_id else RecordStore()
    form = StoreForm(request.POST or None, instance=store)
    if request.method == "POST" and form.is_valid():
        saved = save_with_audit(actor=request.user, form=form, summary=lambda store: store.name)
        messages.success(request, _("Learning record store saved."))
        return redirect("api:store", store_id=saved.pk)
    return render(request, "api/store_form.html", {"form": form, "store": store})


@admin_required
def store_detail(request, store_id):
    store = get_object_or_404(RecordStore, pk=store_id)
    status = request.GET.get("status", "")
    rows = store.statements.all()
    if status in Statement.Status.values:
        rows = rows.filter(status=status)
    return render(request, "api/store_detail.html", {
        "store": store, "totals": xapi.totals(store), "status": status, "statuses": Statement.Status.choices,
        "page": Paginator(rows, 100).get_page(request.GET.get("page")),
    })


@require_POST
@admin_required
def store_resend(request, store_id):
    store = get_object_or_404(RecordStore, pk=store_id)
    statement_id = whole_number(request.POST.get("statement", ""))
    count = xapi.resend(store, [statement_id] if statement_id is not None else None)
    if count:
        transaction.on_commit(lambda: tasks.send_statements_now(store.pk))
    messages.success(request, _("%(count)d statement(s) will be sent again.") % {"count": count})
    return redirect("api:store", store_id=store.pk)


@require_POST
@admin_required
def store_send(request, store_id):
    store = get_object_or_404(RecordStore, pk=store_id, is_active=True)
    transaction.on_commit(lambda: tasks.send_statements_now(store.pk))
    messages.success(request, _("New facts are being queued and sent in the background."))
    return redirect("api:store", store_id=store.pk)


def _export_columns(post) -> tuple[list[dict], dict]:
    """Chosen columns in the chosen order, with their headers; also the form's state to show again."""
    chosen, state = [], {}
    for index, key in enumerate(exports.COLUMNS):
        header = post.get(f"header_{key}", "").strip()
        order_text = post.get(f"order_{key}", "")
        order = whole_number(order_text.strip()) or index + 1
        include = post.get(f"include_{key}") == "on"
        state[key] = {"include": include, "header": header, "order": order}
        if include:
            chosen.append((order, index, {"key": key, "header": header}))
    return [column for _order, _index, column in sorted(chosen, key=lambda c: (c[0], c[1]))], state


def _export_form_state(last: CreditExport | ExportTemplate | None) -> dict:
    state = {}
    mapped = {c["key"]: (position, c["header"]) for position, c in enumerate(last.columns, 1)} if last else {}
    for index, (key, label) in enumerate(exports.COLUMNS.items()):
        if mapped:
            position, header = mapped.get(key, (index + 1 + len(mapped), str(label)))
            state[key] = {"include": key in mapped, "header": header, "order": position}
        else:
            state[key] = {"include": key in exports.DEFAULT_COLUMNS, "header": str(label), "order": index + 1}
    return state


@admin_required
def credit_export(request):
    last = CreditExport.objects.first()
    template = ExportTemplate.objects.filter(pk=whole_number(request.GET.get("template", "")) or None).first()
    state = _export_form_state(template or last)
    year = timezone.localdate().year
    values = {"year": year, "file_format": (template or last).file_format if (template or last) else "xlsx",
              "provider": last.provider if last else "", "only_new": True}
    if request.method == "POST" and request.POST.get("action") == "save_template":
        columns, state = _export_columns(request.POST)
        values = {**values, "file_format": request.POST.get("file_format", ""),
                  "provider": request.POST.get("provider", ""), "template_name": request.POST.get("template_name", "")}
        try:
            saved = exports.save_template(actor=request.user, name=values["template_name"],
                                          file_format=values["file_format"], columns=columns)
        except ValidationError as error:
            show_errors(request, error)
        else:
            messages.success(request, _("Template saved."))
            return redirect(f"{request.path}?template={saved.pk}")
    elif request.method == "POST":
        columns, state = _export_columns(request.POST)
        year_text = request.POST.get("year", "")
        values = {"year": year_text, "file_format": request.POST.get("file_format", ""),
                  "provider": request.POST.get("provider", ""), "only_new": request.POST.get("only_new") == "on"}
        try:
            export = exports.create_export(
                actor=request.user, year=whole_number(year_text.strip(), max_digits=4) or -1,
                file_format=values["file_format"], columns=columns, provider=values["provider"],
                only_new=values["only_new"])
        except ValidationError as error:
            show_errors(request, error)
        else:
            messages.success(request, _("Exported %(count)d completion(s).") % {"count": export.row_count})
            return redirect(f"{request.path}?ready={export.pk}")
    rows = [{"key": key, "label": label, **state[key]} for key, label in exports.COLUMNS.items()]
    return render(request, "api/credit_export.html", {
        "rows": sorted(rows, key=lambda r: r["order"]), "values": values,
        "exports": CreditExport.objects.select_related("created_by")[:50],
        "ready": request.GET.get("ready", ""), "templates": ExportTemplate.objects.all(), "template": template,
    })


@admin_required
def credit_export_download(request, export_id):
    export = get_object_or_404(CreditExport, pk=export_id)
    content, content_type, name = exports.render(export)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def extension(request, name):
    """What one of our xAPI extension IRIs means: the IRI answers with its description (public:
    a record store's users follow it, and it tells nothing about anyone)."""
    if name not in xapi.EXTENSIONS:
        raise Http404
    return render(request, "api/extension.html", {
        "name": name, "iri": xapi.extension(name), "description": xapi.EXTENSIONS[name],
        "extensions": [(other, xapi.extension(other)) for other in xapi.EXTENSIONS]})
