"""Issue, list and revoke intake API tokens from the shell (the same services as the admin
screen *Cài đặt → Mã truy cập ứng dụng*; each action is audited with ``via: command``).

    manage.py intake_token issue phongvien "Điện thoại của phóng viên"
    manage.py intake_token list [--user phongvien]
    manage.py intake_token revoke <prefix>
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from newsroom.intake import intake_token_issue, intake_token_revoke
from newsroom.models import IntakeToken


class Command(BaseCommand):
    help = "Issue, list or revoke intake API tokens (the secret is printed once)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="issue a token for an account")
        issue.add_argument("username")
        issue.add_argument("name", help="where it is used, e.g. the reporter's phone")
        listing = sub.add_parser("list", help="list tokens (never the secret)")
        listing.add_argument("--user", default=None)
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **options):
        if action == "issue":
            user = get_user_model().objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"no account {options['username']!r}")
            try:
                token, raw = intake_token_issue(user=user, name=options["name"], via="command")
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            self.stdout.write(f"token {token.prefix}… for {user.get_username()} ({token.name})")
            self.stdout.write("Secret (shown once, keep it in the app):")
            self.stdout.write(raw)
        elif action == "list":
            tokens = IntakeToken.objects.select_related("user").order_by("-created_at")
            if options["user"]:
                tokens = tokens.filter(user__username=options["user"])
            for token in tokens:
                state = (
                    f"revoked {token.revoked_at:%d/%m/%Y %H:%M}" if token.revoked_at else "active"
                )
                used = f"{token.last_used_at:%d/%m/%Y %H:%M}" if token.last_used_at else "never"
                self.stdout.write(
                    f"{token.prefix}…  {token.user.get_username():<16} {token.name:<30} "
                    f"{state:<24} last used {used}"
                )
        else:
            matches = list(IntakeToken.objects.filter(prefix=options["prefix"]))
            if len(matches) != 1:
                raise CommandError(
                    f"{len(matches)} tokens begin with {options['prefix']!r}; give one prefix"
                )
            token = intake_token_revoke(token=matches[0], via="command")
            self.stdout.write(f"revoked {token.prefix}… ({token.user.get_username()})")
