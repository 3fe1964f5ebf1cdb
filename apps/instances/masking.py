"""Secrets stay hidden: variables whose names match BATON_SECRET_PATTERN are masked wherever
people read them (the admin, the API's history and instance views, the logs)."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Mapping

from django.conf import settings

MASK = "********"


@lru_cache(maxsize=8)
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source, re.IGNORECASE)


def is_secret(name: str) -> bool:
    return bool(_pattern(settings.BATON_SECRET_PATTERN).search(name))


def mask_value(name: str, value: Any) -> Any:
    """The value, or the mask when the name is a secret's; nested keys are masked too."""
    if is_secret(name):
        return MASK
    if isinstance(value, dict):
        return {key: mask_value(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_value("", item) for item in value]
    return value


def mask_variables(variables: Mapping[str, Any]) -> dict[str, Any]:
    return {name: mask_value(name, value) for name, value in variables.items()}
