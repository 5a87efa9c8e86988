"""`foro secrets`: make the platform's secrets, and rotate them without an outage.

Two file formats, told apart by the file name:
- an environment file (`.foro/secrets.env`, what `foro up` keeps and docker compose reads with
  `--env-file`): `KEY=value` lines of the local keys (shared/secrets_policy.LOCAL_VARIABLES);
- a Kubernetes Secret manifest (`*.yaml`/`*.yml`), the keys of deploy/k8s's example Secret: the
  services' own variables (shared/secrets_policy.SERVICE_VARIABLES).

Nothing secret is printed when a file is written; `generate` without `--output` prints the file to
standard output (to pipe it somewhere). A list-valued secret (API tokens, webhook secrets) is a
JSON list during a rotation: `rotate` puts a new value first and keeps the old ones, so both work
until `rotate --finish` drops the old ones. The access tokens' key pair (FORO_AUTH_SIGNING_KEY,
its id, FORO_AUTH_PUBLIC_KEYS) is made and rotated as one: the new public key beside the old until
`rotate FORO_AUTH_SIGNING_KEY --finish --yes`.
"""

from __future__ import annotations

import json
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit, urlunsplit

import typer
import yaml
from rich.console import Console

from shared.auth.tokens import encode_pem, parse_public_keys
from shared.secrets_policy import (
    BROKER_URL_TEMPLATE,
    LOCAL_VARIABLES,
    MONGO_URL_TEMPLATE,
    SERVICE_VARIABLES,
    SecretVariable,
    decode_list,
    encode_list,
    followers,
    generate_auth_keys,
    generate_local_secrets,
    generate_service_secrets,
    known_variable,
    new_secret,
)

app = typer.Typer(
    help="Generate the platform's secrets (env file or Kubernetes Secret) and rotate them.",
    no_args_is_help=True,
)
console = Console(stderr=True, soft_wrap=True)
DEFAULT_FILE = Path(".foro/secrets.env")
ENV_HEADER = (
    "# foro secrets (foro secrets generate): keep this file private (mode 0600), never commit it.\n"
)


class Format(StrEnum):
    env = "env"
    k8s = "k8s"


def fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(1)


# --- files --------------------------------------------------------------------------------------


def is_manifest(path: Path) -> bool:
    return path.suffix in (".yaml", ".yml")


def read_env(text: str) -> dict[str, str]:
    """`KEY=value` lines; blank lines and `#` comments are skipped, the value is taken as is."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value
    return values


def render_env(values: dict[str, str]) -> str:
    return ENV_HEADER + "".join(f"{key}={value}\n" for key, value in values.items())


def manifest(values: dict[str, str], name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "foro"},
        },
        "type": "Opaque",
        "stringData": values,
    }


def render_manifest(document: dict[str, Any]) -> str:
    header = (
        "# foro secrets (foro secrets generate --format k8s): apply it, keep it private, never "
        "commit it.\n#   kubectl apply -f THIS-FILE\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, width=1000)


def write_private(path: Path, text: str) -> None:
    """Write `text` readable by its owner only (0600), atomically: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class SecretsFile:
    """An env file or a Secret manifest as a dict of its values, written back the same way."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            raise fail(
                f"{path} does not exist: `foro up` makes .foro/secrets.env; "
                "`foro secrets generate --output PATH` makes one"
            )
        text = path.read_text()
        self.document: dict[str, Any] | None = None
        if is_manifest(path):
            document = yaml.safe_load(text)
            if not isinstance(document, dict) or document.get("kind") != "Secret":
                raise fail(f"{path} is not a Kubernetes Secret manifest")
            if document.get("data"):
                raise fail(f"{path} keeps base64 `data`; use `stringData` (what generate writes)")
            self.document = document
            self.values = {str(k): str(v) for k, v in (document.get("stringData") or {}).items()}
        else:
            self.values = read_env(text)
        # The local launcher's keys (FORO_API_TOKEN, …) or the services' own variables.
        self.local = self.document is None and not any(
            key.endswith(("_API_TOKENS", "_WEBHOOK_SECRETS")) for key in self.values
        )

    def save(self) -> None:
        if self.document is not None:
            self.document["stringData"] = self.values
            write_private(self.path, render_manifest(self.document))
        else:
            write_private(self.path, render_env(self.values))


# --- generate -----------------------------------------------------------------------------------


@app.command()
def generate(
    format: Annotated[
        Format,
        typer.Option(
            "--format",
            help="env: the local keys (foro up, docker compose --env-file); "
            "k8s: a Secret with the services' variables (deploy/k8s/secret.example.yaml).",
        ),
    ] = Format.env,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="File to write (mode 0600); standard output when omitted."
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace OUTPUT when it exists.")] = False,
    broker_url: Annotated[
        str,
        typer.Option(help="k8s: FORO_BROKER_URL, `{password}` replaced by a new password."),
    ] = BROKER_URL_TEMPLATE,
    mongo_url: Annotated[
        str,
        typer.Option(help="k8s: FORO_MONGO_URL, `{password}` replaced by a new password."),
    ] = MONGO_URL_TEMPLATE,
    name: Annotated[str, typer.Option(help="k8s: the Secret's name.")] = "foro-credentials",
    namespace: Annotated[str, typer.Option(help="k8s: the Secret's namespace.")] = "foro",
) -> None:
    """Make a new random value (32 random bytes, URL-safe) for every secret."""
    if output is not None and output.exists() and not force:
        raise fail(f"{output} exists; pass --force to replace it (its secrets would be lost)")
    if format is Format.k8s:
        for option, template in (("--broker-url", broker_url), ("--mongo-url", mongo_url)):
            if "{password}" not in template:
                raise fail(f"{option} must contain {{password}}, where the new password goes")
        values = generate_service_secrets(broker_url=broker_url, mongo_url=mongo_url)
        text = render_manifest(manifest(values, name, namespace))
    else:
        values = generate_local_secrets()
        text = render_env(values)
    if output is None:
        typer.echo(text, nl=False)
        return
    write_private(output, text)
    console.print(
        f"wrote {len(values)} secrets to {output} (mode 0600): {', '.join(values)}", highlight=False
    )
    if format is Format.k8s:
        console.print(
            f"next: kubectl apply -f {output}; the RabbitMQ and MongoDB users need the passwords "
            "inside FORO_BROKER_URL and FORO_MONGO_URL. Static secretariat tokens are not in it "
            "(production refuses them): create the first admin with `foro users add`",
            highlight=False,
        )


# --- rotate -------------------------------------------------------------------------------------


def _as_written(values: list[str], variable: SecretVariable) -> str:
    """Outside a rotation a local key holds a bare value (what the launcher and compose expect);
    the services' variables are JSON lists always."""
    local = variable in LOCAL_VARIABLES
    return values[0] if len(values) == 1 and local else encode_list(values)


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    if parts.username is None:
        raise fail("the URL has no user name to rotate a password for")
    host = parts.netloc.rsplit("@", 1)[1]
    netloc = f"{quote(parts.username, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def _rotate_list(file: SecretsFile, variable: SecretVariable, finish: bool, yes: bool) -> str:
    try:
        values = decode_list(file.values[variable.name])
    except ValueError as error:
        raise fail(
            f"{variable.name} in {file.path} is not a JSON list of strings: {error}"
        ) from None
    if finish:
        if len(values) <= 1:
            return f"{variable.name}: one value only, nothing to finish"
        if variable.finishing_breaks and not yes:
            raise fail(
                f"finishing the rotation of {variable.name} ({variable.about}) means: "
                f"{variable.finishing_breaks}. Re-run with --yes to do it"
            )
        file.values[variable.name] = _as_written(values[:1], variable)
        moved = [
            f.name for f in followers(variable.name, SERVICE_VARIABLES) if f.name in file.values
        ]
        for name in moved:  # what signed with an older value signs with the newest now
            file.values[name] = values[0]
        return (
            f"{variable.name}: the newest value kept, {len(values) - 1} older one(s) dropped"
            + (f" ({', '.join(moved)} set to it)" if moved else "")
            + "; restart the services to stop accepting them"
        )
    file.values[variable.name] = _as_written([new_secret(), *values], variable)
    if variable.finishing_breaks:
        # A signing secret: nothing to hand out, the services sign with the new value.
        then = (
            "Restart the services: they sign with the new value and still accept what the older "
            f"one(s) signed. Once those are no longer needed, `foro secrets rotate {variable.name} "
            f"--finish --yes --file {file.path}` drops them"
        )
    else:
        then = (
            f"Restart the services, hand the new value out (it is in {file.path}), then "
            f"`foro secrets rotate {variable.name} --finish --file {file.path}` drops the old ones"
        )
    return (
        f"{variable.name}: a new value added first, {len(values)} older one(s) still accepted. "
        + then
    )


def _rotate_with_previous(
    file: SecretsFile, variable: SecretVariable, finish: bool, yes: bool
) -> str:
    """A signing secret whose old values stay accepted for verification (badge QR codes)."""
    if finish:
        if not yes:
            raise fail(
                f"finishing drops the previous {variable.name} values: badges printed before the "
                "rotation stop scanning. Re-run with --yes once every badge in use is reprinted"
            )
        for key in variable.previous:
            file.values.pop(key, None)
        return f"{variable.name}: previous values dropped ({', '.join(variable.previous)})"
    old = file.values[variable.name]
    for key in variable.previous:
        previous = decode_list(file.values.get(key, "[]"))
        file.values[key] = encode_list([old, *[p for p in previous if p != old]])
    file.values[variable.name] = new_secret()
    return (
        f"{variable.name}: new value; the old one moved to {', '.join(variable.previous)} so "
        "badges already printed keep scanning. Restart the services; "
        f"`foro secrets rotate {variable.name} --finish --yes` drops it later"
    )


def _rotate_signing_key(file: SecretsFile, finish: bool, yes: bool) -> str:
    """The access tokens' key pair: a new signing key and id, its public key added beside the
    old ones (tokens already signed keep verifying); --finish drops every public key but the
    signing key's."""
    try:
        public_keys = parse_public_keys(file.values.get("FORO_AUTH_PUBLIC_KEYS") or "{}")
    except ValueError as error:
        raise fail(f"FORO_AUTH_PUBLIC_KEYS in {file.path}: {error}") from None
    encoded = {kid: encode_pem(pem) for kid, pem in public_keys.items()}
    current = file.values.get("FORO_AUTH_SIGNING_KEY_ID", "")
    if finish:
        old = sorted(kid for kid in encoded if kid != current)
        if not old:
            return "FORO_AUTH_PUBLIC_KEYS: only the signing key's public key, nothing to finish"
        if not yes:
            raise fail(
                f"finishing drops the public key(s) {', '.join(old)}: every token they signed "
                "stops working (staff sign in again; API tokens issued before the rotation must "
                "be issued anew). Re-run with --yes once the oldest of them has expired or been "
                "reissued"
            )
        keep = {kid: value for kid, value in encoded.items() if kid == current}
        file.values["FORO_AUTH_PUBLIC_KEYS"] = json.dumps(keep, separators=(",", ":"))
        return (
            f"FORO_AUTH_PUBLIC_KEYS: {', '.join(old)} dropped, {current} kept; restart every "
            "service to stop accepting tokens the old key(s) signed"
        )
    file.values |= generate_auth_keys(encoded)
    new = file.values["FORO_AUTH_SIGNING_KEY_ID"]
    return (
        f"FORO_AUTH_SIGNING_KEY: new key {new}; FORO_AUTH_PUBLIC_KEYS holds it beside "
        f"{', '.join(sorted(encoded)) or 'nothing'}, so tokens already signed keep working. "
        "Restart scheduling, expo, notification and reporting first (they learn the new public "
        "key), then registration (it signs with the new key). After the longest token lifetime "
        "(or once API tokens are reissued), `foro secrets rotate FORO_AUTH_SIGNING_KEY --finish "
        "--yes` drops the old public key(s)"
    )


def _rotate_single(file: SecretsFile, variable: SecretVariable, finish: bool, yes: bool) -> str:
    if finish:
        return f"{variable.name}: a single value has no rotation window, nothing to finish"
    if variable.rotating_breaks and not yes:
        raise fail(
            f"rotating {variable.name} ({variable.about}) means: {variable.rotating_breaks}. "
            "Re-run with --yes to do it"
        )
    if variable.kind == "url":
        file.values[variable.name] = _with_password(file.values[variable.name], new_secret())
        return f"{variable.name}: new password inside the URL. Now: {variable.rotating_breaks}"
    file.values[variable.name] = new_secret()
    consequence = f" Consequence: {variable.rotating_breaks}." if variable.rotating_breaks else ""
    return f"{variable.name}: new value; restart the services.{consequence}"


@app.command()
def rotate(
    name: Annotated[
        str,
        typer.Argument(
            help="The variable: FORO_API_TOKEN, FORO_AUTH_SIGNING_KEY, FORO_BADGE_SECRET, …"
        ),
    ],
    file: Annotated[
        Path,
        typer.Option(
            "--file", "-f", help="Env file or Kubernetes Secret manifest (.yaml) to change."
        ),
    ] = DEFAULT_FILE,
    finish: Annotated[
        bool,
        typer.Option(help="End a rotation: drop the old values a rotation kept accepted."),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm a rotation that invalidates what was issued.")
    ] = False,
) -> None:
    """Replace one secret. Lists (API tokens, webhook secrets, the link secret) keep the old values
    until --finish (the link secret's --finish, which invalidates the links they signed, needs
    --yes); the badge secret keeps its old value for verification; the access tokens' signing key
    keeps its old public key in FORO_AUTH_PUBLIC_KEYS until --finish --yes; a secret whose
    replacement breaks what uses it (broker and database passwords) needs --yes.
    """
    secrets_file = SecretsFile(file)
    variable = known_variable(name, local=secrets_file.local)
    if variable is None:
        known = ", ".join(v.name for v in LOCAL_VARIABLES) + ", FORO_BROKER_URL, …"
        raise fail(f"{name} is not a secret foro knows ({known})")
    if variable.kind == "provider":
        raise fail(f"{name} is issued by the provider: put its new value in the file yourself")
    if variable.kind == "derived":
        source = variable.follows or "FORO_AUTH_SIGNING_KEY"
        raise fail(f"{name} changes with {source}: `foro secrets rotate {source}`")
    if name not in secrets_file.values:
        raise fail(f"{name} is not in {file}")
    if variable.kind == "signing_key":
        outcome = _rotate_signing_key(secrets_file, finish, yes)
    elif variable.kind == "list":
        outcome = _rotate_list(secrets_file, variable, finish, yes)
    elif variable.previous:
        outcome = _rotate_with_previous(secrets_file, variable, finish, yes)
    else:
        outcome = _rotate_single(secrets_file, variable, finish, yes)
    secrets_file.save()
    console.print(outcome, highlight=False)
