"""Serializers: input checks for commands and query filters, and the documented output shapes.

No serializer writes: commands validate an input serializer and call one service. Output
serializers describe (for the OpenAPI schema) and render what the selectors return.
"""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.definitions.models import ProcessDefinition
from apps.instances.models import FlowNodeInstance, Incident, InstanceState, UserTask, UserTaskState
from apps.instances.selectors import iso_utc


@extend_schema_field(OpenApiTypes.DATETIME)
class UTCDateTimeField(serializers.Field):
    """ISO 8601 in UTC with a Z, as `instance_to_dict` writes times (whatever TIME_ZONE is)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return iso_utc(value)


class JSONObjectField(serializers.DictField):
    """A JSON object (any values): process variables."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("child", serializers.JSONField())
        super().__init__(**kwargs)


class NoInputSerializer(serializers.Serializer):
    """Commands that take no input (cancel, suspend, resume, retry, claim, unclaim, retire)."""


class ProblemSerializer(serializers.Serializer):
    """One problem: in the API's errors, and in a deployment's warnings."""

    element = serializers.CharField(allow_null=True, help_text="The BPMN element id, or the input field.")
    line = serializers.IntegerField(allow_null=True, help_text="The line in the BPMN file, when known.")
    message = serializers.CharField()


# -- definitions --------------------------------------------------------------------------------------

class DefinitionSerializer(serializers.ModelSerializer):
    created_at = UTCDateTimeField()
    deployment = serializers.IntegerField(source="deployment_id", read_only=True)

    class Meta:
        model = ProcessDefinition
        fields = ["id", "key", "version", "name", "retired", "created_at", "deployment"]
        read_only_fields = fields


class DeployUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The BPMN 2.0 file (or send the XML as the body, application/xml).")


class DeployedDefinitionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    created = serializers.BooleanField(help_text="False when the process was unchanged (no new version).")


class DeployResultSerializer(serializers.Serializer):
    definitions = DeployedDefinitionSerializer(many=True)
    warnings = ProblemSerializer(many=True)


class DefinitionFilterSerializer(serializers.Serializer):
    key = serializers.CharField(required=False, max_length=255)
    latest = serializers.BooleanField(required=False, help_text="Only the version new instances start on, per key.")


# -- instances ----------------------------------------------------------------------------------------

class DefinitionRefSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField()


class ActiveElementSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.CharField()


class InstanceIncidentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    element = serializers.CharField()
    message = serializers.CharField()


class InstanceSerializer(serializers.Serializer):
    """The instance object of `apps.instances.selectors.instance_to_dict`, variables masked."""

    id = serializers.IntegerField()
    definition = DefinitionRefSerializer()
    state = serializers.ChoiceField(choices=InstanceState.choices)
    suspended = serializers.BooleanField()
    business_key = serializers.CharField(allow_null=True)
    variables = JSONObjectField(help_text="Typed values keep their form {\"$type\": \"date\", \"value\": ...}; "
                                          "secrets are masked.")
    active = ActiveElementSerializer(many=True)
    incidents = InstanceIncidentSerializer(many=True)
    started_at = serializers.CharField(help_text="ISO 8601, UTC.")
    ended_at = serializers.CharField(allow_null=True)


class InstanceStartSerializer(serializers.Serializer):
    definition_key = serializers.CharField(required=False, max_length=255,
                                           help_text="Start the latest version of this process.")
    definition_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                             help_text="Or start this exact version.")
    variables = JSONObjectField(required=False, default=dict)
    business_key = serializers.CharField(required=False, allow_null=True, max_length=255, default=None)

    def validate(self, attrs):
        if ("definition_key" in attrs) == ("definition_id" in attrs):
            raise serializers.ValidationError("give either definition_key or definition_id")
        return attrs


class VariablesChangeSerializer(serializers.Serializer):
    set = JSONObjectField(required=False, default=dict)
    delete = serializers.ListField(child=serializers.CharField(max_length=255), required=False, default=list)

    def validate(self, attrs):
        if not attrs["set"] and not attrs["delete"]:
            raise serializers.ValidationError("nothing to change: give set, delete or both")
        return attrs


class InstanceFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=InstanceState.choices, required=False)
    suspended = serializers.BooleanField(required=False)
    has_incident = serializers.BooleanField(required=False)
    definition_key = serializers.CharField(required=False, max_length=255)
    business_key = serializers.CharField(required=False, max_length=255)
    started_after = serializers.DateTimeField(required=False, help_text="Inclusive.")
    started_before = serializers.DateTimeField(required=False, help_text="Exclusive.")
    active_element = serializers.CharField(required=False, max_length=255, help_text="An element holding a token.")


class HistoryEntrySerializer(serializers.ModelSerializer):
    """One row of `apps.instances.selectors.instance_history`."""

    started_at = UTCDateTimeField()
    ended_at = UTCDateTimeField(allow_null=True)
    duration_ms = serializers.SerializerMethodField()

    class Meta:
        model = FlowNodeInstance
        fields = ["element_id", "element_type", "token", "state", "started_at", "ended_at", "duration_ms",
                  "attempt", "error"]
        read_only_fields = fields

    def get_duration_ms(self, row: FlowNodeInstance) -> int | None:
        return None if row.duration is None else round(row.duration.total_seconds() * 1000)


# -- user tasks ---------------------------------------------------------------------------------------

class TaskSerializer(serializers.ModelSerializer):
    definition = serializers.SerializerMethodField()
    instance = serializers.IntegerField(source="instance_id", read_only=True)
    element = serializers.CharField(source="element_id", read_only=True)
    created_at = UTCDateTimeField()
    claimed_at = UTCDateTimeField(allow_null=True)
    completed_at = UTCDateTimeField(allow_null=True)
    completed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    form_fields = serializers.ListField(child=serializers.CharField(), allow_null=True, read_only=True,
                                        help_text="The variables completion accepts; null: any.")

    class Meta:
        model = UserTask
        fields = ["id", "instance", "definition", "element", "name", "state", "assignee", "candidate_users",
                  "candidate_groups", "form_fields", "created_at", "claimed_at", "completed_at", "completed_by"]
        read_only_fields = fields

    @extend_schema_field(DefinitionRefSerializer)
    def get_definition(self, task: UserTask) -> dict:
        definition = task.instance.definition
        return {"key": definition.key, "version": definition.version}


class TaskCompleteSerializer(serializers.Serializer):
    variables = JSONObjectField(required=False, default=dict)


TASK_STATES = [*UserTaskState.values, "any"]


class TaskFilterSerializer(serializers.Serializer):
    offered = serializers.BooleanField(
        required=False, default=True,
        help_text="true (default): only tasks you may complete (offered to you, and `complete` granted on their "
                  "process); false: every task of the processes you may read.")
    state = serializers.ChoiceField(choices=TASK_STATES, required=False, default=UserTaskState.OPEN)
    instance = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    assignee = serializers.CharField(required=False, max_length=150)
    candidate_group = serializers.CharField(required=False, max_length=150)
    element = serializers.CharField(required=False, max_length=255)


# -- incidents ----------------------------------------------------------------------------------------

class IncidentSerializer(serializers.ModelSerializer):
    definition = serializers.SerializerMethodField()
    instance = serializers.IntegerField(source="instance_id", read_only=True)
    element = serializers.CharField(source="element_id", read_only=True)
    opened_at = UTCDateTimeField()
    resolved_at = UTCDateTimeField(allow_null=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Incident
        fields = ["id", "instance", "definition", "element", "message", "opened_at", "resolved_at", "resolved_by"]
        read_only_fields = fields

    @extend_schema_field(DefinitionRefSerializer)
    def get_definition(self, incident: Incident) -> dict:
        definition = incident.instance.definition
        return {"key": definition.key, "version": definition.version}


class IncidentFilterSerializer(serializers.Serializer):
    instance = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    resolved = serializers.BooleanField(required=False)


# -- plugins ------------------------------------------------------------------------------------------

class PluginSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="What a service task names (baton:task).")
    module = serializers.CharField()
    queue = serializers.CharField(allow_null=True)
    arguments = serializers.ListField(child=serializers.CharField())
    required = serializers.ListField(child=serializers.CharField())
    takes_kwargs = serializers.BooleanField()
    accepts_job_id = serializers.BooleanField()
    doc = serializers.CharField(allow_blank=True)
    max_retries = serializers.IntegerField(allow_null=True)
    time_limit = serializers.FloatField(allow_null=True)
    soft_time_limit = serializers.FloatField(allow_null=True)


# -- messages and signals (apps.events) ---------------------------------------------------------------

# Longest a message may wait in the buffer: ten years (longer would overflow the date arithmetic).
MAX_MESSAGE_TTL = 10 * 365 * 24 * 60 * 60


class MessageCorrelateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, help_text="The message name (the name of its bpmn:message).")
    correlation_key = serializers.JSONField(
        required=False, allow_null=True, default=None,
        help_text="What the waiting instance must carry: its business key, or the value its model names. "
                  "Without one, the message goes to whoever waits for its name.")
    variables = JSONObjectField(required=False, default=dict, help_text="Merged into the instance it reaches.")
    message_id = serializers.CharField(required=False, allow_null=True, default=None, max_length=255,
                                       help_text="Your id for it: a message with the same id is applied once.")
    ttl = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0,
                                 max_value=MAX_MESSAGE_TTL,
                                 help_text="Seconds to keep it when nobody waits yet (default BATON_MESSAGE_TTL; "
                                           "0: do not keep it).")
    all = serializers.BooleanField(required=False, default=False,
                                   help_text="Deliver to every instance waiting for it (else several is a 409).")


class MessageOutcomeSerializer(serializers.Serializer):
    delivered_to = serializers.ListField(child=serializers.IntegerField(), help_text="Instances it was delivered to.")
    started = serializers.ListField(child=serializers.IntegerField(), help_text="Instances it started.")
    buffered = serializers.BooleanField(help_text="Kept until a subscription matches it (or its TTL runs out).")


class SignalBroadcastSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, help_text="The signal name (the name of its bpmn:signal).")
    variables = JSONObjectField(required=False, default=dict, help_text="Merged into every instance it reaches.")
    signal_id = serializers.CharField(required=False, allow_null=True, default=None, max_length=255,
                                      help_text="Your id for it: a signal with the same id is broadcast once.")


class SignalOutcomeSerializer(serializers.Serializer):
    signal_id = serializers.CharField(allow_null=True)
    delivery_id = serializers.IntegerField(help_text="The background job delivering it.")
    instances = serializers.IntegerField(help_text="Waiting instances it reaches.")
    starts = serializers.IntegerField(help_text="Processes it starts (signal start events).")
