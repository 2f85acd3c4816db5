"""``guichet``: the operator's command line (seed, administration, AsyncAPI documents)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from shared.errors import ServiceUnavailableError, UserError
from shared.messaging import RpcClient
from shared.rpc import tickets as rpc
from shared.settings import BaseServiceSettings

app = typer.Typer(help="Guichet operator commands.", no_args_is_help=True)
admin = typer.Typer(help="Administration through the tickets service.", no_args_is_help=True)
docs = typer.Typer(help="Generated documentation.", no_args_is_help=True)
dlq = typer.Typer(help="Dead-lettered messages: inspect and replay.", no_args_is_help=True)
app.add_typer(admin, name="admin")
app.add_typer(docs, name="docs")
app.add_typer(dlq, name="dlq")


def _run(calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Send the calls; a refusal or an outage ends the command with one clear line."""
    try:
        return asyncio.run(_call_all(calls))
    except (UserError, ServiceUnavailableError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


async def _call_all(calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    settings = BaseServiceSettings()
    client = RpcClient(settings.broker_url, timeout=settings.rpc_timeout_seconds, name="cli")
    await client.start()
    try:
        return [await client.call(name, payload) for name, payload in calls]
    finally:
        await client.stop()


def seed_calls(seed: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The RPC commands that apply a seed file (instance, then users, then queues)."""
    actor = {"actor": rpc.SYSTEM_ACTOR}
    calls: list[tuple[str, dict[str, Any]]] = []
    instance = seed.get("instance") or {}
    if instance:
        calls.append((rpc.ADMIN_SET_INSTANCE, {**actor, **instance}))
    calls += [(rpc.ADMIN_UPSERT_USER, {**actor, **u}) for u in seed.get("users", [])]
    calls += [(rpc.ADMIN_UPSERT_QUEUE, {**actor, **q}) for q in seed.get("queues", [])]
    return calls


@admin.command("seed")
def seed(path: Annotated[Path, typer.Argument(exists=True, readable=True)]) -> None:
    """Apply a seed file (YAML: instance, users, queues); safe to run again."""
    data = yaml.safe_load(path.read_text()) or {}
    calls = seed_calls(data)
    for (name, _), result in zip(calls, _run(calls), strict=True):
        typer.echo(f"{name}: {json.dumps(result, ensure_ascii=False)}")


@admin.command("user")
def user(
    email: str,
    name: Annotated[str, typer.Option()] = "",
    password: Annotated[str | None, typer.Option(help="sets it (hashed with argon2)")] = None,
    privileged: Annotated[bool, typer.Option(help="an agent")] = False,
    admin_: Annotated[bool, typer.Option("--admin", help="a system administrator")] = False,
    group: Annotated[list[str] | None, typer.Option(help="repeat for several groups")] = None,
    language: Annotated[str, typer.Option()] = "fr",
) -> None:
    """Create or update a user (email is the login)."""
    payload = {
        "actor": rpc.SYSTEM_ACTOR,
        "email": email,
        "name": name,
        "password": password,
        "privileged": privileged,
        "is_admin": admin_,
        "groups": group or [],
        "language": language,
    }
    [result] = _run([(rpc.ADMIN_UPSERT_USER, payload)])
    typer.echo(json.dumps(result))


@admin.command("queue")
def queue(
    name: str,
    correspond: Annotated[str, typer.Option(help="the queue's address")],
    comment: Annotated[str, typer.Option(help="its comment address")],
    language: Annotated[str, typer.Option()] = "fr",
    description: Annotated[str, typer.Option()] = "",
    custom_field: Annotated[
        list[str] | None, typer.Option(help="NAME or NAME:date or NAME:select=a|b")
    ] = None,
    ccs_from_create: Annotated[
        bool, typer.Option(help="the Ccs of a ticket's first mail become its Ccs")
    ] = True,
    ccs_from_replies: Annotated[
        bool, typer.Option(help="the Ccs of later replies become Ccs too")
    ] = False,
    unknown_sender: Annotated[
        str, typer.Option(help="a reply from someone not on the ticket: accept or comment")
    ] = "accept",
    commands_need_authentication: Annotated[
        bool, typer.Option(help="obey commands by mail only in DMARC/DKIM/SPF-passing mail")
    ] = False,
) -> None:
    """Create or update a queue, its addresses, custom fields and mail policies."""
    fields = []
    for spec in custom_field or []:
        field_name, _, kind = spec.partition(":")
        kind, _, values = kind.partition("=")
        fields.append(
            {
                "name": field_name,
                "type": kind or "text",
                "values": [v for v in values.split("|") if v],
            }
        )
    payload = {
        "actor": rpc.SYSTEM_ACTOR,
        "name": name,
        "correspond_address": correspond,
        "comment_address": comment,
        "language": language,
        "description": description,
        "custom_fields": fields,
        "ccs_from_create": ccs_from_create,
        "ccs_from_replies": ccs_from_replies,
        "unknown_sender": unknown_sender,
        "commands_need_authentication": commands_need_authentication,
    }
    [result] = _run([(rpc.ADMIN_UPSERT_QUEUE, payload)])
    typer.echo(json.dumps(result))


def _grant_payload(right: str, to: str, queue: str | None) -> dict[str, Any]:
    kind, _, name = to.partition(":")
    return {"actor": rpc.SYSTEM_ACTOR, "right": right, "kind": kind, "name": name, "queue": queue}


@admin.command("grant")
def grant(
    right: str,
    to: Annotated[
        str, typer.Option(help="everyone, privileged, group:NAME, role:NAME, user:EMAIL")
    ],
    queue: Annotated[str | None, typer.Option(help="only on this queue")] = None,
) -> None:
    """Give RIGHT (e.g. ModifyTicket) to a principal, on one queue or on all."""
    [result] = _run([(rpc.ADMIN_GRANT, _grant_payload(right, to, queue))])
    typer.echo(json.dumps(result))


@admin.command("revoke")
def revoke(
    right: str,
    to: Annotated[
        str, typer.Option(help="everyone, privileged, group:NAME, role:NAME, user:EMAIL")
    ],
    queue: Annotated[str | None, typer.Option(help="only on this queue")] = None,
) -> None:
    """Take RIGHT back from a principal."""
    [result] = _run([(rpc.ADMIN_REVOKE, _grant_payload(right, to, queue))])
    typer.echo(json.dumps(result))


@admin.command("grants")
def grants() -> None:
    """List the rights granted on this instance."""
    [result] = _run([(rpc.ADMIN_LIST_GRANTS, {"actor": rpc.SYSTEM_ACTOR})])
    for g in result:
        who = g["kind"] + (f":{g['name']}" if g["name"] else "")
        typer.echo(f"{g['right']:<20} {who:<30} {g['queue'] or '(every queue)'}")


@docs.command("asyncapi")
def asyncapi(out_dir: Annotated[Path, typer.Option("--out")] = Path("docs/asyncapi")) -> None:
    """Write the AsyncAPI document of every service, generated from its FastStream broker."""
    from shared.asyncapi_docs import write_all

    for path in write_all(out_dir):
        typer.echo(str(path))


@dlq.command("show")
def dlq_show(queue: str, limit: Annotated[int, typer.Option()] = 20) -> None:
    """Count the messages parked for QUEUE (e.g. guichet.tickets.mail) and show the first."""
    from shared.dead_letters import inspect

    count, letters = asyncio.run(inspect(BaseServiceSettings().broker_url, queue, limit))
    typer.echo(f"{count} message(s) in the dead-letter queue of {queue}")
    for letter in letters:
        typer.echo(f"- {letter.message_id} after {letter.attempts} attempt(s): {letter.error}")


@dlq.command("replay")
def dlq_replay(queue: str, limit: Annotated[int | None, typer.Option()] = None) -> None:
    """Send QUEUE's dead-lettered messages back to it (after the cause is mended)."""
    from shared.dead_letters import replay

    moved = asyncio.run(replay(BaseServiceSettings().broker_url, queue, limit))
    typer.echo(f"{moved} message(s) sent back to {queue}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
