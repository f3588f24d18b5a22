"""Fictional sample cases for the demo, tests and benchmarks: varied, in Arabic, French and
English, with clearly invented names (every surname says it is fictional)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

from core import clock, records
from core.extensions import db
from core.places import GOVERNORATE, LOCALITY, gazetteer
from core.vocabularies import vocabulary

from . import search, store, terms
from .models import (
    INTERVENTION_KINDS,
    INTERVENTION_STATUSES,
    RISKS,
    STATUSES,
    Case,
    Defender,
    Incident,
    Intervention,
)

FIRST_NAMES = ["Amal", "Salma", "Nour", "Huda", "Leila", "Yasmine", "Rania", "Mariem", "Ines",
               "Sana", "أمل", "سلمى", "نور", "هدى", "ليلى", "ياسمين", "رانية", "مريم", "سناء"]
# Surnames that announce themselves as invented, in three languages.
FICTIONAL_SURNAMES = ["Fictive", "Exemple", "Imaginaire", "Sample", "Madeup", "Testova",
                      "الخيالية", "المتخيلة", "الافتراضية"]
PERPETRATOR_NAMES = ["Karim", "Sami", "Walid", "Hichem", "كريم", "سامي", "وليد", "هشام"]
PSEUDONYMS = ["Olive", "Jasmine", "Palm", "Sea", "Dawn", "Lantern", "زيتونة", "ياسمينة",
              "نخلة", "بحر", "فجر", "Mimosa", "Hirondelle", "Colombe"]
ORGANISATIONS = ["Association fictive pour l'égalité", "جمعية افتراضية للحقوق",
                 "Sample Women's Collective", "Collectif imaginaire des juristes"]
NARRATIVES = {
    "ar": [
        "استُدعيت المدافعة إلى مركز الشرطة بعد مشاركتها في وقفة احتجاجية سلمية أمام المحكمة.",
        "نشرت صفحات مجهولة صورًا معدلة لها مع تعليقات مسيئة ودعوات إلى الاعتداء عليها.",
        "تعرضت لتهديدات هاتفية متكررة تستهدف أطفالها وعائلتها بسبب عملها في الدفاع عن النساء.",
        "مُنعت من السفر في المطار دون قرار مكتوب، وصودر جواز سفرها لعدة ساعات.",
        "داهمت قوات الأمن مقر الجمعية وصادرت الحواسيب والملفات دون إذن قضائي.",
        "فُصلت من عملها بعد أن تحدثت إلى الصحافة عن ظروف العاملات في المصنع.",
        "رفعت ضدها دعوى بتهمة نشر أخبار زائفة على خلفية منشور عن العنف ضد النساء.",
    ],
    "fr": [
        "La défenseuse a été convoquée au poste de police après avoir pris la parole lors d'un "
        "rassemblement pacifique devant le tribunal.",
        "Des comptes anonymes ont diffusé des photomontages d'elle accompagnés d'insultes et "
        "d'appels à la violence.",
        "Elle a reçu des menaces répétées visant ses enfants et sa famille en raison de son "
        "travail d'accompagnement des femmes victimes de violence.",
        "Elle a été empêchée de voyager à l'aéroport sans décision écrite ; son passeport a été "
        "retenu pendant plusieurs heures.",
        "Les locaux de l'association ont été perquisitionnés et les ordinateurs saisis sans "
        "mandat.",
        "Une plainte pour diffusion de fausses nouvelles a été déposée contre elle après une "
        "publication sur les violences faites aux femmes.",
    ],
    "en": [
        "The defender was summoned to the police station after speaking at a peaceful sit-in "
        "in front of the court.",
        "Anonymous accounts circulated doctored images of her with insults and calls for "
        "violence against her.",
        "She received repeated threats targeting her children and family because of her work "
        "supporting survivors of violence.",
        "Her employer dismissed her after she spoke to journalists about conditions for women "
        "workers in the factory.",
        "Security forces raided the association's office and seized computers and files "
        "without a warrant.",
    ],
}
# Fields of cases.case sample cases leave empty, and why (every other field gets a value:
# tests/plugins/cases/test_sample.py).
LEFT_EMPTY = {
    "incidents.place_detail": "one more sealed value per incident would change the workload of "
                              "the benchmarks (bench/redaction.py, bench/cases.py) against the "
                              "figures docs/performance.md compares with",
    "incidents.legal_basis": "the laws are the country plugins' (a sample may run with none), "
                             "and sample cases stay as they were before version 2, like the "
                             "cases an upgraded node already holds",
}
ENDED = ("done", "cancelled")
TITLES = {
    "ar": ["ملاحقة قضائية لمدافعة", "حملة تشهير عبر الإنترنت", "منع من السفر", "تهديدات للعائلة"],
    "fr": ["Harcèlement judiciaire d'une militante", "Campagne de dénigrement en ligne",
           "Interdiction de voyager", "Menaces contre la famille"],
    "en": ["Judicial harassment of an activist", "Online smear campaign", "Travel ban",
           "Threats against the family"],
}


def build(rng: random.Random, author=None, today: date | None = None) -> Case:
    """One fictional case, not yet saved (the node must be unlocked: values are sealed)."""
    today = today or date.today()
    language = rng.choice(["ar", "ar", "fr", "en"])
    case = records.new(Case, author)
    case.created_at = case.updated_at = clock.now()
    case.title = rng.choice(TITLES[language])
    case.summary = " ".join(rng.sample(NARRATIVES[language], k=2))
    case.status = rng.choices(STATUSES, weights=[5, 3, 2])[0]
    case.risk = rng.choices(RISKS, weights=[2, 4, 3, 1])[0]
    case.restricted = rng.random() < 0.05
    places = [p.code for p in gazetteer().offered(GOVERNORATE) + gazetteer().offered(LOCALITY)]
    defender = Defender(
        pseudonym=rng.choice(PSEUDONYMS), gender=rng.choices(["woman", "non-binary", "man"],
                                                             weights=[90, 6, 4])[0],
        age=rng.randint(19, 68),
        activism=rng.sample([t.code for t in vocabulary(terms.ACTIVISM)], k=rng.randint(1, 3)),
        residence=rng.choice(places) if places else None,
    )
    case.defender = defender
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(FICTIONAL_SURNAMES)}"
    records.set_identifying(case, defender, "real_name", name)
    records.set_identifying(case, defender, "contacts", f"+216 99 {rng.randint(0, 999):03d} "
                                                       f"{rng.randint(0, 999):03d}")
    records.set_identifying(case, defender, "address",
                            f"{rng.randint(1, 99)} rue de l'Exemple (fictive)")
    records.set_identifying(case, defender, "organisation", rng.choice(ORGANISATIONS))
    violations = sorted(terms.violation_codes())
    perpetrators = [t.code for t in vocabulary(terms.PERPETRATORS)]
    for _ in range(rng.choices([1, 2, 3], weights=[5, 3, 2])[0]):
        incident = Incident(
            occurred_on=today - timedelta(days=rng.randint(1, 5 * 365)),
            place=rng.choice(places) if places else None,
            violation=rng.choice(violations),
            perpetrator_type=rng.choice(perpetrators),
            narrative=" ".join(rng.sample(NARRATIVES[language], k=3)),
        )
        case.incidents.append(incident)
        perpetrator = f"{rng.choice(PERPETRATOR_NAMES)} {rng.choice(FICTIONAL_SURNAMES)}"
        records.set_identifying(case, incident, "perpetrator_identity", perpetrator)
        records.set_identifying(case, incident, "sources",
                                "Interview with the defender (fictional)")
        records.set_identifying(case, incident, "source_reliability", "reliable")
    if rng.random() < 0.6:
        intervention = Intervention(kind=rng.choice(INTERVENTION_KINDS),
                                    status=rng.choice(INTERVENTION_STATUSES),
                                    started_on=today - timedelta(days=rng.randint(1, 300)))
        if intervention.status in ENDED:  # a month later (no draw: the rest stays as it was)
            intervention.ended_on = min(intervention.started_on + timedelta(days=30), today)
        case.interventions.append(intervention)
        records.set_identifying(case, intervention, "notes", "Follow-up planned (fictional).")
    store.refresh_derived(case)
    return case


def create(count: int, *, seed: int = 0, author=None, batch: int = 500) -> int:
    """Write ``count`` fictional cases in batches; return how many were written."""
    rng = random.Random(seed)
    written = 0
    while written < count:
        cases = [build(rng, author) for _ in range(min(batch, count - written))]
        save(cases, author)
        written += len(cases)
    return written


def save(cases: list[Case], author=None) -> None:
    """Add built cases, their search index and tallies, in the current transaction."""
    for case in cases:
        records.seal_texts(case)  # before anything is written or indexed
    db.session.add_all(cases)
    db.session.flush()  # ids, for the search index, in the same transaction
    search.index_many(cases)
    for key, number in Counter(store.tally_key(case) for case in cases).items():
        store.add_to_tally(key, number)
    for key, number in sum((store.facet_tally_keys(case) for case in cases), Counter()).items():
        store.add_to_facet_tally(key, number)
    for case in cases:
        case._tallied_as = store.tally_key(case)
    records.save_new(cases, author, action="cases.sample_created")
