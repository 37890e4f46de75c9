from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Nguồn core"

    def ready(self):
        from .names import install

        # One full-name rule (family name first) for every caller of get_full_name().
        install()
