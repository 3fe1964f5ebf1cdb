"""The admin for operators: instances, incidents, user tasks, jobs, history and the operation log.

- Every write goes through `apps.instances.services` (cancel, suspend, resume, retry an
  incident); nothing here saves a model. Model admins are read-only: `has_change_permission`
  is False, and operating needs the model's change permission (`has_operate_permission`).
- Fast on a million rows: no full count (`show_full_result_count = False` and a paginator that
  counts at most `CappedPaginator.cap` rows), large fields deferred, related rows selected in the
  same query, filters that use the indexes (no `SELECT DISTINCT` over a big table for choices).
- Secrets stay hidden: variables, job inputs and results, and log details go through
  `mask_variables` before they are shown.
- Selections of more than `bulk.INLINE_LIMIT` instances go to a background job
  (`baton.admin.bulk`), one instance per transaction, with its progress in the operation log.
"""
from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from apps.definitions.admin import definition_diagrams
from apps.definitions.errors import ApplicationError
from apps.definitions.models import ProcessDefinition
from apps.instances import bulk, services
from apps.instances.masking import mask_value, mask_variables
from apps.instances.models import (
    FlowNodeInstance, Incident, InstanceState, Job, JobState, OperationLog, ProcessInstance, UserTask,
)
from apps.instances.selectors import instance_variables

SECTION_ROWS = 25  # rows of each list shown on an instance's page; the rest behind a link


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 rows (`SELECT COUNT(*) FROM (… LIMIT cap+1)`): a full COUNT(*) over a
    million rows on every page is what makes an admin slow. Past the cap, narrow with filters."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        try:
            return self.object_list[: self.cap + 1].count()
        except (AttributeError, TypeError):
            return len(self.object_list)


class FastListMixin:
    """Big-table settings shared by every list here (a real mixin: it only sets attributes)."""

    paginator = CappedPaginator
    show_full_result_count = False
    list_per_page = 50
    list_max_show_all = 200


class ReadOnlyAdmin(FastListMixin, admin.ModelAdmin):
    """History and state that only services write: visible, never edited, added or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_operate_permission(self, request: HttpRequest) -> bool:
        """Cancel, suspend, resume, retry: for people who may change instances."""
        return request.user.has_perm("baton_instances.change_processinstance")


def _url(model, view: str = "changelist", *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def _instance_link(instance_id: int | None) -> str:
    if instance_id is None:
        return "-"
    return format_html('<a href="{}" class="baton-instance-link">{}</a>', _url(ProcessInstance, "change", instance_id),
                       instance_id)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


# -- filters ------------------------------------------------------------------------------------


class InputFilter(admin.SimpleListFilter):
    """A free-text filter (an exact match), drawn as an input box in the filter sidebar."""

    template = "admin/baton_input_filter.html"

    def lookups(self, request, model_admin):
        return ((),)  # never empty, or Django hides the filter

    def choices(self, changelist):
        query = changelist.get_query_string(remove=[self.parameter_name])
        yield {"query_string": query, "parameter_name": self.parameter_name, "value": self.value() or "",
               "others": [(name, value) for name, value in changelist.params.items()
                          if name not in (self.parameter_name, "p", "e")]}


class BusinessKeyFilter(InputFilter):
    title = "business key"
    parameter_name = "business_key"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(business_key=value) if value else queryset


class HasIncidentFilter(admin.SimpleListFilter):
    title = "has incident"
    parameter_name = "has_incident"

    def lookups(self, request, model_admin):
        return (("yes", "Yes"), ("no", "No"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(open_incidents__gt=0)  # the partial index instance_with_incidents
        if self.value() == "no":
            return queryset.filter(open_incidents=0)
        return queryset


class ProcessKeyFilter(admin.SimpleListFilter):
    """Every version of one process (choices come from the small definitions table)."""

    title = "process"
    parameter_name = "process"

    def lookups(self, request, model_admin):
        keys = ProcessDefinition.objects.order_by("key").values_list("key", flat=True).distinct()
        return [(key, key) for key in keys]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(definition__key=self.value())
        return queryset


class IncidentOpenFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return (("yes", "Open"), ("no", "Resolved"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class ActionFilter(admin.SimpleListFilter):
    """The operation log's actions, listed without a DISTINCT over the whole log."""

    title = "action"
    parameter_name = "action"
    ACTIONS = ("start", "cancel", "suspend", "resume", "set_variables", "complete_task", "retry_incident",
               "ignored_completion", *(f"bulk_{name}" for name in bulk.ACTIONS))

    def lookups(self, request, model_admin):
        return [(action, action) for action in self.ACTIONS]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class InstanceIdFilter(InputFilter):
    title = "instance id"
    parameter_name = "instance__id__exact"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        return queryset.filter(instance_id=int(value)) if value.isdigit() else queryset.none()


# -- process instances ------------------------------------------------------------------------------


@admin.register(ProcessInstance)
class ProcessInstanceAdmin(ReadOnlyAdmin):
    list_display = ("id", "definition_label", "state", "suspended", "business_key", "incident_count", "active_list",
                    "started_at", "ended_at")
    list_display_links = ("id",)
    list_filter = ("state", "suspended", HasIncidentFilter, ProcessKeyFilter, "definition", BusinessKeyFilter,
                   "started_at", "ended_at")
    list_select_related = ("definition",)
    search_fields = ("business_key",)
    search_help_text = "An instance id, or an exact business key."
    ordering = ("-started_at", "-id")
    fields = ("definition", "state", "suspended", "business_key", "tenant_id", "parent_link", "parent_element",
              "root_link", "active_elements", "open_incidents", "revision", "schema_version", "started_at",
              "ended_at", "started_by")
    readonly_fields = fields
    change_form_template = "admin/baton_instances/processinstance/change_form.html"
    actions = ("cancel_instances", "suspend_instances", "resume_instances", "retry_instance_incidents")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProcessInstance]:
        # The engine state can be large and no page here shows it.
        return super().get_queryset(request).defer("engine_state")

    def get_search_results(self, request, queryset, search_term):
        """Exact matches only, so that the business-key and primary-key indexes answer (an
        icontains over a million rows would scan them all)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q(business_key=term)
        if term.isdigit():
            condition |= Q(pk=int(term))
        return queryset.filter(condition), False

    @admin.display(description="definition", ordering="definition__key")
    def definition_label(self, obj: ProcessInstance) -> str:
        return f"{obj.definition.key} v{obj.definition.version}"

    @admin.display(description="incidents", ordering="open_incidents")
    def incident_count(self, obj: ProcessInstance) -> str:
        if not obj.open_incidents:
            return "0"
        return format_html('<span class="baton-has-incident" style="color:#cf222e;font-weight:bold">{}</span>',
                           obj.open_incidents)

    @admin.display(description="active")
    def active_list(self, obj: ProcessInstance) -> str:
        return Truncator(", ".join(obj.active_elements or [])).chars(60)

    @admin.display(description="parent")
    def parent_link(self, obj: ProcessInstance) -> str:
        return _instance_link(obj.parent_id)

    @admin.display(description="root")
    def root_link(self, obj: ProcessInstance) -> str:
        return _instance_link(obj.root_id)

    # -- the instance page -----------------------------------------------------------------------------

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        instance = self.get_object(request, unquote(object_id))
        if instance is not None and self.has_view_or_change_permission(request, instance):
            extra_context = {**(extra_context or {}), **self._instance_context(request, instance)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _instance_context(self, request: HttpRequest, instance: ProcessInstance) -> dict[str, Any]:
        open_incidents = list(Incident.objects.filter(instance=instance, resolved_at__isnull=True).order_by("opened_at", "id"))
        taken = (FlowNodeInstance.objects.filter(instance=instance)
                 .filter(Q(state=FlowNodeInstance.State.COMPLETED)
                         | Q(state=FlowNodeInstance.State.TAKEN, element_type="sequenceFlow"))
                 .values_list("element_id", flat=True).distinct())
        variables = mask_variables(instance_variables(instance))
        can_operate = self.has_operate_permission(request)
        running = instance.state == InstanceState.RUNNING
        op = lambda action: reverse("admin:baton_instances_processinstance_operate", args=[instance.pk, action])  # noqa: E731
        return {
            "diagrams": definition_diagrams(instance.definition, active=instance.active_elements or [],
                                            taken=list(taken), incidents=[i.element_id for i in open_incidents]),
            "legend": True,
            "variables": [(name, _pretty(value)) for name, value in variables.items()],
            "open_incidents": open_incidents,
            "resolved_incidents": Incident.objects.filter(instance=instance, resolved_at__isnull=False)
            .order_by("-resolved_at")[:10],
            "user_tasks": UserTask.objects.filter(instance=instance).order_by("-created_at")[:SECTION_ROWS],
            "jobs": Job.objects.filter(instance=instance).defer("inputs", "result").order_by("-created_at")[:SECTION_ROWS],
            "history": FlowNodeInstance.objects.filter(instance=instance).order_by("-id")[:SECTION_ROWS],
            "children": ProcessInstance.objects.filter(parent=instance).select_related("definition")
            .defer("engine_state").order_by("-started_at")[:SECTION_ROWS],
            "operations": OperationLog.objects.filter(instance=instance).select_related("user").order_by("-at")[:15],
            "parent": (ProcessInstance.objects.select_related("definition").defer("engine_state")
                       .filter(pk=instance.parent_id).first() if instance.parent_id else None),
            "history_url": _url(FlowNodeInstance) + f"?instance__id__exact={instance.pk}",
            "jobs_url": _url(Job) + f"?instance__id__exact={instance.pk}",
            "incidents_url": _url(Incident) + f"?instance__id__exact={instance.pk}",
            "user_tasks_url": _url(UserTask) + f"?instance__id__exact={instance.pk}",
            "children_url": _url(ProcessInstance) + f"?parent__id__exact={instance.pk}",
            "operations_url": _url(OperationLog) + f"?instance__id__exact={instance.pk}",
            "can_operate": can_operate,
            "can_cancel": can_operate and running,
            "can_suspend": can_operate and running and not instance.suspended,
            "can_resume": can_operate and instance.suspended,
            "cancel_url": op("cancel"),
            "suspend_url": op("suspend"),
            "resume_url": op("resume"),
        }

    def get_urls(self):
        own = [
            path("<int:instance_id>/operate/<str:action>/", self.admin_site.admin_view(require_POST(self.operate_view)),
                 name="baton_instances_processinstance_operate"),
            path("<int:instance_id>/incidents/<int:incident_id>/retry/",
                 self.admin_site.admin_view(require_POST(self.retry_incident_view)),
                 name="baton_instances_processinstance_retry_incident"),
        ]
        return own + super().get_urls()

    def operate_view(self, request: HttpRequest, instance_id: int, action: str) -> HttpResponse:
        """The buttons on an instance's page: one service call each."""
        if not self.has_operate_permission(request):
            raise PermissionDenied
        calls = {"cancel": services.instance_cancel, "suspend": services.instance_suspend,
                 "resume": services.instance_resume}
        if action not in calls:
            raise PermissionDenied
        get_object_or_404(ProcessInstance.objects.only("pk"), pk=instance_id)
        try:
            calls[action](instance_id=instance_id, user=request.user)
        except ApplicationError as exc:
            messages.error(request, f"Cannot {action} instance {instance_id}: {exc.message}")
        else:
            messages.success(request, f"Instance {instance_id}: {PAST[action]}.")
        return HttpResponseRedirect(_url(ProcessInstance, "change", instance_id))

    def retry_incident_view(self, request: HttpRequest, instance_id: int, incident_id: int) -> HttpResponse:
        if not self.has_operate_permission(request):
            raise PermissionDenied
        get_object_or_404(Incident.objects.only("pk"), pk=incident_id, instance_id=instance_id)
        try:
            services.incident_retry(incident_id=incident_id, user=request.user)
        except ApplicationError as exc:
            messages.error(request, f"Cannot retry incident {incident_id}: {exc.message}")
        else:
            messages.success(request, f"Incident {incident_id}: retried; a worker runs the element again.")
        return HttpResponseRedirect(_url(ProcessInstance, "change", instance_id))

    # -- actions on the list ----------------------------------------------------------------------------

    @admin.action(description="Cancel the selected instances", permissions=["operate"])
    def cancel_instances(self, request, queryset):
        run_bulk(self, request, queryset, "cancel")

    @admin.action(description="Suspend the selected instances", permissions=["operate"])
    def suspend_instances(self, request, queryset):
        run_bulk(self, request, queryset, "suspend")

    @admin.action(description="Resume the selected instances", permissions=["operate"])
    def resume_instances(self, request, queryset):
        run_bulk(self, request, queryset, "resume")

    @admin.action(description="Retry the open incidents of the selected instances", permissions=["operate"])
    def retry_instance_incidents(self, request, queryset):
        run_bulk(self, request, queryset, "retry_incidents")


PAST = {"cancel": "cancelled", "suspend": "suspended", "resume": "resumed", "retry_incidents": "incidents retried",
        "retry_incident": "retried"}


def run_bulk(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, action: str) -> None:
    """A few targets now, through the services; more as a background job (see apps.instances.bulk)."""
    ids = queryset.order_by().values_list("pk", flat=True)
    first = list(ids[: bulk.INLINE_LIMIT + 1])
    noun = "incident" if bulk.ACTIONS[action][0] == "incident" else "instance"
    if len(first) <= bulk.INLINE_LIMIT:
        outcome = bulk.bulk_apply(action=action, ids=first, user=request.user)
        if outcome.done:
            messages.success(request, f"{outcome.done} {noun}{'s' if outcome.done != 1 else ''}: {PAST[action]}.")
        for target, error in outcome.failed:
            messages.warning(request, f"{noun} {target}: {error}")
        return
    operation = bulk.bulk_enqueue(action=action, ids=ids.iterator(chunk_size=2000), user=request.user)
    total = operation.details["total"]
    messages.info(request, format_html(
        '{} {} {}s in the background: progress in <a href="{}" id="baton-bulk-operation">operation {}</a>.',
        GERUND[action], total, noun, _url(OperationLog, "change", operation.pk), operation.pk))


GERUND = {"cancel": "Cancelling", "suspend": "Suspending", "resume": "Resuming",
          "retry_incidents": "Retrying the open incidents of", "retry_incident": "Retrying"}


# -- incidents, user tasks, jobs, history, operation log -------------------------------------------------


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ("id", "instance_link", "element_id", "short_message", "opened_at", "resolved_at")
    list_filter = (IncidentOpenFilter, InstanceIdFilter, "opened_at")
    search_fields = ("element_id",)
    ordering = ("-opened_at", "-id")
    fields = ("instance_link", "element_id", "engine_incident", "job", "message", "traceback", "opened_at",
              "resolved_at", "resolved_by")
    readonly_fields = fields
    actions = ("retry_incidents",)

    @admin.display(description="instance", ordering="instance")
    def instance_link(self, obj: Incident) -> str:
        return _instance_link(obj.instance_id)

    @admin.display(description="message")
    def short_message(self, obj: Incident) -> str:
        return Truncator(obj.message).chars(120)

    @admin.action(description="Retry the selected incidents", permissions=["operate"])
    def retry_incidents(self, request, queryset):
        run_bulk(self, request, queryset.filter(resolved_at__isnull=True), "retry_incident")


@admin.register(UserTask)
class UserTaskAdmin(ReadOnlyAdmin):
    list_display = ("id", "label", "instance_link", "kind", "state", "assignee", "groups", "created_at", "completed_at")
    list_filter = ("state", "kind", InstanceIdFilter, "created_at")
    search_fields = ("assignee", "element_id", "name")
    ordering = ("-created_at", "-id")
    fields = ("instance_link", "element_id", "name", "kind", "state", "assignee", "candidate_groups",
              "candidate_users", "form_fields", "engine_job", "created_at", "claimed_at", "completed_at", "completed_by")
    readonly_fields = fields

    @admin.display(description="task")
    def label(self, obj: UserTask) -> str:
        return obj.name or obj.element_id

    @admin.display(description="instance", ordering="instance")
    def instance_link(self, obj: UserTask) -> str:
        return _instance_link(obj.instance_id)

    @admin.display(description="candidate groups")
    def groups(self, obj: UserTask) -> str:
        return ", ".join(obj.candidate_groups or [])


class JobStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return JobState.choices

    def queryset(self, request, queryset):
        return queryset.filter(state=self.value()) if self.value() else queryset


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ("short_id", "instance_link", "element_id", "kind", "task_name", "queue", "state", "attempts",
                    "next_retry_at", "created_at")
    list_filter = (JobStateFilter, "kind", InstanceIdFilter, "created_at")
    search_fields = ("=task_name", "=element_id")
    ordering = ("-created_at",)
    fields = ("id", "instance_link", "kind", "element_id", "task_name", "queue", "state", "attempt", "max_attempts",
              "retry_delays", "time_limit", "soft_time_limit", "created_at", "dispatched_at", "started_at",
              "finished_at", "lease_expires_at", "next_retry_at", "redispatches", "masked_inputs", "masked_result",
              "last_error")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request)
        return qs if request.resolver_match and request.resolver_match.url_name.endswith("_change") \
            else qs.defer("inputs", "result", "last_error")

    @admin.display(description="id")
    def short_id(self, obj: Job) -> str:
        return str(obj.pk)[:8]

    @admin.display(description="instance", ordering="instance")
    def instance_link(self, obj: Job) -> str:
        return _instance_link(obj.instance_id)

    @admin.display(description="attempt")
    def attempts(self, obj: Job) -> str:
        return f"{obj.attempt}/{obj.max_attempts}"

    @admin.display(description="inputs")
    def masked_inputs(self, obj: Job) -> str:
        if obj.inputs is None:
            return "-"
        return format_html("<pre>{}</pre>", _pretty(mask_value("inputs", obj.inputs)))

    @admin.display(description="result")
    def masked_result(self, obj: Job) -> str:
        if obj.result is None:
            return "-"
        return format_html("<pre>{}</pre>", _pretty(mask_value("result", obj.result)))


@admin.register(FlowNodeInstance)
class FlowNodeInstanceAdmin(ReadOnlyAdmin):
    """The history: one row per flow node instance and per sequence flow taken."""

    list_display = ("id", "instance_link", "element_id", "element_type", "state", "started_at", "ended_at",
                    "duration", "attempt", "short_error")
    list_filter = ("state", InstanceIdFilter, "started_at")
    search_fields = ("=element_id",)
    ordering = ("-id",)
    fields = ("instance_link", "element_id", "element_type", "token", "state", "started_at", "ended_at", "attempt",
              "error")
    readonly_fields = fields

    @admin.display(description="instance", ordering="instance")
    def instance_link(self, obj: FlowNodeInstance) -> str:
        return _instance_link(obj.instance_id)

    @admin.display(description="error")
    def short_error(self, obj: FlowNodeInstance) -> str:
        return Truncator(obj.error).chars(80)


@admin.register(OperationLog)
class OperationLogAdmin(ReadOnlyAdmin):
    """Who did what, and the progress of bulk operations."""

    list_display = ("at", "action", "instance_link", "who", "summary")
    list_filter = (ActionFilter, InstanceIdFilter, "at")
    list_select_related = ("user",)
    ordering = ("-at", "-id")
    fields = ("at", "action", "instance_link", "who", "user_task", "incident", "masked_details")
    readonly_fields = fields

    @admin.display(description="instance", ordering="instance")
    def instance_link(self, obj: OperationLog) -> str:
        return _instance_link(obj.instance_id)

    @admin.display(description="by")
    def who(self, obj: OperationLog) -> str:
        return obj.user.get_username() if obj.user_id else (obj.actor or "-")

    @admin.display(description="details")
    def summary(self, obj: OperationLog) -> str:
        details = mask_variables(obj.details or {})
        if obj.action.startswith("bulk_"):
            return (f"{details.get('state', '?')}: {details.get('done', 0)} done, {details.get('failed', 0)} failed "
                    f"of {details.get('total', 0)}")
        return Truncator(json.dumps(details, sort_keys=True, default=str)).chars(120)

    @admin.display(description="details")
    def masked_details(self, obj: OperationLog) -> str:
        return format_html('<pre id="baton-operation-details">{}</pre>', _pretty(mask_variables(obj.details or {})))
