"""The permission matrix: every role × (own, child, sibling, parent unit) × every action.

The expected answers are written once, in MATRIX below, and each cell is exercised through
the real admin views (listing, editor, membership form) or the real services (submit,
approve, return, publish at the chain's end, withdraw) or the policy other apps call
(schedule, emergency). Each cell runs in a savepoint that is rolled back.

Holders: reporter, approver, scheduler and unit admin sit at district X; the editorial
board sits at province P. For X holders: own = X, child = commune A, sibling = district Y,
parent = province P. For the board: own = P, child = district X, sibling = province Q,
parent = none. Approver items travel with "district" scope (X's approver ends the chain),
board items with "national" scope (the board ends the chain).
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from wagtail.models import TaskState

from newsroom import policy
from newsroom.chain import STEP_RANK
from newsroom.models import Membership, NewsItem, Role
from newsroom.services import item_create, item_review, item_submit, item_withdraw
from tests.factories import make_user

pytestmark = pytest.mark.django_db

ACTIONS = [
    "view",
    "edit",
    "submit",
    "approve",
    "return",
    "publish",
    "withdraw",
    "schedule",
    "emergency",
    "live",
    "manage_members",
]

# fmt: off
MATRIX = """
role            position view edit submit approve return publish withdraw schedule emergency live members
reporter        own      Y    Y    Y      .       .      .       .        .        .         .     .
reporter        child    Y    Y    Y      .       .      .       .        .        .         .     .
reporter        sibling  .    .    .      .       .      .       .        .        .         .     .
reporter        parent   .    .    .      .       .      .       .        .        .         .     .
approver        own      Y    .    .      Y       Y      Y       Y        .        .         .     .
approver        child    Y    .    .      Y       Y      Y       Y        .        .         .     .
approver        sibling  .    .    .      .       .      .       .        .        .         .     .
approver        parent   .    .    .      .       .      .       .        .        .         .     .
scheduler       own      Y    .    .      .       .      .       .        Y        Y         Y     .
scheduler       child    Y    .    .      .       .      .       .        Y        Y         Y     .
scheduler       sibling  .    .    .      .       .      .       .        .        .         .     .
scheduler       parent   .    .    .      .       .      .       .        .        .         .     .
unit_admin      own      Y    Y    Y      .       .      .       .        .        .         .     Y
unit_admin      child    Y    Y    Y      .       .      .       .        .        .         .     Y
unit_admin      sibling  .    .    .      .       .      .       .        .        .         .     .
unit_admin      parent   .    .    .      .       .      .       .        .        .         .     .
editorial_board own      Y    .    .      Y       Y      Y       Y        .        .         .     .
editorial_board child    Y    .    .      Y       Y      Y       Y        .        .         .     .
editorial_board sibling  .    .    .      .       .      .       .        .        .         .     .
"""  # noqa: E501 - one row per role and position, one column per action
# fmt: on


def parse_matrix():
    lines = [line.split() for line in MATRIX.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert [h.replace("members", "manage_members") for h in header[2:]] == ACTIONS
    return {
        (row[0], row[1]): dict(zip(ACTIONS, (c == "Y" for c in row[2:]), strict=True))
        for row in rows
    }


EXPECTED = parse_matrix()
POSITIONS = {
    "board": {"own": "P", "child": "X", "sibling": "Q"},
    "other": {"own": "X", "child": "A", "sibling": "Y", "parent": "P"},
}


class Rollback(Exception):
    pass


def denied(response) -> bool:
    return response.status_code == 403 or (
        response.status_code == 302
        and response["Location"].startswith("/admin/")
        and "/edit/" not in response["Location"]
    )


@pytest.fixture
def world(tree, root):
    holders = {}
    for role in Role.values:
        unit = tree["P"] if role == Role.EDITORIAL_BOARD else tree["X"]
        holders[role] = make_user(f"u_{role}", unit=unit, role=role)
    # Reporters exist everywhere so items can be created at any position.
    for key in ("P", "X", "Y", "A", "Q"):
        make_user(f"rep_{key}", unit=tree[key], role=Role.REPORTER)
    return {"tree": tree, "root": root, "holders": holders}


def new_item(world, unit, distribution, headline="Tin ma trận"):
    reporter = Membership.objects.get(unit=unit, user__username__startswith="rep_").user
    return item_create(
        user=reporter, unit=unit, headline=headline, summary="x", distribution=distribution
    )


def advance(world, item, until_rank: int | None):
    """Submit (as the item's reporter), then approve as superuser while the current step is
    below ``until_rank`` (None: to the end, i.e. publish). Nobody approves what they
    submitted, so the superuser does not submit."""
    root = world["root"]
    item_submit(user=item.created_by, item=item)
    while True:
        item = NewsItem.objects.get(pk=item.pk)
        state = item.current_workflow_state
        if state is None or state.status != "in_progress":
            return item
        task_state = state.current_task_state.specific
        if until_rank is not None and STEP_RANK[task_state.task.specific.level] >= until_rank:
            return item
        item_review(user=root, item=item, action="approve")


def attempt(world, role, unit, action) -> bool:
    """Try ``action`` as the holder of ``role`` on ``unit``; True when it was allowed."""
    user = world["holders"][role]
    is_board = role == Role.EDITORIAL_BOARD
    distribution = "national" if is_board else "district"
    holder_rank = STEP_RANK["board"] if is_board else STEP_RANK["district"]
    client = Client()
    client.force_login(user)
    if action == "view":
        item = new_item(world, unit, distribution, headline=f"Tin xem {unit.code}")
        listing = client.get(reverse("wagtailsnippets_newsroom_newsitem:list"))
        return f"Tin xem {unit.code}" in listing.content.decode()
    if action == "edit":
        item = new_item(world, unit, distribution)
        response = client.get(reverse("wagtailsnippets_newsroom_newsitem:edit", args=[item.pk]))
        return response.status_code == 200
    if action == "submit":
        item = new_item(world, unit, distribution)
        try:
            item_submit(user=user, item=item)
        except (PermissionDenied, ValidationError):
            return False
        return TaskState.objects.filter(workflow_state__object_id=str(item.pk)).exists()
    if action in ("approve", "return", "publish"):
        item = advance(world, new_item(world, unit, distribution), holder_rank)
        try:
            item_review(
                user=user,
                item=item,
                action="reject" if action == "return" else "approve",
                comment="Xem lại",
            )
        except PermissionDenied:
            return False
        item.refresh_from_db()
        return item.live if action == "publish" else True
    if action == "withdraw":
        item = advance(world, new_item(world, unit, distribution), None)
        assert item.live
        try:
            item_withdraw(user=user, item=item, reason="Sai số liệu")
        except PermissionDenied:
            return False
        item.refresh_from_db()
        return item.withdrawn_at is not None and not item.live
    if action in ("schedule", "emergency", "live"):
        allowed = policy.user_can(user, action, unit)
        assert allowed == policy.units_for(user, action).filter(pk=unit.pk).exists()
        return allowed
    if action == "manage_members":
        target = make_user("target_member")
        response = client.post(
            reverse("memberships:add"),
            {"user": target.pk, "unit": unit.pk, "role": Role.REPORTER},
        )
        created = Membership.objects.filter(user=target, unit=unit).exists()
        if not created:  # refused: sent back to the dashboard, or the form shows an error
            assert response.status_code in (200, 302, 403)
        return created
    raise AssertionError(action)


@pytest.mark.parametrize("role", Role.values)
def test_permission_matrix(world, role):
    tree = world["tree"]
    positions = POSITIONS["board" if role == Role.EDITORIAL_BOARD else "other"]
    escapes = []
    for position, key in positions.items():
        expected = EXPECTED[(role, position)]
        for action in ACTIONS:
            try:
                with transaction.atomic():
                    got = attempt(world, role, tree[key], action)
                    raise Rollback
            except Rollback:
                pass
            if got != expected[action]:
                escapes.append(f"{role} {position} {action}: expected {expected[action]}")
    assert escapes == []


def test_matrix_covers_every_role_position_and_action():
    for role in Role.values:
        kind = "board" if role == Role.EDITORIAL_BOARD else "other"
        for position in POSITIONS[kind]:
            assert set(EXPECTED[(role, position)]) == set(ACTIONS)
    assert set(ACTIONS) == set(policy.ACTIONS)
