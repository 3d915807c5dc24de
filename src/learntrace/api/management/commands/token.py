"""`learntrace token create --user USERNAME --scope SCOPE [--scope …] [--expires-days N] [--name NAME]`
prints a new API token (shown only this once); `learntrace token revoke PREFIX` revokes one."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from learntrace.api import tokens
from learntrace.api.models import ApiToken, Scope


class Command(BaseCommand):
    help = "Create or revoke API tokens."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a token and print it.")
        create.add_argument("--user", required=True, help="The user the token acts as.")
        create.add_argument("--scope", action="append", required=True, choices=Scope.values, dest="scopes")
        create.add_argument("--expires-days", type=int, default=90)
        create.add_argument("--name", default="", help="What will use it (default: the user name).")
        revoke = actions.add_parser("revoke", help="Revoke a token by its prefix (lt_<prefix>_…).")
        revoke.add_argument("prefix")

    def handle(self, *args, **options):
        if options["action"] == "revoke":
            prefix = options["prefix"].removeprefix("lt_").split("_")[0]
            token = ApiToken.objects.filter(prefix=prefix).first()
            if token is None:
                raise CommandError(f"No token has the prefix {prefix}.")
            tokens.revoke_token(actor=None, token=token)
            self.stderr.write(f"Revoked {token}.")
            return
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user is named {options['user']}.")
        try:
            row, secret = tokens.create_token(actor=None, user=user, name=options["name"] or user.get_username(),
                                              scopes=options["scopes"], expires_days=options["expires_days"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stderr.write(f"Token {row.name} for {user.get_username()} ({', '.join(row.scopes)}), "
                          f"expires {row.expires_at:%Y-%m-%d}. It is shown only now:")
        self.stdout.write(secret)
