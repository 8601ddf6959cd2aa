import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.core.errors import ApplicationError
from apps.operators.management.commands.create_operator import validation_message
from apps.operators.selectors import operator_get_by_name_or_code
from apps.streamers.services import stream_start, streamer_create


class Command(BaseCommand):
    help = (
        "Register an operator's user as a streamer and print it as one JSON object; "
        "--live also starts a live stream (its uid is printed as streamId)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--operator", required=True, help="Operator name or code.")
        parser.add_argument("--user-id", required=True, help="The operator's user id.")
        parser.add_argument("--currency", required=True, help="e.g. USD")
        parser.add_argument("--name", default="", help="Display name (default: the user id).")
        parser.add_argument("--live", action="store_true", help="Start a live stream now.")

    def handle(self, *args, **options):
        operator = operator_get_by_name_or_code(name_or_code=options["operator"])
        if operator is None:
            raise CommandError(f"No operator named or coded {options['operator']!r}")
        try:
            with transaction.atomic():
                streamer = streamer_create(
                    operator=operator,
                    operator_user_id=options["user_id"],
                    currency=options["currency"].strip().upper(),
                    display_name=options["name"],
                )
                stream = stream_start(streamer=streamer) if options["live"] else None
        except ValidationError as error:
            raise CommandError(f"Streamer not created: {validation_message(error)}") from error
        except ApplicationError as error:
            raise CommandError(f"Streamer not created: {error.message}") from error
        output = {
            "id": streamer.pk,
            "operatorUserId": streamer.operator_user_id,
            "currency": streamer.currency,
            "name": streamer.display_name,
            "operator": operator.code,
        }
        if stream is not None:
            output["streamId"] = str(stream.uid)
        self.stdout.write(json.dumps(output))
