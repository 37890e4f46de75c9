"""The chain's promise as a property (Hypothesis): whatever people do, in any order,

- every item on a public channel (portal, feeds, ninjs, public search and suggestions) and
  on a device's timeline has a completed chain for its current approved version, at a scope
  that covers that channel or that device's unit;
- every admin listing, chooser and search a user can open names only items (and
  memberships) within that user's subtrees;
- chain order holds: no step's approval of a version counts before the steps below it
  approved that version.

Each example draws a unit tree (the 2025 two-level shape, a legacy three-level one, or a
four-level one), people holding random roles (some two at once), and a sequence of actions
run through the real services and the admin's views over HTTP: create, edit, submit and
resubmit (service and editor buttons), approve and return (service and workflow action),
change scope, withdraw, correct, embargo and the beat that releases it, grant roles, and a
unit reform. The invariants are checked after every action.

``NGUON_HYPOTHESIS_EXAMPLES`` sets the number of examples (default 12, fast enough for
CI); a long run: ``NGUON_HYPOTHESIS_EXAMPLES=500 make test
PYTEST_ARGS=tests/newsroom/test_chain_property.py``. A failing example is shrunk and
printed; each real bug it found has a plain regression test in ``test_chain_integrity.py``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from wagtail.models import TaskState
from wagtail.test.utils.form_data import rich_text

from broadcast.models import Programme, ProgrammeTarget, Slot, SlotItem
from newsroom.audience import item_list_public
from newsroom.chain import chain_plan
from newsroom.models import (
    AdministrativeUnit,
    Membership,
    NewsItem,
    Role,
    UnitApprovalTaskState,
)
from newsroom.reform import units_reform
from newsroom.services import (
    item_create,
    item_embargo,
    item_review,
    item_scope_change,
    item_submit,
    item_update,
    item_withdraw,
    items_publish_due,
    membership_grant,
)
from newsroom.units import UnitSpec, units_load
from search.backends import SearchQuery, get_backend
from syndication.selectors import feed_item_list, item_list_syndicated
from tests.factories import make_audio_asset, make_device, make_user

EXAMPLES = int(os.environ.get("NGUON_HYPOTHESIS_EXAMPLES", "12"))
T = AdministrativeUnit.Type
D = NewsItem.Distribution
DISTRIBUTIONS = list(D.values)
ROLES = [Role.REPORTER, Role.APPROVER, Role.SCHEDULER, Role.UNIT_ADMIN]
PEOPLE = 6

# --- worlds ---------------------------------------------------------------------------------

SHAPES = {
    # 2025: province → communes.
    "two_level": [T.PROVINCE, T.COMMUNE],
    # legacy: province → districts → communes.
    "three_level": [T.PROVINCE, T.DISTRICT, T.COMMUNE],
    # any depth: a district inside a district (the outer one approves the district step).
    "four_level": [T.PROVINCE, T.DISTRICT, T.DISTRICT, T.COMMUNE],
}


def tree_spec(shape: list[str], fanout: int, prefix: str = "7") -> UnitSpec:
    def build(level: int, code: str, name: str) -> UnitSpec:
        children = ()
        if level + 1 < len(shape):
            children = tuple(
                build(level + 1, f"{code}{i}", f"{name}.{i}") for i in range(1, fanout + 1)
            )
        return UnitSpec(code, f"Đơn vị {name}", shape[level], children=children)

    return build(0, prefix, "T")


memberships_st = st.lists(
    st.tuples(
        st.integers(0, PEOPLE - 1),  # person
        st.integers(0, 63),  # unit (mod the number of units)
        st.sampled_from(ROLES + [Role.EDITORIAL_BOARD]),
    ),
    min_size=4,
    max_size=16,
)

action_st = st.one_of(
    st.tuples(
        st.just("create"),
        st.integers(0, PEOPLE - 1),
        st.integers(0, 63),
        st.sampled_from(DISTRIBUTIONS),
        st.booleans(),  # audio bulletin
        st.sampled_from([True, True, False]),  # by the unit's own reporter
    ),
    st.tuples(st.just("edit"), st.integers(0, PEOPLE - 1), st.integers(0, 63), st.booleans()),
    st.tuples(
        st.just("editor"),
        st.integers(0, PEOPLE - 1),
        st.integers(0, 63),
        st.sampled_from(["save", "action-submit", "action-restart-workflow"]),
        st.booleans(),  # change the text
    ),
    st.tuples(st.just("submit"), st.integers(0, PEOPLE - 1), st.integers(0, 63)),
    st.tuples(
        st.just("review"),
        st.integers(0, PEOPLE - 1),
        st.integers(0, 63),
        st.sampled_from(["approve", "reject"]),
        st.booleans(),  # through the admin's workflow action (HTTP) rather than the service
    ),
    st.tuples(
        st.just("scope"),
        st.integers(0, PEOPLE - 1),
        st.integers(0, 63),
        st.sampled_from(DISTRIBUTIONS),
    ),
    st.tuples(st.just("advance"), st.integers(0, 63), st.booleans()),
    st.tuples(st.just("advance"), st.integers(0, 63), st.booleans()),
    st.tuples(st.just("advance"), st.integers(0, 63), st.booleans()),
    st.tuples(st.just("withdraw"), st.integers(0, PEOPLE - 1), st.integers(0, 63)),
    st.tuples(st.just("embargo"), st.integers(0, PEOPLE - 1), st.integers(0, 63)),
    st.tuples(
        st.just("release"),
    ),
    st.tuples(
        st.just("grant"),
        st.integers(0, PEOPLE - 1),  # by
        st.integers(0, PEOPLE - 1),  # whom
        st.integers(0, 63),
        st.sampled_from(ROLES),
    ),
    st.tuples(st.just("reform"), st.integers(0, 63), st.integers(0, 63)),
)


class ChainInvariant(TestCase):
    """One database transaction per example, rolled back after it."""

    @classmethod
    def setUpTestData(cls):
        media = Path(tempfile.mkdtemp(prefix="nguon-property-"))
        # One real bulletin (its loudspeaker MP3 made by ffmpeg) shared by audio items.
        cls.asset = make_audio_asset(media, seconds=1.0, name="ban-tin-thuoc-tinh")

    # --- the world --------------------------------------------------------------------------

    def build(self, shape_name: str, fanout: int, memberships):
        units_load([tree_spec(SHAPES[shape_name], fanout)])
        self.units = list(AdministrativeUnit.objects.filter(code__startswith="7").order_by("path"))
        self.people = [make_user(f"nguoi{i}", email=f"nguoi{i}@example.vn") for i in range(PEOPLE)]
        self.root = make_user("quantri", is_superuser=True, is_staff=True)
        province = self.units[0]
        # Every unit has its own reporter and approver, the province its board, so that
        # chains can complete; the six people then get random roles on top.
        self.staff = []
        for unit in self.units:
            for role in (Role.REPORTER, Role.APPROVER):
                self.staff.append(make_user(f"{role[:3]}{unit.code}", unit=unit, role=role))
        self.staff.append(make_user("hdbt", unit=province, role=Role.EDITORIAL_BOARD))
        for person, unit_index, role in memberships:
            unit = self.units[unit_index % len(self.units)]
            if role == Role.EDITORIAL_BOARD:
                unit = province
            membership_grant(user=self.people[person], unit=unit, role=role)
        self.devices = {}
        for unit in self.units:
            if unit.unit_type == T.COMMUNE:
                self.devices[unit.pk] = make_device(unit, f"LOA-{unit.code}")
        self.log: list[str] = []

    def unit(self, index: int) -> AdministrativeUnit:
        return AdministrativeUnit.objects.get(pk=self.units[index % len(self.units)].pk)

    def item(self, index: int) -> NewsItem | None:
        items = list(NewsItem.objects.order_by("pk"))
        return items[index % len(items)] if items else None

    # --- actions ----------------------------------------------------------------------------

    def run_action(self, action: tuple) -> None:
        name, *args = action
        try:
            with self.captureOnCommitCallbacks(execute=True):
                getattr(self, f"do_{name}")(*args)
        except (PermissionDenied, ValidationError, ValueError):
            pass  # refused: the invariants must hold all the same

    def do_create(self, person, unit_index, distribution, audio, by_staff):
        fields = {"distribution": distribution, "body": "<p>Nội dung</p>"}
        if audio:
            fields.update(kind=NewsItem.Kind.AUDIO, audio=self.asset)
        unit = self.unit(unit_index)
        user = self.people[person]
        if by_staff:  # the unit's own reporter
            user = next(u for u in self.staff if u.username == f"rep{unit.code}")
        item_create(
            user=user,
            unit=unit,
            headline=f"Tin {NewsItem.objects.count() + 1}",
            **fields,
        )

    def do_edit(self, person, item_index, change):
        item = self.item(item_index)
        if item is not None:
            item_update(
                user=self.people[person],
                item=item,
                summary=f"sửa {timezone.now().timestamp()}" if change else item.summary,
            )

    def do_editor(self, person, item_index, button, change):
        item = self.item(item_index)
        if item is None:
            return
        latest = item.get_latest_revision()
        draft = latest.as_object() if latest else item
        data = {
            "unit": draft.unit_id,
            "kind": draft.kind,
            "distribution": draft.distribution,
            "headline": draft.headline + (" (sửa)" if change else ""),
            "summary": draft.summary,
            "body": rich_text(draft.body or "<p>Nội dung</p>"),
            "byline": draft.byline,
        }
        if latest is not None:
            data.update(
                loaded_revision_id=latest.pk,
                loaded_revision_created_at=latest.created_at.isoformat(),
            )
        if button != "save":
            data[button] = "1"
        client = Client()
        client.force_login(self.people[person])
        response = client.post(
            reverse("wagtailsnippets_newsroom_newsitem:edit", args=[item.pk]), data
        )
        assert response.status_code < 500, response.content[:500]

    def do_submit(self, person, item_index):
        item = self.item(item_index)
        if item is not None:
            item_submit(user=self.people[person], item=item)

    def do_review(self, person, item_index, verdict, over_http, user=None):
        item = self.item(item_index)
        if item is None:
            return
        user = user or self.people[person]
        if not over_http:
            item_review(user=user, item=item, action=verdict, comment="Xem lại nguồn.")
            return
        state = item.current_workflow_state
        if state is None or state.current_task_state_id is None:
            return
        client = Client()
        client.force_login(user)
        url = reverse(
            "wagtailsnippets_newsroom_newsitem:workflow_action",
            args=[item.pk, verdict, state.current_task_state_id],
        )
        response = client.post(url, {"comment": "Xem lại nguồn."})
        assert response.status_code < 500, response.content[:500]

    def do_advance(self, item_index, over_http):
        """Push an item up its chain as its people would: submitted (or resubmitted) by
        its creator, then approved at each step by someone who may, until it ends."""
        from newsroom.policy import user_can

        item = self.item(item_index)
        if item is None:
            return
        if not item.workflow_in_progress and item.withdrawn_at is None:
            with self.captureOnCommitCallbacks(execute=True):
                item_submit(user=item.created_by, item=item)
        for _step in range(6):
            item = NewsItem.objects.get(pk=item.pk)
            if not item.workflow_in_progress:
                return
            approver = next(
                (u for u in self.staff + self.people if user_can(u, "approve", item)), None
            )
            if approver is None:
                return
            with self.captureOnCommitCallbacks(execute=True):
                self.do_review(
                    self.people.index(approver) if approver in self.people else -1,
                    item_index,
                    "approve",
                    over_http,
                    user=approver,
                )

    def do_scope(self, person, item_index, distribution):
        item = self.item(item_index)
        if item is not None:
            item_scope_change(user=self.people[person], item=item, distribution=distribution)

    def do_withdraw(self, person, item_index):
        item = self.item(item_index)
        if item is not None:
            item_withdraw(user=self.people[person], item=item, reason="Sai thông tin")

    def do_embargo(self, person, item_index):
        item = self.item(item_index)
        if item is not None:
            item_embargo(
                user=self.people[person], item=item, go_live_at=timezone.now() + timedelta(hours=1)
            )

    def do_release(self):
        items_publish_due(now=timezone.now() + timedelta(hours=2))

    def do_grant(self, by, whom, unit_index, role):
        membership_grant(
            user=self.people[whom], unit=self.unit(unit_index), role=role, by=self.people[by]
        )

    def do_reform(self, a, b):
        """Move a commune under another unit of a higher level (or collapse it upward)."""
        communes = [u for u in self.units if u.unit_type == T.COMMUNE]
        parents = [u for u in self.units if u.unit_type != T.COMMUNE]
        commune = communes[a % len(communes)]
        parent = parents[b % len(parents)]
        units_reform(moves=[(commune.code, parent.code)], user=self.root)
        self.units = list(AdministrativeUnit.objects.filter(code__startswith="7").order_by("path"))

    # --- invariants -------------------------------------------------------------------------

    def approved_in_order(self, item: NewsItem) -> bool:
        """The live version completed its chain: every step the chain needs has an approval
        of exactly that revision, each no earlier than the step below it."""
        revision = item.live_revision
        if revision is None:
            return False
        approvals = {
            state.task.specific.level: state.finished_at
            for state in UnitApprovalTaskState.objects.filter(
                workflow_state__object_id=str(item.pk),
                revision=revision,
                status=TaskState.STATUS_APPROVED,
            ).select_related("task")
        }
        floor = None
        for level, _unit in chain_plan(item.unit, item.distribution):
            when = approvals.get(level)
            if when is None or (floor is not None and when < floor):
                return False
            floor = when
        return True

    def check_public(self):
        public = set(item_list_public().values_list("pk", flat=True))
        listed = {i.pk for i in feed_item_list()} | {
            i.pk for u in self.units for i in feed_item_list(unit=u)
        }
        listed |= set(item_list_syndicated().filter(live=True).values_list("pk", flat=True))
        results = get_backend().search(
            SearchQuery(text="", public_only=True, match_all_if_empty=True, limit=200)
        )
        listed |= {hit.item_id for hit in results.hits}
        listed |= {s.item_id for s in get_backend().suggest("tin", public_only=True, limit=50)}
        for item in NewsItem.objects.filter(pk__in=public | listed).select_related("unit"):
            assert item.pk in public, f"{item} is on a public channel but not public"
            assert item.live and item.withdrawn_at is None, f"{item} not live"
            # Stated here, not imported: "commune loudspeakers only" never reaches the web.
            assert item.distribution != D.COMMUNE, f"{item} not approved for the web"
            assert self.approved_in_order(item), f"{item} public without a completed chain"

    def check_devices(self):
        """An adversarial programme, written straight to the database, puts every live
        audio item on every commune's loudspeakers; each device must play only the items
        whose approved scope reaches its commune."""
        live = list(NewsItem.objects.filter(live=True, audio__isnull=False).order_by("pk"))
        if not live:
            return 0
        checked = 0
        province = self.units[0]
        programme = Programme.objects.create(name="Tất cả", unit=province)
        ProgrammeTarget.objects.create(programme=programme, unit=province)
        slot = Slot.objects.create(
            programme=programme, starts_at=timezone.now() + timedelta(minutes=30)
        )
        for position, item in enumerate(live):
            SlotItem.objects.create(slot=slot, item=item, position=position)
        cache.clear()
        client = Client()
        for device, token in self.devices.values():
            response = client.get(
                f"/api/v1/devices/{device.pk}/timeline", HTTP_AUTHORIZATION=f"Bearer {token}"
            )
            assert response.status_code == 200
            commune = AdministrativeUnit.objects.get(pk=device.cluster.commune_id)
            for entry in response.json()["entries"]:
                for part in entry["parts"]:
                    if "item" not in part:
                        continue
                    item = NewsItem.objects.get(uuid=part["item"])
                    # Stated here, not imported: the last approving unit's subtree.
                    audience = chain_plan(item.unit, item.distribution)[-1][1]
                    assert commune.path.startswith(audience.path), (
                        f"{item} ({item.distribution} of {item.unit}) plays in {commune}"
                    )
                    assert self.approved_in_order(item), f"{item} plays without its chain"
                    checked += 1
        programme.delete()
        return checked

    def check_admin(self, over_http: bool):
        """Listings, the chooser and the admin search name only the user's subtrees."""
        from newsroom.selectors import item_list_for_user, unit_paths_for_user

        for user in self.people:
            user.__dict__.pop("_nguon_unit_paths", None)  # roles change between actions
            paths = unit_paths_for_user(user=user)

            def mine(unit_path: str, paths=paths) -> bool:
                return any(unit_path.startswith(p) for p in paths)

            for item in item_list_for_user(user=user).select_related("unit"):
                assert mine(item.unit.path), f"{user} lists {item} of {item.unit}"
            if not over_http:
                continue
            client = Client()
            client.force_login(user)
            outside = [
                i.headline
                for i in NewsItem.objects.select_related("unit")
                if not mine(i.unit.path) and not self.step_visible(user, i)
            ]
            pages = [
                client.get(reverse("wagtailsnippets_newsroom_newsitem:list")),
                client.get("/admin/snippets/choose/newsroom/newsitem/"),
                client.get(reverse("search_admin"), {"q": "tin"}),
            ]
            for response in pages:
                text = response.content.decode()
                if response["Content-Type"].startswith("application/json"):
                    text = json.loads(text).get("html", "")
                text = re.sub(r"<[^>]+>", "", text)
                for headline in outside:
                    assert not re.search(rf"\b{re.escape(headline)}\b(?!\d)", text), (
                        f"{user} sees {headline!r} at {response.request['PATH_INFO']}"
                    )
            memberships = client.get(reverse("memberships:index"))
            if memberships.status_code != 200:
                continue
            listing = memberships.content.decode()
            managed = [
                u.path
                for u in AdministrativeUnit.objects.filter(
                    memberships__user=user, memberships__role=Role.UNIT_ADMIN
                )
            ]
            for m in Membership.objects.select_related("unit"):
                if not any(m.unit.path.startswith(p) for p in managed):
                    assert f"/admin/memberships/edit/{m.pk}/" not in listing, (
                        f"{user} sees the membership {m}"
                    )

    @staticmethod
    def step_visible(user, item: NewsItem) -> bool:
        """An approver of the item's current step sees it while it waits for them."""
        from newsroom.policy import user_can

        return user_can(user, "view", item)

    # --- the property -----------------------------------------------------------------------

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )
    @given(
        shape=st.sampled_from(sorted(SHAPES)),
        fanout=st.integers(1, 2),
        memberships=memberships_st,
        creations=st.lists(
            st.tuples(
                st.just("create"),
                st.integers(0, PEOPLE - 1),
                st.integers(0, 63),
                st.sampled_from(DISTRIBUTIONS),
                st.booleans(),
                st.just(True),
            ),
            min_size=1,
            max_size=4,
        ),
        actions=st.lists(action_st, min_size=3, max_size=14),
    )
    def test_nothing_reaches_an_audience_its_approvers_did_not_approve_for_it(
        self, shape, fanout, memberships, creations, actions
    ):
        self.build(shape, fanout, memberships)
        for action in creations + actions:
            self.run_action(action)
            self.check_public()
            self.check_admin(over_http=False)
        live = NewsItem.objects.filter(live=True).count()
        event(f"live items at the end: {min(live, 3)}{'+' if live >= 3 else ''}")
        event(f"entries checked on devices: {'some' if self.check_devices() else 'none'}")
        self.check_admin(over_http=True)


pytestmark = pytest.mark.django_db
