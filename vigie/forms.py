"""Form fields shared by the apps' forms and admins."""

import json
import math

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput
from django.utils.translation import gettext_lazy as _

from vigie.validators import BAD_CHARACTERS_MESSAGE, has_bad_characters

MAX_JSON_DEPTH = 20


def _reject_constant(name):
    raise ValueError(name)


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


class SafeJSONField(forms.JSONField):
    """JSON the database stores as typed: no NaN or infinite numbers, no NUL or lone surrogate
    in any key or string, and at most MAX_JSON_DEPTH levels of nesting."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decoder = None

    def to_python(self, value):
        if self.disabled or value in self.empty_values or not isinstance(value, str):
            return super().to_python(value)
        try:
            data = json.loads(value, parse_constant=_reject_constant, parse_float=_finite)
        except (ValueError, RecursionError):
            raise ValidationError(
                _("Enter valid JSON (finite numbers, at most %(depth)s levels of nesting).")
                % {"depth": MAX_JSON_DEPTH},
                code="invalid",
            ) from None
        self._check(data)
        return data

    def bound_data(self, data, initial):
        # Refused input is shown back as typed (parsing it again would fail the same way).
        if self.disabled:
            return initial
        try:
            return self.to_python(data)
        except ValidationError:
            return InvalidJSONInput(data)

    @staticmethod
    def _check(data):
        pending = [(data, 1)]
        while pending:
            value, depth = pending.pop()
            if isinstance(value, (dict, list)):
                if depth > MAX_JSON_DEPTH:
                    raise ValidationError(
                        _("At most %(depth)s levels of nesting.") % {"depth": MAX_JSON_DEPTH},
                        code="too_deep",
                    )
                children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
                pending.extend((child, depth + 1) for child in children)
            elif isinstance(value, str) and has_bad_characters(value):
                raise ValidationError(BAD_CHARACTERS_MESSAGE, code="bad_characters")
