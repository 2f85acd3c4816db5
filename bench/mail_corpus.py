"""The mails of the ``mail`` benchmark, made here from a seed: text mails of mixed sizes and,
for a share of them, a supplier's quote as a ~200 KB PDF.

Everything that matters to the cost of a mail (sizes, bodies, which mails carry a PDF, the
PDF's bytes) comes from the seed alone. Only the run's tag (in the addresses, the subject
and the Message-ID) changes at every run: Guichet acts once per identical mail, so a second
run of the same bytes would create nothing.
"""

from __future__ import annotations

import math
import random
import textwrap
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

from tests.support_documents import assemble_pdf

QUEUE_ADDRESS = "achats@tickets.example.org"
REQUESTOR_DOMAIN = "bench.example.net"
TEXT_MIN_BYTES = 1_000
TEXT_MAX_BYTES = 60_000
PDF_BYTES = 200 * 1024
PDF_COVER_MAX_BYTES = 4_000  # the short text that comes with a quote

_VOCABULARY = (
    "bonjour merci demande devis commande livraison facture fournisseur écran clavier souris "
    "ordinateur portable licence logiciel maintenance contrat garantie délai budget service "
    "direction comptabilité achat référence quantité prix remise conditions paiement trente "
    "jours fin mois transport installation matériel bureau réunion projet équipe urgent "
    "semaine prochaine possible validation bon pour accord signature pièce jointe catalogue "
    "tarif annuel renouvellement abonnement support imprimante cartouche papier mobilier "
    "chaise lampe câble adaptateur station accueil réseau serveur stockage disque mémoire "
    "sauvegarde sécurité formation utilisateur site agence Lyon Paris Nantes Lille le la les "
    "un une des du de pour avec sans sur dans par nous vous est sont avons cordialement"
)
_WORDS = tuple(_VOCABULARY.split())
TOPICS = (
    "écrans pour le service comptable",
    "renouvellement des licences",
    "devis mobilier de bureau",
    "commande de cartouches",
    "portables pour les nouveaux arrivants",
    "contrat de maintenance des imprimantes",
)


@dataclass(frozen=True)
class BenchMail:
    index: int
    requestor: str
    raw: bytes
    has_pdf: bool


def make_mails(count: int, *, seed: int, pdf_share: float, run_tag: str) -> list[BenchMail]:
    """``count`` mails to the queue; exactly ``round(count * pdf_share)`` carry a PDF."""
    rng = random.Random(seed)
    with_pdf = set(rng.sample(range(count), round(count * pdf_share)))
    sent_at = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    mails = []
    for i in range(count):
        requestor = f"bench-{run_tag}-{i:04d}@{REQUESTOR_DOMAIN}"
        msg = EmailMessage()
        msg["From"] = requestor
        msg["To"] = QUEUE_ADDRESS
        msg["Subject"] = f"Demande {run_tag} n°{i} : {rng.choice(TOPICS)}"
        msg["Date"] = format_datetime(sent_at + timedelta(seconds=i))
        msg["Message-ID"] = f"<bench-{run_tag}-{i:04d}@{REQUESTOR_DOMAIN}>"
        if i in with_pdf:
            msg.set_content(french_text(rng, rng.randint(300, PDF_COVER_MAX_BYTES), run_tag))
            msg.add_attachment(
                fake_pdf(rng, f"Devis {i:04d}", PDF_BYTES),
                maintype="application",
                subtype="pdf",
                filename=f"devis-{i:04d}.pdf",
            )
        else:
            # Log-uniform: many short mails, a few long ones, as in a real mailbox.
            size = math.exp(rng.uniform(math.log(TEXT_MIN_BYTES), math.log(TEXT_MAX_BYTES)))
            msg.set_content(french_text(rng, int(size), run_tag))
        mails.append(BenchMail(i, requestor, msg.as_bytes(policy=SMTP_POLICY), i in with_pdf))
    return mails


def french_text(rng: random.Random, target_bytes: int, run_tag: str) -> str:
    """French-looking paragraphs of about ``target_bytes`` (UTF-8) naming the run's tag."""
    paragraphs = ["Bonjour,", f"Je vous écris au sujet du dossier {run_tag}."]
    size = sum(len(p.encode()) + 2 for p in paragraphs)
    while size < target_bytes:
        sentences = []
        for _ in range(rng.randint(2, 6)):
            words = rng.choices(_WORDS, k=rng.randint(6, 18))
            sentences.append(" ".join(words).capitalize() + rng.choice((".", ".", " ?")))
        paragraph = textwrap.fill(" ".join(sentences), 72)
        paragraphs.append(paragraph)
        size += len(paragraph.encode()) + 2
    return "\n\n".join([*paragraphs, "Cordialement,\n-- \nService achats"]) + "\n"


def fake_pdf(rng: random.Random, title: str, target_bytes: int) -> bytes:
    """A well-formed one-page PDF of about ``target_bytes``: a line of text and a grey
    noise image that makes up the size (random bytes compress as badly as a scan)."""
    side = max(1, int(math.sqrt(max(target_bytes - 1500, 1))))
    pixels = rng.randbytes(side * side)
    text = f"BT /F1 18 Tf 72 760 Td ({title}) Tj ET q 400 0 0 400 100 300 cm /Im1 Do Q"
    content = zlib.compress(text.encode("latin-1"))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>",
        _stream(b"/Filter /FlateDecode", content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        _stream(
            b"/Type /XObject /Subtype /Image /Width %d /Height %d "
            b"/ColorSpace /DeviceGray /BitsPerComponent 8" % (side, side),
            pixels,
        ),
    ]
    return assemble_pdf(objects)


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"
