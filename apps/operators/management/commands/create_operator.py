import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.operators.services import operator_create


def validation_message(error: ValidationError) -> str:
    """One line out of a model ValidationError: ``field: message; other: message``."""
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    parts = []
    for field, messages in error.message_dict.items():
        text = " ".join(message.rstrip(".") + "." for message in messages)
        parts.append(text if field == "__all__" else f"{field}: {text}")
    return " ".join(parts)


class Command(BaseCommand):
    help = (
        "Create an operator and print its credentials as one JSON object "
        "(generated where not given; the API key and secrets are shown only this once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--callback-url", required=True, help="Base of the callbacks.")
        parser.add_argument("--wallet-url", required=True, help="Base of the seamless wallet.")
        parser.add_argument("--code", help="Short slug; derived from the name when absent.")
        parser.add_argument("--api-key", help="Inbound X-API-KEY that CopyStake issues.")
        parser.add_argument("--operator-api-key", help="Outbound X-API-KEY the operator issued.")
        parser.add_argument("--secret-key", help="Signs X-REQUEST-SIGNATURE both ways.")
        parser.add_argument("--wallet-client-id")
        parser.add_argument("--wallet-secret")

    def handle(self, *args, **options):
        try:
            operator, credentials = operator_create(
                name=options["name"],
                callback_url=options["callback_url"],
                wallet_url=options["wallet_url"],
                code=options["code"],
                api_key=options["api_key"],
                operator_api_key=options["operator_api_key"],
                secret_key=options["secret_key"],
                wallet_client_id=options["wallet_client_id"],
                wallet_secret=options["wallet_secret"],
            )
        except ValidationError as error:
            raise CommandError(f"Operator not created: {validation_message(error)}") from error
        self.stdout.write(
            json.dumps(
                {
                    "id": operator.pk,
                    "name": operator.name,
                    "code": operator.code,
                    "callbackUrl": operator.callback_url,
                    "walletUrl": operator.wallet_url,
                    "apiKey": credentials["api_key"],
                    "operatorApiKey": credentials["operator_api_key"],
                    "secretKey": credentials["secret_key"],
                    "walletClientId": credentials["wallet_client_id"],
                    "walletSecret": credentials["wallet_secret"],
                }
            )
        )
