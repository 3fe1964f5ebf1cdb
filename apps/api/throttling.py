"""Throttles, counted in the shared cache (Redis), so that every web process sees the same counts.

- `UserThrottle`: every call of an authenticated user (rate "user").
- `ScopedActionThrottle`: on top, the calls of one scope, named per viewset action in the
  view's `throttle_scopes` (deploy, start, command); rates in REST_FRAMEWORK's
  DEFAULT_THROTTLE_RATES, from BATON_API_RATE_* in the environment.

When the cache cannot be reached, calls are let through (and a warning logged): a rate limit
must not turn a Redis outage into an API outage. /readyz reports the cache as unavailable.
"""
from __future__ import annotations

import logging

from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

log = logging.getLogger(__name__)


class _FailOpen:
    def get_rate(self) -> str | None:
        # DRF keeps the rates read at import; read them now, so that settings changes apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, ConnectionError) as exc:
            log.warning("throttling skipped: the cache is unavailable: %s", exc)
            return True


class UserThrottle(_FailOpen, UserRateThrottle):
    scope = "user"


class ScopedActionThrottle(_FailOpen, SimpleRateThrottle):
    """The scope is `view.throttle_scopes[view.action]`; actions without one are not counted here."""

    def __init__(self) -> None:
        pass  # the rate depends on the view: read in allow_request

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, "throttle_scopes", {}).get(getattr(view, "action", None))
        if not self.scope:
            return True
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
