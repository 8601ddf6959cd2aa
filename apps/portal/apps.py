from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "apps.portal"
    label = "portal"
    verbose_name = "Operator portal"

    def ready(self) -> None:
        # The staff side of the portal (operator users, invites) in the back office.
        from apps.portal import staff_admin  # noqa: F401
