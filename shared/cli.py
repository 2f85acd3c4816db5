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
from shared.rpc import notify as rpc_notify
from shared.rpc import tickets as rpc
from shared.settings import BaseServiceSettings

app = typer.Typer(help="Guichet operator commands.", no_args_is_help=True)
admin = typer.Typer(help="Administration through the tickets service.", no_args_is_help=True)
docs = typer.Typer(help="Generated documentation.", no_args_is_help=True)
dlq = typer.Typer(help="Dead-lettered messages: inspect and replay.", no_args_is_help=True)
notify = typer.Typer(
    help="Each queue's notification rules and mail templates (notify service).",
    no_args_is_help=True,
)
app.add_typer(admin, name="admin")
admin.add_typer(notify, name="notify")
app.add_typer(docs, name="docs")
app.add_typer(dlq, name="dlq")
search = typer.Typer(help="The search index (search service).", no_args_is_help=True)
app.add_typer(search, name="search")


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


def _show_queue_notifications(result: dict[str, Any]) -> None:
    view = rpc_notify.QueueNotifications.model_validate(result)
    typer.echo(f"queue {view.queue}: authors get their own messages: {view.notify_actor}")
    for rule in view.rules:
        state = "on " if rule.enabled else "off"
        default = "" if rule.enabled == rule.default_enabled else " (changed)"
        typer.echo(f"  {state} {rule.name:<42} {rule.template}{default}")
    customised = [f"{t.name}.{t.language}" for t in view.templates if t.customised]
    typer.echo(f"  templates changed: {', '.join(customised) or 'none'}")


@notify.command("show")
def notify_show(queue: str) -> None:
    """The rules of QUEUE (on or off) and which of its templates were changed."""
    [result] = _run([(rpc_notify.QUEUE_SETTINGS, {"actor": rpc.SYSTEM_ACTOR, "queue": queue})])
    _show_queue_notifications(result)


@notify.command("rule")
def notify_rule(
    queue: str,
    rule: str,
    enabled: Annotated[bool, typer.Option("--on/--off", help="switch the rule on or off")],
) -> None:
    """Switch RULE on or off for QUEUE (``show`` lists the rules)."""
    payload = {"actor": rpc.SYSTEM_ACTOR, "queue": queue, "rule": rule, "enabled": enabled}
    [result] = _run([(rpc_notify.SET_RULE, payload)])
    _show_queue_notifications(result)


@notify.command("template")
def notify_template(
    queue: str,
    template: str,
    language: Annotated[str, typer.Option(help="fr or en")] = "fr",
    subject: Annotated[str | None, typer.Option(help="Jinja2; the tag goes in front")] = None,
    body_file: Annotated[
        Path | None, typer.Option(exists=True, readable=True, help="Jinja2 body, plain text")
    ] = None,
    reset: Annotated[bool, typer.Option(help="back to the default template")] = False,
) -> None:
    """Replace (or --reset) one of QUEUE's templates in one language; print it."""
    ref = {"actor": rpc.SYSTEM_ACTOR, "queue": queue, "template": template, "language": language}
    if reset:
        call = (rpc_notify.RESET_TEMPLATE, ref)
    elif subject is not None and body_file is not None:
        call = (rpc_notify.SET_TEMPLATE, {**ref, "subject": subject, "body": body_file.read_text()})
    else:
        typer.echo("error: give --subject and --body-file, or --reset", err=True)
        raise typer.Exit(2)
    [result] = _run([call])
    view = rpc_notify.QueueNotifications.model_validate(result)
    [shown] = [t for t in view.templates if (t.name, t.language) == (template, language)]
    typer.echo(f"Subject: {shown.subject}\n\n{shown.body}")


@notify.command("options")
def notify_options(
    queue: str,
    notify_actor: Annotated[
        bool, typer.Option("--notify-actor/--no-notify-actor", help="authors get their own")
    ],
) -> None:
    """Whether the author of a transaction gets a copy of their own message on QUEUE."""
    payload = {"actor": rpc.SYSTEM_ACTOR, "queue": queue, "notify_actor": notify_actor}
    [result] = _run([(rpc_notify.SET_OPTIONS, payload)])
    _show_queue_notifications(result)


@notify.command("failing")
def notify_failing() -> None:
    """Addresses our mail could not reach (refused by the smarthost, or bounced)."""
    [result] = _run([(rpc_notify.FAILING_ADDRESSES, {"actor": rpc.SYSTEM_ACTOR})])
    for item in result:
        failing = rpc_notify.FailingAddress.model_validate(item)
        tickets = ", ".join(f"#{t}" for t in failing.tickets)
        typer.echo(
            f"{failing.address}  {failing.last_failed:%Y-%m-%d %H:%M}  {tickets}  {failing.reason}"
        )


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


@search.command("reindex")
def search_reindex(
    keep_old: Annotated[
        bool, typer.Option("--keep-old", help="Keep the replaced index (deleted by default).")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Discard what an interrupted rebuild left behind."),
    ] = False,
) -> None:
    """Rebuild the search index from the tickets service, then swap it in atomically:
    searches go on meanwhile, and nothing written during the rebuild is lost."""
    import sys

    from services.search.reindex import Progress, ReindexError, reindex
    from services.search.settings import SearchSettings

    def show(progress: Progress) -> None:
        tickets = f"{progress.tickets}/{progress.expected_tickets or '?'}"
        messages = f"{progress.messages}/{progress.expected_messages or '?'}"
        expected = progress.expected_tickets + progress.expected_messages
        done = progress.tickets + progress.messages
        share = f"{min(100, done * 100 // expected):3d}%" if expected else "   ?"
        width = 30
        bar = "#" * (width * min(done, expected) // expected if expected else 0)
        end = "\r" if sys.stderr.isatty() else "\n"
        typer.echo(
            f"[{bar:<{width}}] {share}  tickets {tickets}  messages {messages}  "
            f"files {progress.files}",
            err=True,
            nl=False,
        )
        typer.echo(end, err=True, nl=False)

    try:
        report = asyncio.run(reindex(SearchSettings(), show, keep_old=keep_old, force=force))
    except (ReindexError, UserError, ServiceUnavailableError) as exc:
        typer.echo(f"\nerror: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"\nindex {report.index} is live ({report.tickets} tickets, {report.messages} "
        f"messages, {report.files} files in {report.seconds} s)"
        + (f"; {report.replaced} {'kept' if keep_old else 'deleted'}" if report.replaced else "")
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
