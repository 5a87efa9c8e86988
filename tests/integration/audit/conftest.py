"""The per-route audit test runs each service as its own integration tests do: their fixtures."""

from tests.integration.notification.conftest import (  # noqa: F401
    clock,
    gateway,
    notification,
    notification_overrides,
    notification_providers,
    notification_settings,
    sink,
)
from tests.integration.registration.conftest import (  # noqa: F401
    forum_start_date,
    pack_overrides,
    registration,
    registration_settings,
)
from tests.integration.reporting.conftest import (  # noqa: F401
    databases,
    reporting,
    reporting_settings,
)
from tests.integration.scheduling.conftest import scheduling, scheduling_settings  # noqa: F401
