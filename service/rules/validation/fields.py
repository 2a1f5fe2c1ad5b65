"""marshmallow fields and models that fail with pydantic's error dicts, for FastAPI's parameter groups."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields
from marshmallow.utils import missing as _MISSING

from service.core.pg_limits import BIGINT_MAX
from service.rules.validation.errors import STRING, error, le_error
from service.rules.validation.scalars import expected, parse_bool, parse_int


class _Field(fields.Field):
    """Base field: errors are pydantic dicts with loc relative to the field; missing → `missing`."""

    def __init__(self, *, required: bool = False, default: Any = None, nullable: bool = True, **kwargs: Any):
        super().__init__(required=required, **kwargs)
        self.default, self.nullable = default, nullable

    def deserialize(self, value: Any, attr: str | None = None, data: Mapping | None = None, **kw: Any) -> Any:
        if value is _MISSING:
            if self.required:
                # FastAPI echoes the whole body object as the input of a missing model field.
                raise ValidationError([error("missing", (), "Field required", dict(data or {}))])
            return self.default
        if value is None and self.nullable:
            return None
        return self.check(value)

    def check(self, value: Any) -> Any:
        return value

    @staticmethod
    def fail(type_: str, msg: str, value: Any, ctx: dict | None = None) -> None:
        raise ValidationError([error(type_, (), msg, value, ctx)])


class Text(_Field):
    def check(self, value: Any) -> str:
        if not isinstance(value, str):
            self.fail("string_type", STRING, value)
        return value


class Flag(_Field):
    """A JSON boolean in a body (an extension's: strict, no "yes" or 1)."""

    def check(self, value: Any) -> bool:
        if not isinstance(value, bool):
            self.fail("bool_type", "Input should be a valid boolean", value)
        return value


class Object(_Field):
    def check(self, value: Any) -> dict:
        if not isinstance(value, dict):
            self.fail("dict_type", "Input should be a valid dictionary", value)
        return value


class Choice(_Field):
    def __init__(self, values: tuple[str, ...], **kwargs: Any):
        super().__init__(**kwargs)
        self.values = values

    def check(self, value: Any) -> str:
        if not (isinstance(value, str) and value in self.values):
            choices = expected(self.values)
            self.fail("enum", f"Input should be {choices}", value, {"expected": choices})
        return value


class CommaChoices(_Field):
    """A comma-separated list of names from `values` (blank items skipped), kept in `values`' order."""

    def __init__(self, values: tuple[str, ...], **kwargs: Any):
        super().__init__(**kwargs)
        self.values = values

    def check(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, str):
            self.fail("string_type", STRING, value)
        names = {name.strip() for name in value.split(",") if name.strip()}
        for name in sorted(names - set(self.values)):
            choices = expected(self.values)
            self.fail("enum", f"Input should be {choices}", name, {"expected": choices})
        return tuple(v for v in self.values if v in names)


class QueryInt(_Field):
    def __init__(self, *, ge: int | None = None, le: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.ge, self.le = ge, le

    def check(self, value: str) -> int:
        parsed = parse_int(value)
        if parsed == "int_parsing_size":
            self.fail(parsed, "Unable to parse input string as an integer, exceeded maximum size", value)
        if isinstance(parsed, str):
            self.fail(parsed, "Input should be a valid integer, unable to parse string as an integer", value)
        if self.ge is not None and parsed < self.ge:
            self.fail("greater_than_equal", f"Input should be greater than or equal to {self.ge}", value,
                      {"ge": self.ge})
        if self.le is not None and parsed > self.le:
            raise ValidationError([le_error((), value, self.le)])
        return parsed


class JsonInt(_Field):
    """A JSON integer within PostgreSQL's bigint (an epoch in a body); as pydantic's lax int, a number without a
    fractional part (1.0: JSON Schema's integer too) is one, a boolean is not."""

    def check(self, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif isinstance(value, float) and math.isfinite(value):
            self.fail("int_from_float", "Input should be a valid integer, got a number with a fractional part", value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail("int_type", "Input should be a valid integer", value)
        if not -BIGINT_MAX - 1 <= value <= BIGINT_MAX:
            raise ValidationError([le_error((), value, BIGINT_MAX)])
        return value


class QueryBool(_Field):
    def check(self, value: str) -> bool:
        parsed = parse_bool(value)
        if parsed is None:
            self.fail("bool_parsing", "Input should be a valid boolean, unable to interpret input", value)
        return parsed


class ListOf(_Field):
    def __init__(self, item: _Field, *, min_length: int = 0, **kwargs: Any):
        super().__init__(**kwargs)
        self.item, self.min_length = item, min_length

    def check(self, value: Any) -> list:
        if not isinstance(value, list):
            self.fail("list_type", "Input should be a valid list", value)
        out, errors = [], []
        for i, v in enumerate(value):
            try:
                out.append(self.item.check(v))
            except ValidationError as exc:
                errors += [{**e, "loc": [i, *e["loc"]]} for e in exc.messages]
        if errors:
            raise ValidationError(errors)
        if len(out) < self.min_length:
            n, items = self.min_length, "item" if self.min_length == 1 else "items"
            self.fail("too_short", f"List should have at least {n} {items} after validation, not {len(out)}",
                      value, {"field_type": "List", "min_length": n, "actual_length": len(out)})
        return out


class Model(Schema):
    """A FastAPI parameter group: loads into attribute names, reports errors in declaration order."""

    class Meta:
        unknown = EXCLUDE

    def parse(self, data: Mapping, prefix: str) -> tuple[dict, list[dict]]:
        try:
            return self.load(data), []
        except ValidationError as exc:
            errors = []
            for name, fld in self.fields.items():
                for e in exc.messages.get(fld.data_key or name, []):
                    errors.append({**e, "loc": [prefix, fld.data_key or name, *e["loc"]]})
            return {**{n: f.default for n, f in self.fields.items()}, **exc.valid_data}, errors

