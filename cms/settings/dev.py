from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
# Emails of `make run` go to files under var/emails/ (one per message), not the terminal.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "emails"))
