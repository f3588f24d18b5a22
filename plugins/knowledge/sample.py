"""Fictional sample resources for the demo and tests: guides, reports and toolkits in Arabic,
French and English, written through the store as the editor would write them (every check
applies). Their authors' names say they are invented."""

from __future__ import annotations

import random
from datetime import date, timedelta

from . import store
from .models import Resource

RESOURCES = [
    ("guide", "fr", "Guide de sécurité numérique (fictif)",
     "Téléphones, mots de passe et messageries avant une manifestation.",
     "# Avant une manifestation\n\n- Éteignez la **localisation**.\n- Verrouillez votre "
     "téléphone par un code.\n\n*Ressource fictive, pour la démonstration.*",
     "sécurité numérique, téléphones"),
    ("toolkit", "ar", "دليل التوثيق للمدافعات (خيالي)",
     "كيف نوثق الانتهاكات دون تعريض الضحايا للخطر.",
     "# التوثيق الآمن\n\n- اطلبي الموافقة أولاً.\n- لا تكتبي الأسماء في الملاحظات.\n\n"
     "*مورد خيالي لغرض العرض.*", "توثيق, موافقة"),
    ("report", "en", "Annual report on attacks against women defenders (fictional)",
     "Trends in judicial harassment and online smear campaigns, for advocacy.",
     "# Key findings\n\n1. Judicial harassment rose.\n2. Online attacks target families.\n\n"
     "*A fictional resource, for the demo.*", "advocacy, statistics"),
    ("safety_advice", "fr", "Que faire en cas de convocation (fictif)",
     "Les droits de la personne convoquée et les contacts utiles.",
     "## Vos droits\n\nVous pouvez demander la présence d'une avocate.\n\n"
     "*Ressource fictive, pour la démonstration.*", "droits, police"),
    ("legal_analysis", "ar", "قراءة في قوانين الجرائم الإلكترونية (خيالي)",
     "كيف تُستعمل قوانين الجرائم الإلكترونية ضد المدافعات.",
     "## الخلاصة\n\nالنصوص الفضفاضة تسمح بالملاحقة.\n\n*مورد خيالي لغرض العرض.*",
     "قوانين, حرية التعبير"),
]
BYLINES = ["Collectif fictif des juristes", "جمعية افتراضية للحقوق", "Sample Women's Collective",
           ""]
AUTHORS = ["Amal Fictive", "Leila Exemple", "سلمى الخيالية", "Rania Sample"]


def resource_data(rng: random.Random, *, audience: str, resource: tuple | None = None,
                  today: date | None = None) -> dict:
    """What the editor would give for one fictional resource (``resource``: one of
    ``RESOURCES``; by default one drawn at random)."""
    kind, language, title, summary, body, tags = resource or rng.choice(RESOURCES)
    return {"kind": kind, "language": language, "title": title, "summary": summary,
            "body": body, "tags": tags, "licence": rng.choice(["cc-by-4.0", "cc-by-sa-4.0"]),
            "published_on": (today or date.today()) - timedelta(days=rng.randint(1, 400)),
            "audience": audience, "byline": rng.choice(BYLINES),
            "authors": "\n".join(rng.sample(AUTHORS, k=rng.randint(1, 2))),
            "translation_of": "", "narrator": "", "contact": ""}


def create(author, audiences: list[str], *, seed: int | str = 0) -> list[Resource]:
    """One fictional resource per audience in ``audiences`` (``node``, ``coalition`` or
    ``public``), written by ``author``; each is committed as the editor would commit it."""
    rng = random.Random(f"knowledge-{seed}")
    order = rng.sample(RESOURCES, k=len(RESOURCES))  # different resources, while they last
    return [store.write(None, resource_data(rng, audience=audience,
                                            resource=order[index % len(order)]), author)
            for index, audience in enumerate(audiences)]
