"""The approval chain as a Wagtail workflow: commune → district → province.

One workflow serves every unit: a step whose level the owning unit lacks is skipped (see
``UnitApprovalTask.start``), so a two-level province runs commune → province.
"""

from django.contrib.contenttypes.models import ContentType
from wagtail.models import Workflow, WorkflowContentType, WorkflowTask

from .models import AdministrativeUnit, NewsItem, UnitApprovalTask

WORKFLOW_NAME = "Chuỗi duyệt tin theo cấp"
STEPS = [
    (AdministrativeUnit.Type.COMMUNE, "Duyệt cấp xã"),
    (AdministrativeUnit.Type.DISTRICT, "Duyệt cấp huyện"),
    (AdministrativeUnit.Type.PROVINCE, "Duyệt cấp tỉnh"),
]


def workflow_ensure() -> Workflow:
    """Create the chain and assign it to news items, if missing. Idempotent."""
    workflow, _created = Workflow.objects.get_or_create(name=WORKFLOW_NAME)
    if not workflow.workflow_tasks.exists():
        for order, (level, name) in enumerate(STEPS):
            task = UnitApprovalTask.objects.filter(level=level).first()
            if task is None:
                task = UnitApprovalTask.objects.create(name=name, level=level)
            WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=order)
    content_type = ContentType.objects.get_for_model(NewsItem)
    WorkflowContentType.objects.get_or_create(
        content_type=content_type, defaults={"workflow": workflow}
    )
    return workflow
