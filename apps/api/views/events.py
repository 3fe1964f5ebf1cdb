"""/messages/ and /signals/: correlate a message, broadcast a signal (apps.events).

Both reach only the processes whose definition key the caller holds the `correlate` (messages)
or `signal` (signals) grant on: the service scopes what it delivers to and starts; a caller with
no such grant at all is refused (403).
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied as NoGrant
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from apps.api.idempotency import idempotent
from apps.api.serializers import (
    MessageCorrelateSerializer, MessageOutcomeSerializer, SignalBroadcastSerializer, SignalOutcomeSerializer,
)
from apps.api.views.base import BatonViewSet
from apps.events.services import message_correlate, signal_broadcast


class MessageViewSet(BatonViewSet):
    serializer_class = MessageCorrelateSerializer
    input_serializers = {"create": MessageCorrelateSerializer}
    throttle_scopes = {"create": "command"}

    @extend_schema(summary="Correlate a message",
                   description="To the instance waiting for it (its name and correlation key), or with `all` to "
                               "every one; else it starts an instance at a message start event of the latest "
                               "version of a process; else it is kept for `ttl` seconds for the first instance "
                               "that waits for it. Several instances waiting without `all`: 409. A worker applies "
                               "it: the answer says where it went.",
                   request=MessageCorrelateSerializer, responses={200: MessageOutcomeSerializer})
    @idempotent
    def create(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            outcome = message_correlate(name=data["name"], correlation_key=data["correlation_key"],
                                        variables=data["variables"], message_id=data["message_id"], ttl=data["ttl"],
                                        all=data["all"], user=request.user)
        except NoGrant as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return Response(MessageOutcomeSerializer(outcome).data, status=status.HTTP_200_OK)


class SignalViewSet(BatonViewSet):
    serializer_class = SignalBroadcastSerializer
    input_serializers = {"create": SignalBroadcastSerializer}
    throttle_scopes = {"create": "command"}

    @extend_schema(summary="Broadcast a signal",
                   description="Every instance waiting for it gets it, and every process with a signal start event "
                               "of that name starts. A background job delivers it, one instance at a time: the "
                               "answer (202) says how many it reaches.",
                   request=SignalBroadcastSerializer, responses={202: SignalOutcomeSerializer})
    @idempotent
    def create(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            outcome = signal_broadcast(name=data["name"], variables=data["variables"], signal_id=data["signal_id"],
                                       user=request.user)
        except NoGrant as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return Response(SignalOutcomeSerializer(outcome).data, status=status.HTTP_202_ACCEPTED)
