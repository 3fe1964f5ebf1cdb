"""/tasks/: user tasks; claim, unclaim, complete.

By default the list shows the open tasks the caller may complete: offered to them (assigned to
them, or unassigned and naming them or one of their groups as candidates, or naming no candidates)
on processes where they hold `complete`. `offered=false` lists every task of the processes they
may read, `state` picks other states (`any` for all).
"""
from __future__ import annotations

from django.db.models import F, QuerySet, Value
from django.db.models import CharField
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.access.models import Action
from apps.access.selectors import JSONArrayHas, user_tasks_offered
from apps.api.idempotency import idempotent
from apps.api.permissions import HasGrant, TaskIsOffered
from apps.api.serializers import NoInputSerializer, TaskCompleteSerializer, TaskFilterSerializer, TaskSerializer
from apps.api.views.base import BatonViewSet
from apps.instances import services
from apps.instances.models import UserTask



@extend_schema_view(
    list=extend_schema(summary="User tasks: by default the open ones you may complete",
                       parameters=[TaskFilterSerializer], responses={200: TaskSerializer(many=True)}),
    retrieve=extend_schema(summary="One user task", responses={200: TaskSerializer}),
)
class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BatonViewSet):
    serializer_class = TaskSerializer
    filter_serializer_class = TaskFilterSerializer
    permission_classes = [IsAuthenticated, HasGrant, TaskIsOffered]
    grants = {"claim": Action.COMPLETE, "complete": Action.COMPLETE}
    throttle_scopes = {"claim": "command", "unclaim": "command", "complete": "command"}
    input_serializers = {"complete": TaskCompleteSerializer, "claim": NoInputSerializer,
                         "unclaim": NoInputSerializer}

    def get_queryset(self) -> QuerySet[UserTask]:
        queryset = self.scope(Action.READ).filter(
            UserTask.objects.filter(kind="userTask").select_related("instance__definition", "completed_by"),
            "instance__definition__key")
        filters = self.filters()
        if not filters:
            return queryset
        if filters["offered"]:
            queryset = user_tasks_offered(user=self.request.user,
                                          queryset=self.scope(Action.COMPLETE).filter(queryset,
                                                                                      "instance__definition__key"))
        if filters["state"] != "any":
            queryset = queryset.filter(state=filters["state"])
        if "instance" in filters:
            queryset = queryset.filter(instance_id=filters["instance"])
        if "assignee" in filters:
            queryset = queryset.filter(assignee=filters["assignee"])
        if "element" in filters:
            queryset = queryset.filter(element_id=filters["element"])
        if "candidate_group" in filters:
            queryset = queryset.filter(JSONArrayHas(F("candidate_groups"), Value(filters["candidate_group"],
                                                                                 CharField())))
        return queryset

    @extend_schema(summary="Claim: the task is assigned to you", request=None,
                   responses={200: TaskSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def claim(self, request, pk=None) -> Response:
        task = services.user_task_claim(task_id=self.get_object().pk, user=request.user)
        return Response(TaskSerializer(self._fresh(task)).data)

    @extend_schema(summary="Unclaim: the task is unassigned again", request=None,
                   responses={200: TaskSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def unclaim(self, request, pk=None) -> Response:
        task = services.user_task_unclaim(task_id=self.get_object().pk, user=request.user)
        return Response(TaskSerializer(self._fresh(task)).data)

    @extend_schema(summary="Complete the task with variables",
                   description="Where the model declares the task's form fields, only those variables are "
                               "accepted (400 naming the others). Completing it again is 409.",
                   request=TaskCompleteSerializer, responses={200: TaskSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def complete(self, request, pk=None) -> Response:
        task = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = services.user_task_complete(task_id=task.pk, variables=serializer.validated_data["variables"],
                                           user=request.user)
        return Response(TaskSerializer(self._fresh(task)).data)

    def _fresh(self, task: UserTask) -> UserTask:
        return UserTask.objects.select_related("instance__definition", "completed_by").get(pk=task.pk)
