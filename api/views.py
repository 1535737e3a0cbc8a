"""The partner and operator REST API (``/api/v1/``)."""

from __future__ import annotations

import logging

from oauth2_provider.contrib.rest_framework import TokenHasScope
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.scopes import is_staff_client
from integrations.replay import (
    INBOUND,
    OUTBOUND,
    ReplaySelection,
    ReplaySelectionError,
    replay_run,
    replay_select,
)

logger = logging.getLogger(__name__)

# The most messages one replay request may name or select.
MAX_REPLAY = 10_000


class ReplayRequestSerializer(serializers.Serializer):
    """What to replay: ids, or a state (and connection), or a blocking key."""

    direction = serializers.ChoiceField(choices=[INBOUND, OUTBOUND])
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        default=list,
        max_length=MAX_REPLAY,
    )
    state = serializers.CharField(required=False, default="", max_length=20)
    connection = serializers.CharField(required=False, default="", max_length=40)
    blocked_by = serializers.CharField(required=False, default="", max_length=200)


class ReplayView(APIView):
    """Replay messages after their cause was fixed (operators and tooling).

    Needs a token with the ``integrations:replay`` scope. Answers 202 with
    how many messages were selected and replayed; receivers of outbound
    messages get the original idempotency key again.
    """

    permission_classes = [TokenHasScope]
    required_scopes = ["integrations:replay"]

    def post(self, request: Request) -> Response:
        token = request.auth
        if not is_staff_client(token.application, token.user):
            # A token minted before the scope rules, or by hand, still needs
            # a staff application (and a staff person, if one authorised it).
            return Response(
                {"detail": "replays are for staff applications only"},
                status=status.HTTP_403_FORBIDDEN,
            )
        serializer = ReplayRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        selection = ReplaySelection(
            direction=serializer.validated_data["direction"],
            ids=tuple(serializer.validated_data["ids"]),
            state=serializer.validated_data["state"],
            connection=serializer.validated_data["connection"],
            blocked_by=serializer.validated_data["blocked_by"],
        )
        try:
            ids = replay_select(selection)
        except ReplaySelectionError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        if len(ids) > MAX_REPLAY:
            return Response(
                {
                    "detail": f"{len(ids)} messages selected; replay at most "
                    f"{MAX_REPLAY} at a time (add a connection or use ids)"
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        replayed = replay_run(direction=selection.direction, ids=ids) if ids else 0
        logger.info(
            "replay requested through the API",
            extra={
                "actor": f"oauth-client:{token.application.client_id}",
                "user": token.user.get_username() if token.user else "",
                "action": "replay",
                "target": selection.direction,
                "selected": len(ids),
                "replayed": replayed,
            },
        )
        return Response(
            {
                "direction": selection.direction,
                "selected": len(ids),
                "replayed": replayed,
            },
            status=status.HTTP_202_ACCEPTED,
        )
