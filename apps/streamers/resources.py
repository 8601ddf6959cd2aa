"""Importing streamers from a file (CSV, XLSX) in the back office: ``StreamerResource``.

Columns: ``operator`` (the operator's code), ``operator_user_id``, ``display_name``,
``currency``, ``min_contribution``, ``max_contribution``, ``max_followers``, ``max_pool_value``,
``is_private``. ``operator``, ``operator_user_id`` and ``currency`` are required; an empty
limit is the operator's; ``is_private`` is true/false, yes/no or 1/0 (empty: false).

Every row goes through the services, never around them: a new streamer is
``streamer_create``, a streamer the operator has already (same operator and user id) is
``streamer_update``. An update sets the display name, the limits and ``is_private`` as the
row says (an empty cell: the operator's limit, a column left out of the file: unchanged);
the currency is fixed once created, so a row with another currency is refused, as is a user
twice in one file. A bad row (unknown operator, bad currency, bad amount, duplicate user...)
is reported with its number and reason, and the file imports as a whole or not at all: the
import runs in one transaction (``use_transactions``), rolled back on any bad row, after a
dry run whose preview staff confirm.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from apps.core.money import AmountError, parse_amount
from apps.operators.models import Operator
from apps.streamers.models import Streamer
from apps.streamers.services import AMOUNT_LIMITS, streamer_create, streamer_update

COLUMNS = (
    "operator",
    "operator_user_id",
    "display_name",
    "currency",
    "min_contribution",
    "max_contribution",
    "max_followers",
    "max_pool_value",
    "is_private",
)
REQUIRED = ("operator", "operator_user_id", "currency")
TRUE = {"true", "yes", "1", "y"}
FALSE = {"false", "no", "0", "n", ""}


def _text(value: object) -> str:
    """A cell as text: spreadsheets give whole numbers as int (or float), CSV gives text."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _amount(value: object) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_amount(value.strip() if isinstance(value, str) else value)
    except AmountError as error:
        raise ValueError(f"bad amount {_text(value)!r}: {error}") from error


def _count(value: object) -> int | None:
    text = _text(value)
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"bad number {text!r}: a whole number of at least 1, or empty")
    return int(text)


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"bad value {_text(value)!r}: true or false")


class StreamerResource(resources.ModelResource):
    operator = fields.Field(
        attribute="operator",
        column_name="operator",
        widget=widgets.ForeignKeyWidget(Operator, field="code"),
    )

    class Meta:
        model = Streamer
        fields = COLUMNS
        import_order = COLUMNS
        export_order = COLUMNS
        import_id_fields = ("operator", "operator_user_id")
        use_transactions = True
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False  # the services validate

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._operators: dict[str, Operator | None] = {}
        self._seen: dict[tuple[int, str], int] = {}
        self._spec: dict[str, Any] = {}

    @classmethod
    def get_display_name(cls) -> str:
        return "Streamers"

    # --- reading a row -------------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        missing = [column for column in REQUIRED if column not in (dataset.headers or [])]
        if missing:
            raise ValidationError(
                f"The file needs the columns {', '.join(REQUIRED)}; missing: "
                f"{', '.join(missing)}. Optional: {', '.join(c for c in COLUMNS if c not in REQUIRED)}."
            )

    def _operator(self, code: str) -> Operator | None:
        if code not in self._operators:
            self._operators[code] = Operator.objects.filter(code=code).first()
        return self._operators[code]

    def before_import_row(self, row, **kwargs):
        """Parse the row into what the services take (``self._spec``), every bad cell named;
        a ``ValidationError`` here makes the row invalid with its reasons."""
        errors: dict[str, list[str]] = {}
        spec: dict[str, Any] = {}
        code = _text(row.get("operator"))
        operator = self._operator(code) if code else None
        if operator is None:
            errors["operator"] = [f"unknown operator {code!r}" if code else "must not be empty"]
        spec["operator"] = operator
        user_id = _text(row.get("operator_user_id"))
        spec["operator_user_id"] = user_id
        if not user_id:
            errors["operator_user_id"] = ["must not be empty"]
        elif operator is not None:
            key = (operator.pk, user_id)
            first = self._seen.setdefault(key, kwargs.get("row_number", 0))
            if first != kwargs.get("row_number", 0):
                errors["operator_user_id"] = [
                    f"duplicate user: {user_id} of {code} is on row {first} already"
                ]
        spec["currency"] = _text(row.get("currency")).upper()
        if "display_name" in row:
            spec["display_name"] = _text(row["display_name"])
        readers = {
            **{name: _amount for name in AMOUNT_LIMITS},
            "max_followers": _count,
            "is_private": _flag,
        }
        for name, read in readers.items():
            if name not in row:
                continue
            try:
                spec[name] = read(row[name])
            except ValueError as error:
                errors[name] = [str(error)]
        if errors:
            raise ValidationError(errors)
        self._spec = spec

    def get_or_init_instance(self, instance_loader, row):
        spec = self._spec
        existing = Streamer.objects.filter(
            operator=spec["operator"], operator_user_id=spec["operator_user_id"]
        ).first()
        if existing is not None:
            return existing, False
        return Streamer(operator=spec["operator"]), True

    def import_instance(self, instance, row, **kwargs):
        """The row's values on the instance, for the preview's comparison only: what is
        saved is what the services make of them."""
        for name, value in self._spec.items():
            if name == "display_name" and not value and instance.pk is None:
                value = self._spec["operator_user_id"][:100]
            setattr(instance, name, value)

    # --- saving a row --------------------------------------------------------------------

    def save_instance(self, instance, is_create, row, **kwargs):
        spec = dict(self._spec)
        if is_create:
            created = streamer_create(**spec)
            instance.pk = created.pk
            instance._state.adding = False
            for name in COLUMNS:
                setattr(instance, name, getattr(created, name))
            return
        if not spec.get("display_name", True):
            spec.pop("display_name")  # an empty cell keeps the name
        updated = streamer_update(streamer=instance, **spec)
        for name in COLUMNS:
            setattr(instance, name, getattr(updated, name))
