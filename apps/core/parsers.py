"""JSON parsing that keeps money exact: numbers with a fraction become Decimal, never float,
the non-standard NaN/Infinity constants are refused, and any malformed body is a 400."""

import json
from decimal import Decimal

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a valid JSON number")


class DecimalJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw:
            return {}
        try:
            return json.loads(
                raw.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse_constant
            )
        except UnicodeDecodeError as error:
            raise ParseError("Request body is not valid UTF-8") from error
        except (ValueError, RecursionError) as error:
            raise ParseError(f"Malformed JSON: {error}") from error


class AnyContentJSONParser(DecimalJSONParser):
    """The same, whatever ``Content-Type`` says (the operator API signs raw bytes and the
    contract only ever sends JSON)."""

    media_type = "*/*"
