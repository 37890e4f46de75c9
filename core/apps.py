from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Nguồn core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_save
        from wagtail.images import get_image_model

        from .identity import _on_image_saved
        from .names import install

        # One full-name rule (family name first) for every caller of get_full_name().
        install()
        # A replaced emblem file must not leave the cached identity pointing at old renditions.
        post_save.connect(_on_image_saved, sender=get_image_model(), dispatch_uid="identity-emblem")
