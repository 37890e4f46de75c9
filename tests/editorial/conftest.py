"""The editorial screens' tests reuse the newsroom's test province."""

import pytest

from newsroom.models import Role
from tests.factories import make_user
from tests.newsroom.conftest import outbox, root, tree  # noqa: F401


@pytest.fixture
def people(tree):  # noqa: F811 (the fixture named tree, imported above)
    name = {"first_name": "Phóng", "last_name": "Nguyễn Văn"}
    return {
        "rep": make_user("phongvien", unit=tree["A"], role=Role.REPORTER, **name),
        "a": make_user(
            "duyet_xa",
            unit=tree["A"],
            role=Role.APPROVER,
            first_name="Duyệt",
            last_name="Trần Thị",
        ),
        "x": make_user("duyet_huyen", unit=tree["X"], role=Role.APPROVER),
        "p": make_user("duyet_tinh", unit=tree["P"], role=Role.APPROVER),
    }
