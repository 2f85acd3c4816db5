"""notify.domain.rules: who gets which mail for each kind of transaction (RT's scrips)."""

from __future__ import annotations

import pytest

from services.notify.domain.rules import RULES, PlannedMail, QueueSettings, plan_notifications
from services.notify.domain.templates import DEFAULT_TEMPLATES
from shared.events.mail import LoopFacts
from shared.events.ticket import MailFacts, TicketTxnEvent
from tests.unit.factories import ACHATS, ACHATS_COMMENT, ALICE, message_info, snapshot
from tests.unit.notify_factories import (
    AGENT,
    BOSS,
    CHIEF,
    OWNER,
    SUPPLIER,
    WATCHER,
    commands,
    event,
    queue_with_watchers,
    watched,
)


def sent(event: TicketTxnEvent, settings: QueueSettings | None = None) -> dict[str, str]:
    """recipient → template, checking nobody gets two mails."""
    planned = plan_notifications(event, settings)
    recipients = [p.recipient for p in planned]
    assert len(recipients) == len(set(recipients)), recipients
    return {p.recipient: p.template for p in planned}


def mail_to(event: TicketTxnEvent, recipient: str) -> PlannedMail:
    [found] = [p for p in plan_notifications(event) if p.recipient == recipient]
    return found


# --- on create ----------------------------------------------------------------------------


def test_creation_acknowledges_the_requestors_and_copies_ccs_admins_and_owner() -> None:
    created = event("create", ticket=watched(), queue=queue_with_watchers())
    assert sent(created) == {
        ALICE: "autoreply",
        SUPPLIER: "correspondence",  # a Cc named at creation gets the creating message
        OWNER: "admin_correspondence",
        BOSS: "admin_correspondence",
        CHIEF: "admin_correspondence",  # the queue's AdminCc
    }  # the queue's Cc is not a Cc *named at creation*: it hears from the first reply on


def test_the_autoreply_is_an_automatic_reply_from_the_correspond_address() -> None:
    autoreply = mail_to(event("create"), ALICE)
    assert autoreply.reply is True
    assert autoreply.sent_as == "correspond"
    assert not autoreply.copy_of_message  # no attachments: an acknowledgement


def test_an_agent_who_opens_a_ticket_is_acknowledged_too() -> None:
    # The requestor is the author here: the autoreply tells them the ticket's number.
    created = event("create", ticket=snapshot(requestors=(AGENT,)), creator=AGENT)
    assert sent(created) == {AGENT: "autoreply"}


def test_ccs_already_in_the_mails_headers_do_not_get_the_message_twice() -> None:
    # The supplier was in the mail's Cc: they got it from the sender. The validator came
    # from an AddCc: command: they did not.
    validator = "validateur@example.org"
    created = event(
        "create",
        ticket=watched(ccs=(SUPPLIER, validator), owner="Nobody"),
        message=message_info(to=(ACHATS,), cc=(SUPPLIER,)),
    )
    assert sent(created) == {
        ALICE: "autoreply",
        validator: "correspondence",
        BOSS: "admin_correspondence",
    }


def test_an_admin_cc_in_the_mails_to_does_not_get_a_copy_either() -> None:
    created = event("create", ticket=watched(), message=message_info(to=(ACHATS, BOSS)))
    assert BOSS not in sent(created)


@pytest.mark.parametrize(
    "loop",
    [
        LoopFacts(auto_submitted=True),
        LoopFacts(bulk_or_list=True),
        LoopFacts(mailer_daemon=True),
        LoopFacts(our_loop=True),
    ],
    ids=["auto-submitted", "bulk-or-list", "mailer-daemon", "our-loop"],
)
def test_a_machine_gets_no_autoreply_but_the_team_still_hears_of_its_ticket(
    loop: LoopFacts,
) -> None:
    created = event("create", ticket=watched(), loop=loop)
    assert sent(created) == {
        SUPPLIER: "correspondence",
        OWNER: "admin_correspondence",
        BOSS: "admin_correspondence",
    }


@pytest.mark.parametrize("loop", [None, LoopFacts(), LoopFacts(reasons=("noted",))])
def test_a_person_is_acknowledged(loop: LoopFacts | None) -> None:
    assert sent(event("create", loop=loop)) == {ALICE: "autoreply"}


def test_no_autoreply_to_a_mailer_daemon_address_even_from_the_web() -> None:
    created = event("create", ticket=snapshot(requestors=("MAILER-DAEMON@example.net",)))
    assert sent(created) == {}


def test_a_ticket_without_requestors_acknowledges_nobody() -> None:
    assert sent(event("create", ticket=snapshot(requestors=()))) == {}


# --- on correspondence, comment ------------------------------------------------------------


def test_a_reply_goes_to_requestors_and_ccs_and_to_the_owner_and_admin_ccs() -> None:
    reply = event("correspond", ticket=watched(), queue=queue_with_watchers(), creator=AGENT)
    assert sent(reply) == {
        ALICE: "correspondence",
        SUPPLIER: "correspondence",
        WATCHER: "correspondence",  # the queue's Cc
        OWNER: "admin_correspondence",
        BOSS: "admin_correspondence",
        CHIEF: "admin_correspondence",
    }


def test_the_author_of_a_reply_gets_no_copy_of_it() -> None:
    quote = event("correspond", ticket=watched(), creator=SUPPLIER)
    assert sent(quote) == {
        ALICE: "correspondence",
        OWNER: "admin_correspondence",
        BOSS: "admin_correspondence",
    }


def test_a_queue_may_copy_authors_their_own_messages() -> None:
    quote = event("correspond", ticket=watched(), creator=SUPPLIER)
    assert sent(quote, QueueSettings(notify_actor=True))[SUPPLIER] == "correspondence"


def test_a_requestor_who_is_also_admin_cc_gets_one_mail_the_requestors() -> None:
    reply = event("correspond", ticket=watched(admin_ccs=(ALICE,)), creator=AGENT)
    assert sent(reply)[ALICE] == "correspondence"


def test_a_comment_goes_to_the_owner_and_admin_ccs_only_from_the_comment_address() -> None:
    comment = event("comment", ticket=watched(), queue=queue_with_watchers(), creator=AGENT)
    assert sent(comment) == {
        OWNER: "admin_comment",
        BOSS: "admin_comment",
        CHIEF: "admin_comment",
    }
    assert {p.sent_as for p in plan_notifications(comment)} == {"comment"}


def test_a_comment_on_a_ticket_without_owner_or_admin_ccs_reaches_nobody() -> None:
    comment = event("comment", ticket=watched(owner="Nobody", admin_ccs=()), creator=AGENT)
    assert sent(comment) == {}


def test_a_message_with_nothing_in_it_is_copied_to_nobody() -> None:
    # A mail that held only commands: its text was the commands, now outcomes.
    empty = event("correspond", ticket=watched(), message=message_info(text="", attachments=()))
    assert sent(empty) == {}


def test_a_message_with_only_a_file_is_copied() -> None:
    quote = event("correspond", ticket=watched(), message=message_info(text=""), creator=SUPPLIER)
    assert ALICE in sent(quote)


def test_our_own_addresses_never_get_mail() -> None:
    reply = event("correspond", ticket=watched(ccs=(ACHATS, ACHATS_COMMENT)), creator=AGENT)
    assert ACHATS not in sent(reply) and ACHATS_COMMENT not in sent(reply)


# --- status, owner, forward ---------------------------------------------------------------


def test_resolving_notifies_the_requestors() -> None:
    resolved = event(
        "status", ticket=watched(status="resolved"), creator=AGENT, message=None,
        old_value="open", new_value="resolved",
    )  # fmt: skip
    assert sent(resolved) == {ALICE: "resolved"}


@pytest.mark.parametrize("status", ["rejected", "stalled", "open", "deleted"])
def test_other_status_changes_send_nothing(status: str) -> None:
    changed = event("status", ticket=watched(), message=None, old_value="new", new_value=status)
    assert sent(changed) == {}


def test_giving_a_ticket_notifies_the_new_owner() -> None:
    given = event(
        "owner", ticket=watched(owner=OWNER), creator=AGENT, message=None,
        old_value="Nobody", new_value=OWNER, note="give",
    )  # fmt: skip
    assert sent(given) == {OWNER: "owner_given"}


@pytest.mark.parametrize("how", ["take", "steal", "untake"])
def test_taking_stealing_or_untaking_notifies_nobody(how: str) -> None:
    changed = event(
        "owner", ticket=watched(owner=AGENT), creator=AGENT, message=None,
        old_value=OWNER, new_value=AGENT if how != "untake" else "Nobody", note=how,
    )  # fmt: skip
    assert sent(changed) == {}


def test_giving_a_ticket_to_oneself_sends_nothing() -> None:
    given = event(
        "owner", ticket=watched(owner=AGENT), creator=AGENT, message=None,
        new_value=AGENT, note="give",
    )  # fmt: skip
    assert sent(given) == {}


def test_a_forward_goes_to_each_given_address_with_the_ticket() -> None:
    forward = event(
        "forward",
        ticket=watched(),
        creator=AGENT,
        new_value="compta@example.org, fret@example.com",
        message=message_info(to=("compta@example.org", "fret@example.com"), text="Pour info"),
    )
    assert sent(forward) == {"compta@example.org": "forward", "fret@example.com": "forward"}
    assert all(p.forwards_ticket for p in plan_notifications(forward))


def test_a_forward_without_message_uses_its_recorded_addresses() -> None:
    forward = event(
        "forward", creator=AGENT, message=None, new_value="a@example.org, b@example.org"
    )
    assert sent(forward) == {"a@example.org": "forward", "b@example.org": "forward"}


@pytest.mark.parametrize(
    "kind", ["set", "link", "unlink", "add_watcher", "del_watcher", "merge", "merged", "bounce"]
)
def test_other_transactions_send_nothing(kind: str) -> None:
    assert sent(event(kind, ticket=watched(), message=None)) == {}


# --- commands by mail -----------------------------------------------------------------------


def test_failed_commands_are_reported_to_the_sender_once() -> None:
    facts = commands(("Status: resolved", "refused", "you lack the right ModifyTicket"))
    reply = event("correspond", ticket=watched(), creator=AGENT, mail=facts)
    assert sent(reply)[AGENT] == "command_errors"
    assert mail_to(reply, AGENT).reply is True


def test_on_create_the_report_replaces_the_senders_autoreply() -> None:
    facts = commands(("AddCc: pas-une-adresse", "invalid", "not an address"))
    created = event("create", ticket=watched(requestors=(AGENT,)), creator=AGENT, mail=facts)
    assert sent(created)[AGENT] == "command_errors"


@pytest.mark.parametrize("outcome", ["applied", "unchanged"])
def test_commands_that_worked_are_not_reported(outcome: str) -> None:
    facts = commands(("AddCc: x@example.org", outcome, ""))
    reply = event("correspond", ticket=watched(), creator=AGENT, mail=facts)
    assert AGENT not in sent(reply)


def test_no_command_report_to_a_machine() -> None:
    facts = commands(("Status: resolved", "unknown", ""))
    reply = event(
        "correspond", ticket=watched(), creator=AGENT, mail=facts,
        loop=LoopFacts(auto_submitted=True),
    )  # fmt: skip
    assert AGENT not in sent(reply)


def test_a_mail_without_facts_reports_nothing() -> None:
    reply = event("correspond", ticket=watched(), creator=AGENT, mail=MailFacts(sender=AGENT))
    assert AGENT not in sent(reply)


# --- settings --------------------------------------------------------------------------------


def test_a_disabled_rule_sends_nothing_and_the_others_still_do() -> None:
    settings = QueueSettings(rules={"on_create_autoreply_to_requestors": False})
    assert sent(event("create", ticket=watched()), settings) == {
        SUPPLIER: "correspondence",
        OWNER: "admin_correspondence",
        BOSS: "admin_correspondence",
    }


def test_a_rule_may_be_enabled_explicitly() -> None:
    settings = QueueSettings(rules={"on_create_autoreply_to_requestors": True})
    assert sent(event("create"), settings) == {ALICE: "autoreply"}


def test_rules_have_unique_names_and_known_templates() -> None:
    assert len({r.name for r in RULES}) == len(RULES)
    assert {r.template for r in RULES} <= set(DEFAULT_TEMPLATES)
