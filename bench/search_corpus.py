"""Tickets for the search benchmark, made from a seed: purchasing requests in French (and
some English), with their whole history as the tickets service records it.

Every ticket's history is a list of ``Step``: one transaction and the ticket right after
it, built with the tickets service's own dataclasses (``Ticket``, ``Transaction``) and
moves (``status_after_correspondence``). ``store_docs`` turns a history into the documents
``MongoTicketStore`` writes for it (with its own ``ticket_to_doc`` and
``transaction_to_doc``), and ``event_of`` into the ``ticket.txn.*`` envelope the service
publishes (its ``ticket_event``). Everything but the dates is fixed by the seed and the
ticket's number; dates are laid out over the two years before ``Corpus.base`` (so the
dashboards' last 26 weeks are filled).
"""

from __future__ import annotations

import bisect
import hashlib
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from services.tickets.adapters.mongo_store import ticket_key, ticket_to_doc, transaction_to_doc
from services.tickets.domain.custom_fields import CustomFieldDefinition
from services.tickets.domain.lifecycle import status_after_correspondence
from services.tickets.domain.model import Queue, Ticket, Transaction
from services.tickets.service import ticket_event
from shared.events.envelope import Envelope
from shared.events.ticket import NOBODY, MailFacts, MessageInfo, Status

RTNAME = "example"
DOMAIN = "example.org"  # the organisation's own addresses (requestors, agents)
ADMIN = f"admin@{DOMAIN}"
CUSTOM_FIELD = "DEM_LOG"  # the purchase-request number (the dev seed's "DEM LOG")

QUEUES: tuple[Queue, ...] = (
    Queue(
        "achats",
        "achats@tickets.example.org",
        "achats-comment@tickets.example.org",
        description="Centrale d'achat",
        custom_fields=(CustomFieldDefinition(CUSTOM_FIELD),),
    ),
    Queue(
        "travaux",
        "travaux@tickets.example.org",
        "travaux-comment@tickets.example.org",
        description="Travaux et entretien des bâtiments",
    ),
    Queue(
        "informatique",
        "informatique@tickets.example.org",
        "informatique-comment@tickets.example.org",
        description="Matériel et logiciels",
    ),
)
QUEUE_WEIGHTS = (60, 25, 15)
QUEUE_BY_NAME = {q.name: q for q in QUEUES}

# The final status of a ticket, and how many messages follow its creation.
FINAL_STATUSES: tuple[Status, ...] = ("new", "open", "stalled", "resolved", "rejected")
FINAL_WEIGHTS = (10, 15, 5, 60, 10)

FIRST = [
    "camille",
    "louis",
    "emma",
    "hugo",
    "lea",
    "lucas",
    "chloe",
    "jules",
    "manon",
    "arthur",
    "ines",
    "paul",
    "sarah",
    "theo",
    "julie",
    "nicolas",
    "claire",
    "antoine",
    "marie",
    "pierre",
    "sophie",
    "thomas",
    "anne",
    "julien",
    "laura",
    "vincent",
    "elise",
    "mathieu",
    "celine",
    "olivier",
]
LAST = [
    "martin",
    "bernard",
    "dubois",
    "thomas",
    "robert",
    "richard",
    "petit",
    "durand",
    "leroy",
    "moreau",
    "simon",
    "laurent",
    "lefebvre",
    "michel",
    "garcia",
    "david",
    "bertrand",
    "roux",
    "vincent",
    "fournier",
    "morel",
    "girard",
    "andre",
    "mercier",
    "dupont",
    "lambert",
    "bonnet",
    "francois",
    "martinez",
    "legrand",
    "garnier",
    "faure",
    "rousseau",
    "blanc",
    "guerin",
    "muller",
    "henry",
    "roussel",
    "nicolas",
    "perrin",
    "morin",
    "mathieu",
    "clement",
    "gauthier",
    "dumont",
    "lopez",
]
SUPPLIER_NAMES = [
    "bureautique-services",
    "mobilier-pro",
    "office-direct",
    "techno-distribution",
    "lumen-batiment",
    "clim-expert",
    "reseaux-plus",
    "papeterie-centrale",
    "atelier-serrurerie",
    "ergo-bureau",
    "info-solutions",
    "print-partner",
    "datastore",
    "cablage-ouest",
    "securite-acces",
]
SUPPLIER_TLDS = ("fr", "com", "eu", "fr", "fr")
SITES = [
    "Lyon",
    "Paris",
    "Nantes",
    "Lille",
    "Bordeaux",
    "Marseille",
    "Rennes",
    "Toulouse",
    "Grenoble",
    "Strasbourg",
]
TEAMS = (
    "comptabilité",
    "ressources humaines",
    "direction",
    "logistique",
    "informatique",
    "accueil",
    "recherche",
    "communication",
)
# (French, English) per queue
PRODUCTS: dict[str, tuple[tuple[str, str], ...]] = {
    "achats": (
        ("écrans 27 pouces", "27-inch monitors"),
        ("ordinateurs portables", "laptops"),
        ("stations d'accueil", "docking stations"),
        ("chaises ergonomiques", "ergonomic chairs"),
        ("bureaux réglables", "standing desks"),
        ("cartouches d'encre", "ink cartridges"),
        ("ramettes de papier", "paper reams"),
        ("imprimantes multifonctions", "multifunction printers"),
        ("vidéoprojecteurs", "projectors"),
        ("casques audio", "headsets"),
        ("armoires métalliques", "steel cabinets"),
        ("fournitures de bureau", "office supplies"),
    ),
    "travaux": (
        ("portes coupe-feu", "fire doors"),
        ("luminaires LED", "LED fixtures"),
        ("climatiseurs", "air conditioners"),
        ("cloisons amovibles", "partition walls"),
        ("serrures électroniques", "electronic locks"),
        ("stores occultants", "blackout blinds"),
        ("revêtements de sol", "floor coverings"),
        ("radiateurs", "radiators"),
    ),
    "informatique": (
        ("licences logicielles", "software licences"),
        ("serveurs de stockage", "storage servers"),
        ("disques SSD", "SSD drives"),
        ("commutateurs réseau", "network switches"),
        ("bornes wifi", "wifi access points"),
        ("onduleurs", "UPS units"),
        ("écrans tactiles", "touch screens"),
        ("webcams", "webcams"),
    ),
}
SUBJECTS_FR = (
    "Demande de devis : {q} {p}",
    "Commande {po} – {p}",
    "Facture {inv} en attente de paiement",
    "Livraison de {p} sur le site de {s}",
    "Renouvellement du contrat de maintenance ({p})",
    "Réclamation : {p} non conformes",
    "Demande d'achat {dem} pour l'équipe {t}",
    "Devis {ref} : {q} {p}",
)
SUBJECTS_EN = (
    "Quotation request: {q} {p}",
    "Purchase order {po} – {p}",
    "Invoice {inv} overdue",
    "Delivery of {p} to {s}",
)
SENTENCES_FR = (
    "Pourriez-vous nous transmettre un devis pour {q} {p} ?",
    "Merci de nous faire parvenir le bon de commande signé avant le {d}.",
    "Le bon de commande {po} a été transmis au fournisseur {f}.",
    "Nous avons bien reçu votre devis {ref} du {d} pour {q} {p}.",
    "La livraison est prévue sur le site de {s} la semaine prochaine.",
    "Le montant hors taxes s'élève à {a} euros, remise de {c} % incluse.",
    "La facture {inv} reste en attente de validation par la comptabilité.",
    "Pouvez-vous confirmer la référence exacte du modèle {m} ?",
    "Le délai annoncé est de {n} jours ouvrés après réception de la commande.",
    "Je relance le fournisseur qui n'a pas encore répondu à notre demande.",
    "La demande d'achat {dem} a été validée par la direction.",
    "Les {p} livrés ne correspondent pas à la commande, merci de reprendre contact avec le "
    "transporteur.",
    "Le budget de l'équipe {t} ne permet pas de dépasser {a} euros cette année.",
    "Merci d'ajouter la garantie sur site de trois ans au devis.",
    "Nous souhaitons renouveler le contrat de maintenance des {p}.",
    "Le marché en cours impose de passer par la centrale d'achat pour les {p}.",
    "Vous trouverez en pièce jointe le catalogue tarifaire et les conditions générales de vente.",
    "Le paiement sera effectué à trente jours fin de mois à réception de la facture.",
    "L'équipe {t} attend ces {p} pour l'arrivée de nouveaux collègues le {d}.",
    "Pouvez-vous nous indiquer si le bon de commande peut être scindé en deux livraisons ?",
    "Le fournisseur {f} propose un modèle équivalent, le {m}, livrable sous {n} jours.",
    "Merci de préciser l'adresse de livraison et le nom de la personne à contacter sur place.",
    "Un avoir de {a} euros sera émis sur la prochaine facture.",
    "Le colis est arrivé endommagé à {s}, des photos sont jointes à ce message.",
    "Nous validons le devis {ref} et attendons la confirmation de commande.",
    "Pour rappel, toute commande au-delà de {a} euros nécessite trois devis comparatifs.",
)
SENTENCES_EN = (
    "Please find attached our quotation {ref} for {q} {p}.",
    "Delivery is expected within {n} business days after the purchase order.",
    "Could you confirm the shipping address and the invoicing contact?",
    "The unit price includes a {c}% discount for orders above {q} units.",
    "We are out of stock on the {m} model; a replacement can ship next week.",
    "The purchase order {po} has been received and is being processed.",
    "Invoice {inv} is still unpaid, could you check with your accounting department?",
    "Our technician can install the {p} on site in {s} on {d}.",
    "The warranty covers parts and labour for three years.",
    "Let me know if you need anything else regarding this order.",
)
GREETINGS_FR = ("Bonjour,", "Bonjour Madame, Monsieur,", "Bonjour à tous,", "Bonsoir,")
GREETINGS_EN = ("Hello,", "Dear customer,", "Good morning,")
CLOSINGS_FR = ("Cordialement,", "Bien cordialement,", "Merci d'avance,", "Bonne journée,")
CLOSINGS_EN = ("Best regards,", "Kind regards,", "Thanks,")
QUANTITIES = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 100)


def _name(address: str) -> str:
    local = address.split("@", 1)[0]
    return " ".join(part.capitalize() for part in local.split("."))


@dataclass
class Step:
    """One transaction of a ticket's history, with the ticket right after it."""

    txn: Transaction
    after: Ticket
    idem_key: str


@dataclass
class Corpus:
    seed: int
    base: datetime  # the newest ticket is created just before this
    tickets: int  # the number of the last ticket of the main load
    span: timedelta = timedelta(days=730)
    requestors: list[str] = field(default_factory=list)
    requestor_cum: list[float] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    suppliers: list[str] = field(default_factory=list)

    @classmethod
    def make(cls, seed: int, tickets: int, base: datetime, people: int = 4000) -> Corpus:
        rng = random.Random(f"people:{seed}")
        corpus = cls(seed=seed, base=base, tickets=tickets)
        names = sorted({f"{f}.{last}" for f in FIRST for last in LAST})
        rng.shuffle(names)
        corpus.agents = [f"{n}@{DOMAIN}" for n in names[:12]]
        corpus.requestors = [f"{n}@{DOMAIN}" for n in names[12 : 12 + people]]
        # A few people ask a lot, most rarely (Zipf-like weights).
        total = 0.0
        for rank in range(len(corpus.requestors)):
            total += 1.0 / (rank + 10)
            corpus.requestor_cum.append(total)
        corpus.suppliers = [
            f"{who}@{name}.{rng.choice(SUPPLIER_TLDS)}"
            for name in SUPPLIER_NAMES
            for who in ("commercial", "contact", "adv", "support")
        ]
        return corpus

    def users(self) -> list[dict[str, Any]]:
        """The users documents: the administrator, the agents, everyone who wrote."""
        now = self.base
        docs = [
            {
                "_id": ADMIN,
                "name": "Administrateur",
                "privileged": True,
                "is_admin": True,
                "language": "fr",
                "groups": [],
                "created": now,
            }
        ]
        docs += [
            {
                "_id": a,
                "name": _name(a),
                "privileged": True,
                "is_admin": False,
                "language": "fr",
                "groups": ["achats"],
                "created": now,
            }
            for a in self.agents
        ]
        # as ``ensure_user`` makes an unknown sender
        docs += [
            {"_id": a, "privileged": False, "is_admin": False, "created": now, "name": ""}
            for a in [*self.requestors, *self.suppliers]
        ]
        return docs

    def created_at(self, number: int, rng: random.Random) -> datetime:
        """Tickets are created in the order of their numbers, over ``span``."""
        step = self.span / max(self.tickets, 1)
        at = self.base - self.span + step * (number - 1) + step * rng.random()
        return min(at, self.base).replace(microsecond=at.microsecond // 1000 * 1000)

    def _requestor(self, rng: random.Random) -> str:
        x = rng.random() * self.requestor_cum[-1]
        return self.requestors[bisect.bisect_left(self.requestor_cum, x)]

    # --- text -------------------------------------------------------------------------
    @staticmethod
    def _slots(rng: random.Random, product: str, supplier: str) -> dict[str, Any]:
        day = rng.randint(1, 28)
        month = rng.randint(1, 12)
        return {
            "q": rng.choice(QUANTITIES),
            "p": product,
            "d": f"{day:02d}/{month:02d}/2026",
            "s": rng.choice(SITES),
            "t": rng.choice(TEAMS),
            "f": supplier.split("@", 1)[1].split(".", 1)[0],
            "a": f"{rng.randint(150, 95_000):,}".replace(",", " "),
            "c": rng.choice((5, 8, 10, 12, 15, 20)),
            "n": rng.choice((3, 5, 7, 10, 15, 21, 30)),
            "m": f"{rng.choice('XKLPZ')}{rng.choice('ABCRT')}-{rng.randint(100, 999)}",
            "ref": f"DV-{rng.randint(10_000, 99_999)}",
            "po": f"BC-2026-{rng.randint(10_000, 99_999)}",
            "inv": f"FA{rng.randint(100_000, 999_999)}",
            "dem": f"DEM-{rng.randint(100_000, 999_999)}",
        }

    def text(
        self,
        rng: random.Random,
        *,
        english: bool,
        product: tuple[str, str],
        supplier: str,
        signer: str,
        quote: str | None = None,
        word: str | None = None,
    ) -> str:
        """A message of 300 to 1,500 characters (its quote aside)."""
        target = rng.randint(300, 1500)
        sentences = SENTENCES_EN if english else SENTENCES_FR
        own = product[1 if english else 0]
        lines = [rng.choice(GREETINGS_EN if english else GREETINGS_FR), ""]
        size = 0
        paragraph: list[str] = []
        if word is not None:
            paragraph.append(f"Référence interne {word}.")
        while size < target:
            thing = own if rng.random() < 0.7 else rng.choice(PRODUCTS["achats"])[english]
            sentence = rng.choice(sentences).format(**self._slots(rng, thing, supplier))
            paragraph.append(sentence)
            size += len(sentence) + 1
            if len(paragraph) >= rng.randint(2, 4):
                lines += [" ".join(paragraph), ""]
                paragraph = []
        if paragraph:
            lines += [" ".join(paragraph), ""]
        lines += [rng.choice(CLOSINGS_EN if english else CLOSINGS_FR), _name(signer)]
        if quote:
            quoted = [f"> {line}" if line else ">" for line in quote.splitlines()[:6]]
            lines += ["", "Le message précédent :", *quoted]
        return "\n".join(lines)

    # --- histories -----------------------------------------------------------------------
    def history(
        self, number: int, *, created: datetime | None = None, word: str | None = None
    ) -> list[Step]:
        """The transactions of ticket ``number``; ``word`` goes in its first message."""
        rng = random.Random(f"{self.seed}:{number}")
        created = created or self.created_at(number, rng)
        queue = rng.choices(QUEUES, weights=QUEUE_WEIGHTS)[0]
        final: Status = "new" if word else rng.choices(FINAL_STATUSES, weights=FINAL_WEIGHTS)[0]
        english = rng.random() < 0.1
        product = rng.choice(PRODUCTS[queue.name])
        supplier = rng.choice(self.suppliers)
        who = [self._requestor(rng)]
        if rng.random() < 0.1:
            who.append(self._requestor(rng))
        requestors = tuple(dict.fromkeys(who))
        ccs = (supplier,) if queue.name == "achats" and rng.random() < 0.5 else ()
        fields: tuple[tuple[str, str], ...] = ()
        if queue.name == "achats" and rng.random() < 0.4:
            fields = ((CUSTOM_FIELD, str(rng.randint(100_000, 999_999))),)
        slots = self._slots(rng, product[1 if english else 0], supplier)
        subject = rng.choice(SUBJECTS_EN if english else SUBJECTS_FR).format(**slots)
        if word:
            subject = f"{subject} ({word})"
        agent = rng.choice(self.agents)

        def txn_id() -> str:
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))

        def mail_key(seq: int) -> str:
            return hashlib.sha256(f"{self.seed}:{number}:{seq}:{word}".encode()).hexdigest()

        def message_id() -> str:
            return f"<{rng.getrandbits(64):016x}.{number}@{DOMAIN}>"

        first_text = self.text(
            rng,
            english=english,
            product=product,
            supplier=supplier,
            signer=requestors[0],
            word=word,
        )
        first_mid = message_id()
        ticket = Ticket(
            id=number,
            queue=queue.name,
            subject=subject,
            status="new",
            created=created,
            updated=created,
            version=1,
            requestors=requestors,
            ccs=ccs,
            priority=rng.choice((0, 0, 0, 0, 1, 2, 3)),
            message_ids=(first_mid,),
            custom_fields=fields,
        )
        create = Transaction(
            id=txn_id(),
            ticket=number,
            seq=1,
            type="create",
            creator=requestors[0],
            created=created,
            message=MessageInfo(
                message_id=first_mid,
                subject=subject,
                from_address=requestors[0],
                to=(queue.correspond_address,),
                cc=ccs,
                text=first_text,
                headers={"Date": format_datetime(created)},
            ),
            mail=MailFacts(sender=requestors[0]),
        )
        steps = [Step(create, ticket, mail_key(1))]
        if word:
            return steps

        if final == "new":
            kinds = ["requestor"] * rng.choice((0, 1, 1))
        elif final == "rejected":
            kinds = ["agent"] * rng.choice((0, 1, 1, 2))
        else:
            count = rng.choices((1, 2, 3, 4), weights=(25, 35, 22, 18))[0]
            if final == "stalled":
                count = max(count, 2)
            kinds = [
                "agent",
                *rng.choices(
                    ("agent", "supplier", "requestor", "comment"),
                    weights=(40, 25, 15, 20),
                    k=count - 1,
                ),
            ]
        at = created
        last_text = first_text
        for kind in kinds:
            at = min(at + timedelta(seconds=rng.expovariate(1 / 150_000) + 60), self.base)
            at = max(at, ticket.updated + timedelta(milliseconds=1))
            at = at.replace(microsecond=at.microsecond // 1000 * 1000)
            seq = ticket.version + 1
            by_agent = kind in ("agent", "comment")
            author = {"agent": agent, "comment": agent, "supplier": supplier}.get(
                kind, requestors[0]
            )
            text = self.text(
                rng,
                english=english or (kind == "supplier" and rng.random() < 0.25),
                product=product,
                supplier=supplier,
                signer=author,
                quote=last_text if rng.random() < 0.3 else None,
            )
            changes: dict[str, Any] = {}
            if kind != "comment":
                status = status_after_correspondence(ticket.status, by_agent=by_agent)
                if status != ticket.status:
                    changes["status"] = status
            if by_agent and ticket.owner == NOBODY:
                changes["owner"] = agent  # the agent who answers takes the ticket
            mid = None if by_agent else message_id()
            if mid:
                changes["message_ids"] = (*ticket.message_ids, mid)
            ticket = ticket.with_changes(at, **changes)
            kind_type = "comment" if kind == "comment" else "correspond"
            to = (
                requestors
                if kind == "agent"
                else (queue.comment_address if kind == "comment" else queue.correspond_address,)
            )
            txn = Transaction(
                id=txn_id(),
                ticket=number,
                seq=seq,
                type=kind_type,
                creator=author,
                created=at,
                message=MessageInfo(
                    message_id=mid,
                    subject=f"Re: {subject}",
                    from_address=author,
                    to=to,
                    text=text,
                    headers={"Date": format_datetime(at)} if mid else {},
                ),
                mail=MailFacts(sender=author) if mid else None,
            )
            key = mail_key(seq) if mid else f"command:{uuid.UUID(int=rng.getrandbits(128))}"
            steps.append(Step(txn, ticket, key))
            last_text = text
        if final != ticket.status and final != "new":
            at = min(at + timedelta(seconds=rng.expovariate(1 / 200_000) + 60), self.base)
            at = max(at, ticket.updated + timedelta(milliseconds=1))
            at = at.replace(microsecond=at.microsecond // 1000 * 1000)
            changes = {"status": final}
            if final == "resolved":
                changes["resolved"] = at
            old = ticket.status
            ticket = ticket.with_changes(at, **changes)
            txn = Transaction(
                id=txn_id(),
                ticket=number,
                seq=ticket.version,
                type="status",
                creator=agent,
                created=at,
                old_value=old,
                new_value=final,
            )
            steps.append(Step(txn, ticket, f"command:{uuid.UUID(int=rng.getrandbits(128))}"))
        return steps


def event_of(step: Step) -> Envelope[Any]:
    """The envelope the tickets service publishes for this transaction."""
    return ticket_event(
        step.after,
        step.txn,
        QUEUE_BY_NAME[step.after.queue],
        RTNAME,
        correlation_id=f"bench-{step.txn.id}",
    )


def store_docs(steps: Sequence[Step], events: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """What ``MongoTicketStore`` holds once these transactions are recorded and published:
    the transaction documents and their bodies (``insert_transaction``), the ticket
    (``apply_projection``), the keys (``remember_idem_key``, ``remember_place``,
    ``remember_message_id``) and the ticket number's reservation (``reserve_ticket_id``)."""
    docs: dict[str, list[Any]] = {
        "transactions": [],
        "transaction_bodies": [],
        "tickets": [],
        "places": [],
        "idem_keys": [],
        "message_ids": [],
        "ticket_numbers": [],
        "ticket_number_keys": [],
    }
    for step, event in zip(steps, events, strict=True):
        txn, after = step.txn, step.after
        doc = transaction_to_doc(txn)
        doc["idem_key"] = step.idem_key
        docs["transactions"].append(doc)
        docs["transaction_bodies"].append(
            {"_id": txn.id, "ticket_after": ticket_to_doc(after), "event": event}
        )
        docs["places"].append({"_id": f"{txn.ticket}:{txn.seq}", "txn": txn.id})
        docs["idem_keys"].append({"_id": step.idem_key, "txn": txn.id})
        if txn.message is not None and txn.message.message_id:
            docs["message_ids"].append({"_id": txn.message.message_id, "ticket": txn.ticket})
        if txn.seq == 1:
            docs["ticket_numbers"].append({"_id": ticket_key(txn.ticket), "key": step.idem_key})
            docs["ticket_number_keys"].append({"_id": step.idem_key, "number": txn.ticket})
    if steps:
        docs["tickets"].append(ticket_to_doc(steps[-1].after))
    return docs


def now_minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)
