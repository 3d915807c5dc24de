"""`learntrace demo`: load the demo organisation into an empty database."""

from django.core.management.base import BaseCommand, CommandError

from learntrace.demo import load_demo
from learntrace.demo.organisation import DEMO_PASSWORD
from learntrace.org.models import Department, Employee


class Command(BaseCommand):
    help = "Load the demo organisation (about 300 people) into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="Do nothing (and succeed) when the database already holds an organisation.")

    def handle(self, *args, if_empty, **options):
        if Employee.objects.exists() or Department.objects.exists():
            if if_empty:
                return
            raise CommandError("The database already holds an organisation; the demo loads only into an empty one.")
        accounts = load_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo organisation loaded: {Employee.objects.count()} people."))
        self.stdout.write(f"Demo password for every account: {DEMO_PASSWORD}")
        for username, role, name in accounts:
            self.stdout.write(f"  {username:<10} {role:<16} {name}")
        self.stdout.write("Every other demo employee logs in with their employee number and the same password.")
