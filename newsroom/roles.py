"""Django groups that carry each role's model permissions in the Wagtail admin.

Where a role applies is decided by memberships (unit subtrees); what screens a role may open
is decided by these groups. ``roles_sync_groups`` runs after every migrate and is idempotent;
a membership adds its user to the role's group.
"""

from django.contrib.auth.models import Group, Permission

from .models import Role

ROLE_GROUPS = {
    Role.REPORTER: "Phóng viên",
    Role.APPROVER: "Người duyệt tin",
    Role.SCHEDULER: "Người lập lịch phát thanh",
    Role.UNIT_ADMIN: "Quản trị đơn vị",
    Role.EDITORIAL_BOARD: "Hội đồng biên tập tỉnh",
}

ROLE_PERMISSIONS = {
    Role.REPORTER: [
        "wagtailadmin.access_admin",
        "newsroom.add_newsitem",
        "newsroom.change_newsitem",
        "newsroom.view_newsitem",
        "wagtailimages.add_image",
        "wagtailimages.choose_image",
    ],
    Role.APPROVER: [
        "wagtailadmin.access_admin",
        "newsroom.view_newsitem",
        "wagtailimages.choose_image",
    ],
    Role.SCHEDULER: [
        "wagtailadmin.access_admin",
        "newsroom.view_newsitem",
        "broadcast.view_cluster",
    ],
    Role.UNIT_ADMIN: [
        "wagtailadmin.access_admin",
        "newsroom.add_newsitem",
        "newsroom.change_newsitem",
        "newsroom.view_newsitem",
        "newsroom.view_membership",
        "newsroom.add_membership",
        "newsroom.change_membership",
        "newsroom.delete_membership",
    ],
    Role.EDITORIAL_BOARD: [
        "wagtailadmin.access_admin",
        "newsroom.view_newsitem",
        "wagtailimages.choose_image",
    ],
}


def _permissions(codes: list[str]) -> list[Permission]:
    perms = []
    for code in codes:
        app_label, codename = code.split(".")
        perm = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if perm is not None:
            perms.append(perm)
    return perms


def roles_sync_groups() -> dict[str, Group]:
    groups = {}
    for role, name in ROLE_GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(ROLE_PERMISSIONS[role]))
        groups[role] = group
    return groups


def role_group(role: str) -> Group:
    group, _created = Group.objects.get_or_create(name=ROLE_GROUPS[role])
    if _created:
        group.permissions.add(*_permissions(ROLE_PERMISSIONS[role]))
    return group
