"""Which OAuth2 scopes an application may be granted.

django-oauth-toolkit offers every configured scope to every application;
operator scopes must not be. ``integrations:replay`` is granted only to an
application owned by a staff user, and - when a person authorises the
request (authorisation code) - only if that person is staff too.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.scopes import SettingsScopes

STAFF_ONLY_SCOPES = frozenset({"integrations:replay"})


def is_staff_client(application: Any, user: Any = None) -> bool:
    """Return whether an application (and the user acting, if any) is staff."""
    owner = getattr(application, "user", None)
    if owner is None or not owner.is_staff:
        return False
    if user is not None and getattr(user, "is_authenticated", False):
        return bool(user.is_staff)
    return True


class ApplicationScopes(SettingsScopes):
    """The configured scopes, less the operator scopes for non-staff clients."""

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        scopes = list(super().get_available_scopes(application, request))
        if is_staff_client(application, getattr(request, "user", None)):
            return scopes
        return [scope for scope in scopes if scope not in STAFF_ONLY_SCOPES]
