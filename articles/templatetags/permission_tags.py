"""Ask a permission predicate from a template: `{% if user|may:"see_reach" %}` asks `permissions.can_see_reach`."""

from django import template

from articles import permissions

register = template.Library()

# Only predicates about the user alone; a template cannot name any other function.
USER_PREDICATES = {"see_reach": permissions.can_see_reach}


@register.filter
def may(user, verb: str) -> bool:
    """Return True if `user` may do `verb` (a key of USER_PREDICATES)."""
    return USER_PREDICATES[verb](user)
