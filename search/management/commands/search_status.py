"""Documents per search index versus items in the database."""

from django.core.management.base import BaseCommand

from search.services import index_status


class Command(BaseCommand):
    help = "Show document counts per search index and the database's item counts."

    def handle(self, *args, **options):
        status = index_status()
        database = status["database"]
        self.stdout.write(f"backend: {status['backend']}")
        if status.get("alias"):
            self.stdout.write(f"alias: {status['alias']}")
        self.stdout.write(f"{'index':<48} {'live':>5} {'documents':>10} {'public':>8}")
        for index in status["indexes"]:
            self.stdout.write(
                f"{index['name']:<48} {'yes' if index['live'] else 'no':>5} "
                f"{index['documents']:>10} {index['public']:>8}"
            )
        self.stdout.write(
            f"{'database (news items)':<48} {'':>5} {database['items']:>10} {database['public']:>8}"
        )
        live = [i for i in status["indexes"] if i["live"]]
        if not live:
            self.stdout.write(self.style.WARNING("No live index: run manage.py search_rebuild."))
        elif (live[0]["documents"], live[0]["public"]) != (database["items"], database["public"]):
            self.stdout.write(
                self.style.WARNING("The live index differs from the database: run search_rebuild.")
            )
        else:
            self.stdout.write(self.style.SUCCESS("The live index matches the database."))
