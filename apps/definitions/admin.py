"""The admin for process definitions and deployments.

Every write goes through `apps.definitions.services`: "Add" uploads a BPMN file to
`definition_deploy` (the same validation and messages as the API and `manage.py deploy`), and
"Retire" calls `definition_retire`. Fields are read-only: a deployed version never changes.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from apps.definitions.errors import DeploymentRefused
from apps.definitions.models import Deployment, ProcessDefinition
from apps.definitions.selectors import definition_versions
from apps.definitions.services import definition_deploy, definition_retire
from orchestrator.bpmn.parser import ParseResult, parse
from orchestrator.bpmn.render import render_all
from orchestrator.errors import BatonError

# -- diagrams (shared with the instance admin) ----------------------------------------------------


@lru_cache(maxsize=32)
def _parsed(definition_id: int, checksum: str) -> ParseResult:
    """A definition's file, parsed once per worker process (keyed by the file's checksum too, so
    that a reused id never shows another file)."""
    xml = ProcessDefinition.objects.values_list("xml", flat=True).get(pk=definition_id)
    return parse(xml, max_bytes=max(settings.BATON_MAX_BPMN_BYTES, len(xml.encode("utf-8")) + 1))


def definition_diagrams(definition: ProcessDefinition, *, active: Iterable[str] = (), taken: Iterable[str] = (),
                        incidents: Iterable[str] = ()) -> list[SafeString]:
    """Every diagram of the definition's file as SVG, with the given elements marked.

    The SVG is safe to insert into a page as it is: `orchestrator.bpmn.render` escapes every name
    and id and emits no script, style sheet, link or event attribute."""
    checksum = Deployment.objects.values_list("checksum", flat=True).get(pk=definition.deployment_id)
    try:
        parsed = _parsed(definition.pk, checksum)
    except BatonError:
        return []
    return [mark_safe(svg) for svg in render_all(parsed.definitions, tree=parsed.tree, active=active,  # noqa: S308
                                                   taken=taken, incidents=incidents)]


# -- deploy form ---------------------------------------------------------------------------------


class DeployForm(forms.Form):
    file = forms.FileField(label="BPMN file", help_text="A BPMN 2.0 XML file (.bpmn or .xml). Every executable "
                           "process in it becomes a new version when it changed.",
                           widget=forms.ClearableFileInput(attrs={"accept": ".bpmn,.xml,.bpmn20.xml", "id": "baton-deploy-file"}))


def _admin_url(obj_or_model, view: str = "change", *args) -> str:
    opts = obj_or_model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(admin.ModelAdmin):
    list_display = ("key", "version", "name", "retired", "deployment_link", "created_at", "instances_link")
    list_display_links = ("key", "version")
    list_filter = ("retired", "created_at")
    search_fields = ("key", "name")
    ordering = ("key", "-version")
    list_select_related = ("deployment",)
    list_per_page = 50
    fields = ("key", "version", "name", "retired", "tenant_id", "deployment_link", "created_at", "checksum")
    readonly_fields = fields
    actions = ("retire_definitions",)
    change_form_template = "admin/baton_definitions/processdefinition/change_form.html"
    deploy_template = "admin/baton_definitions/processdefinition/deploy.html"

    # Versions are immutable; deploying and retiring are the only writes, through the services.
    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_retire_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("baton_definitions.change_processdefinition")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).defer("xml")

    @admin.display(description="deployment", ordering="deployment")
    def deployment_link(self, obj: ProcessDefinition) -> str:
        return format_html('<a href="{}">{}</a>', _admin_url(Deployment, "change", obj.deployment_id), obj.deployment)

    @admin.display(description="instances")
    def instances_link(self, obj: ProcessDefinition) -> str:
        url = reverse("admin:baton_instances_processinstance_changelist") + f"?definition__id__exact={obj.pk}"
        return format_html('<a href="{}">instances</a>', url)

    # -- deploying ----------------------------------------------------------------------------------

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        """"Add" is uploading a file: the deploy service validates it and creates the versions."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DeployForm(request.POST or None, request.FILES or None)
        refused: DeploymentRefused | None = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read(settings.BATON_MAX_BPMN_BYTES + 1)  # the service refuses anything larger
            try:
                result = definition_deploy(data=data, source_name=upload.name or "", user=request.user)
            except DeploymentRefused as exc:
                refused = exc
            else:
                return self._deployed(request, result)
        context = {
            **self.admin_site.each_context(request),
            "title": "Deploy a BPMN file",
            "subtitle": None,
            "opts": self.model._meta,
            "form": form,
            "refused": refused,
            "problems": [p.to_dict() for p in refused.problems] if refused else [],
            "has_view_permission": self.has_view_permission(request),
            "max_bytes": settings.BATON_MAX_BPMN_BYTES,
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.deploy_template, context, status=400 if refused else 200)

    def _deployed(self, request: HttpRequest, result) -> HttpResponse:
        if not result.definitions:
            messages.warning(request, "The file holds no executable process: nothing was deployed.")
        for deployed in result.definitions:
            if deployed.created:
                messages.success(request, f"Deployed {deployed.key} version {deployed.version}.")
            else:
                messages.info(request, f"{deployed.key} version {deployed.version} is unchanged: no new version.")
        for warning in result.warnings:
            messages.warning(request, f"Warning: {warning}")
        if len(result.definitions) == 1:
            return HttpResponseRedirect(_admin_url(ProcessDefinition, "change", result.definitions[0].id))
        return HttpResponseRedirect(_admin_url(ProcessDefinition, "changelist"))

    # -- the change page: diagram, XML, versions, retire ---------------------------------------------

    def get_urls(self):
        urls = super().get_urls()
        own = [
            path("<int:definition_id>/retire/", self.admin_site.admin_view(require_POST(self.retire_view)),
                 name="baton_definitions_processdefinition_retire"),
            path("<int:definition_id>/xml/", self.admin_site.admin_view(self.xml_view),
                 name="baton_definitions_processdefinition_xml"),
        ]
        return own + urls

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        definition = self.get_object(request, object_id)
        if definition is not None and self.has_view_or_change_permission(request, definition):
            definition = ProcessDefinition.objects.select_related("deployment").get(pk=definition.pk)
            extra_context = {
                **(extra_context or {}),
                "diagrams": definition_diagrams(definition),
                "xml": definition.xml,
                "versions": definition_versions(definition.key, tenant_id=definition.tenant_id)
                .select_related("deployment").defer("xml"),
                "can_retire": self.has_retire_permission(request) and not definition.retired,
                "retire_url": reverse("admin:baton_definitions_processdefinition_retire", args=[definition.pk]),
                "xml_url": reverse("admin:baton_definitions_processdefinition_xml", args=[definition.pk]),
                "instances_url": reverse("admin:baton_instances_processinstance_changelist")
                + f"?definition__id__exact={definition.pk}",
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def retire_view(self, request: HttpRequest, definition_id: int) -> HttpResponse:
        if not self.has_retire_permission(request):
            raise PermissionDenied
        definition = get_object_or_404(ProcessDefinition, pk=definition_id)
        self._retire(request, [definition])
        return HttpResponseRedirect(_admin_url(ProcessDefinition, "change", definition.pk))

    def xml_view(self, request: HttpRequest, definition_id: int) -> HttpResponse:
        """The file as a download: never served as XML inline (untrusted markup in our origin)."""
        definition = get_object_or_404(ProcessDefinition.objects.only("key", "version", "xml"), pk=definition_id)
        if not self.has_view_or_change_permission(request, definition):
            raise PermissionDenied
        response = HttpResponse(definition.xml, content_type="application/octet-stream")
        filename = "".join(c if c.isalnum() or c in "-_." else "_" for c in definition.key)[:100]
        response["Content-Disposition"] = f'attachment; filename="{filename}-v{definition.version}.bpmn"'
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @admin.action(description="Retire the selected versions (new instances then start on the latest one left)",
                  permissions=["retire"])
    def retire_definitions(self, request: HttpRequest, queryset) -> None:
        self._retire(request, list(queryset))

    def _retire(self, request: HttpRequest, definitions: list[ProcessDefinition]) -> None:
        retired = []
        for definition in definitions:
            if definition.retired:
                messages.warning(request, f"{definition} is already retired.")
                continue
            definition_retire(definition=definition)
            retired.append(str(definition))
        if retired:
            messages.success(request, f"Retired {', '.join(retired)}.")


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    """Who deployed which file, and when: history, read-only."""

    list_display = ("id", "source_name", "created_by", "created_at", "checksum")
    list_filter = ("created_at",)
    search_fields = ("source_name",)
    list_select_related = ("created_by",)
    fields = ("source_name", "created_by", "created_at", "tenant_id", "checksum", "definitions_list", "source")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).defer("source")

    @admin.display(description="definitions")
    def definitions_list(self, obj: Deployment) -> str:
        links = [format_html('<a href="{}">{}</a>', _admin_url(ProcessDefinition, "change", d.pk), d)
                 for d in obj.definitions.defer("xml").order_by("key")]
        return mark_safe(", ".join(links)) if links else "-"  # noqa: S308 (each link is format_html-escaped)
