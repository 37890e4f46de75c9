"""Administrative units, memberships and roles, news items, the approval chain, events."""
