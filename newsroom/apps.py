from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsroomConfig(AppConfig):
    name = "newsroom"
    label = "newsroom"
    verbose_name = _("Newsroom")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # After the last app has migrated, so every permission the groups need exists.
        from django.apps import apps
        from django.db.models.signals import post_migrate

        from . import receivers
        from .models import UnitApprovalTask
        from .workflow import ChainStepRules

        # The chain steps' behaviour sits above the models (see newsroom.models.steps).
        UnitApprovalTask.rules = ChainStepRules()

        # (post_migrate is only sent for apps that have a models module.)
        with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
        post_migrate.connect(receivers.on_post_migrate, sender=with_models[-1])
