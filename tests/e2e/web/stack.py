"""The real services behind the web's end-to-end tests: registration or scheduling started as a
process (the real broker and database; the database dropped afterwards), the platform's signing
key that both trust, staff accounts made with the operators' command (`foro users add`), and the
sign-in and the checks every browser test ends with.

Each test module keeps its own fixture (`registration`, `scheduling`) with what is particular to
it (a badge secret, a link secret) and starts the process with these.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from playwright.async_api import Page
from pymongo import AsyncMongoClient

from shared.auth.permissions import Role
from shared.auth.tokens import TokenSigner, encode_pem, generate_key_pair, new_key_id
from tests.integration.registration.conftest import process_env, today_at_venue
from tests.support.browser import RecordedPage
from tests.support.processes import FORO, ServiceProcess

PRIVATE, PUBLIC = generate_key_pair()
KID = new_key_id()
PASSWORD = "a registrar's long passphrase"  # every staff account's
TIMEOUT_MS = 20_000
PHONE = {"width": 375, "height": 812}


def auth_env(mongo_url: str, namespace: str) -> dict[str, str]:
    """Registration's accounts database and the platform's signing key (`foro users add` too)."""
    return {
        "FORO_MONGO_URL": mongo_url,
        "REGISTRATION_DATABASE": f"registration_{namespace}",
        "FORO_AUTH_SIGNING_KEY": encode_pem(PRIVATE),
        "FORO_AUTH_SIGNING_KEY_ID": KID,
        "FORO_AUTH_PUBLIC_KEYS": json.dumps({KID: encode_pem(PUBLIC)}),
    }


@asynccontextmanager
async def running(
    name: str, env: dict[str, str], mongo_url: str, database: str, log: Path
) -> AsyncIterator[ServiceProcess]:
    """Service `name` as a process until the block ends; then its `database` is dropped."""
    process = ServiceProcess(name, env, log)
    try:
        await process.start().ready()
        yield process
    finally:
        process.stop()
        mongo: AsyncMongoClient = AsyncMongoClient(mongo_url)
        await mongo.drop_database(database)
        await mongo.close()


@asynccontextmanager
async def registration_process(
    namespace: str, mongo_url: str, amqp_url: str, tmp_path: Path, **env: str
) -> AsyncIterator[ServiceProcess]:
    """Registration with the platform's signing key and `env` (its secrets) besides."""
    async with running(
        "registration",
        process_env(namespace, mongo_url, amqp_url, **env, **auth_env(mongo_url, namespace)),
        mongo_url,
        f"registration_{namespace}",
        tmp_path / "registration.log",
    ) as process:
        yield process


@asynccontextmanager
async def scheduling_process(
    namespace: str, mongo_url: str, amqp_url: str, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    """Scheduling, trusting the platform's key; it publishes release 1 of the pack's programme
    at start, the forum starting today at the venue."""
    env = {
        "FORO_NAMESPACE": namespace,
        "FORO_MONGO_URL": mongo_url,
        "FORO_BROKER_URL": amqp_url,
        "FORO_FORUM_START_DATE": today_at_venue().isoformat(),
        "FORO_AUTH_PUBLIC_KEYS": json.dumps({KID: encode_pem(PUBLIC)}),
        "SCHEDULING_DATABASE": f"scheduling_{namespace}",
    }
    async with running(
        "scheduling", env, mongo_url, f"scheduling_{namespace}", tmp_path / "scheduling.log"
    ) as process:
        yield process


async def add_account(
    username: str, role: str, mongo_url: str, namespace: str, actor: str = "web-e2e"
) -> None:
    """`foro users add NAME --role ROLE`, as an operator (`actor`) runs it; the password is
    PASSWORD."""
    command = await asyncio.create_subprocess_exec(
        FORO,
        "users",
        "add",
        username,
        "--role",
        role,
        "--password-stdin",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**auth_env(mongo_url, namespace), "FORO_ACTOR": actor, "PATH": "/usr/bin:/bin"},
    )
    output, _ = await asyncio.wait_for(command.communicate(f"{PASSWORD}\n".encode()), 60)
    assert command.returncode == 0, output.decode()


async def signed_in_headers(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    """A staff account's token from registration's `/auth/login` (`http`: registration)."""
    signed_in = await http.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    return {"Authorization": f"Bearer {signed_in.json()['access_token']}"}


async def sign_in_on_the_page(page: Page, username: str, back_to: str) -> None:
    """On the sign-in page a console page sent the browser to: the staff account signs in and
    is sent back (`back_to`, a URL pattern)."""
    assert "/signin" in page.url
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(back_to)


def programme_editor_token(lifetime: timedelta) -> str:
    """A programme editor's staff token, signed with the platform's key."""
    signed = TokenSigner(PRIVATE, KID).sign(
        subject="account:editor-e2e",
        kind="staff",
        roles=[Role.PROGRAMME_EDITOR],
        lifetime=lifetime,
    )
    return signed.token


def assert_clean(recorded: RecordedPage) -> None:
    """Nothing left this machine, and the page logged no error."""
    assert recorded.left_loopback == [], recorded.report()
    assert recorded.page_errors == [], recorded.report()
    assert recorded.console_errors == [], recorded.report()
