"""Identity outside the running service: what `foro users` and `foro tokens` work with.

The same stores, rules and use cases as registration's API, on registration's database. No
outbox relay runs here: a revocation is written with its `access.revoked` in the outbox of the
token's (or account's) document, and the running registration's relay sweep publishes it within
its sweep interval (REGISTRATION_OUTBOX_SWEEP_SECONDS, 2 s by default).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from services.registration.identity.handlers import Identity
from services.registration.identity.repository import IdentityRepository
from services.registration.settings import RegistrationSettings
from shared.persistence.mongo import create_mongo_client


@asynccontextmanager
async def standalone_identity(settings: RegistrationSettings) -> AsyncIterator[Identity]:
    """Identity on registration's database, with the signing key of `settings` (None: accounts
    can be managed, tokens cannot be issued)."""
    signer = settings.token_signer()
    client = create_mongo_client(
        settings.mongo_url.get_secret_value(),
        app_name="foro-cli",
        connect_timeout=settings.mongo_connect_timeout,
        server_selection_timeout=settings.mongo_server_selection_timeout,
    )
    try:
        store = IdentityRepository(client[settings.database])
        # The first admin may be made before registration has ever started.
        await store.ensure_indexes()
        yield Identity(store=store, signer=signer)
    finally:
        await client.close()
