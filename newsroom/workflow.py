"""The approval chain as a Wagtail workflow: commune → district → province → board.

One workflow serves every unit and scope: a step the owning unit lacks, or the item's
distribution does not reach, is skipped (see ``UnitApprovalTask.start`` and
``newsroom.chain``), so a two-level province runs commune → province and only national
items reach the provincial editorial board.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max
from wagtail.models import Workflow, WorkflowContentType, WorkflowTask

from .models import NewsItem, StepLevel, UnitApprovalTask

WORKFLOW_NAME = "Chuỗi duyệt tin theo cấp"
STEPS = [
    (StepLevel.COMMUNE, "Duyệt cấp xã"),
    (StepLevel.DISTRICT, "Duyệt cấp huyện"),
    (StepLevel.PROVINCE, "Duyệt cấp tỉnh"),
    (StepLevel.BOARD, "Hội đồng biên tập tỉnh"),
]


def workflow_ensure() -> Workflow:
    """Create the chain (adding steps missing from older installs) and assign it to news
    items. Idempotent."""
    workflow, _created = Workflow.objects.get_or_create(name=WORKFLOW_NAME)
    present = set(
        UnitApprovalTask.objects.filter(workflow_tasks__workflow=workflow).values_list(
            "level", flat=True
        )
    )
    for level, name in STEPS:
        if level in present:
            continue
        task = UnitApprovalTask.objects.filter(level=level).first()
        if task is None:
            task = UnitApprovalTask.objects.create(name=name, level=level)
        last = workflow.workflow_tasks.aggregate(m=Max("sort_order"))["m"]
        WorkflowTask.objects.create(
            workflow=workflow, task=task, sort_order=0 if last is None else last + 1
        )
    content_type = ContentType.objects.get_for_model(NewsItem)
    WorkflowContentType.objects.get_or_create(
        content_type=content_type, defaults={"workflow": workflow}
    )
    return workflow
