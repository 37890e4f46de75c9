"""Newsroom models, one module per area; every public name is importable from here (the
migrations, Wagtail and the other apps import ``newsroom.models``).

- ``units``: the administrative tree, roles, memberships, chain levels;
- ``items``: categories and news items (and which fields approvers approve);
- ``steps``: the approval chain's Wagtail tasks (behaviour in ``newsroom.workflow``);
- ``intake``: intake API tokens and idempotency records;
- ``notices``: admin notices.
"""

from .intake import IntakeRecord, IntakeToken
from .items import CONTENT_FIELDS, Category, NewsItem, content_differs
from .notices import Notice
from .steps import StepAlreadyDecided, StepRules, UnitApprovalTask, UnitApprovalTaskState
from .units import AdministrativeUnit, Membership, Role, StepLevel

__all__ = [
    "CONTENT_FIELDS",
    "AdministrativeUnit",
    "Category",
    "IntakeRecord",
    "IntakeToken",
    "Membership",
    "NewsItem",
    "Notice",
    "Role",
    "StepAlreadyDecided",
    "StepLevel",
    "StepRules",
    "UnitApprovalTask",
    "UnitApprovalTaskState",
    "content_differs",
]
