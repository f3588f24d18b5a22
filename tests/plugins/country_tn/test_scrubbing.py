"""Tunisia's identity card numbers and phone numbers are scrubbed from Arabic and French
narratives, in Western and Arabic-Indic digits, as people write them; dates, counts, sums,
article and decree numbers are left alone. The table is built from how Tunisians write
numbers (2-3-3 groups, +216 / 00216), not from the plugin's pattern."""

import pytest

from core.scrub import Scrubber
from plugins import country_tn
from tests.plugins.numbers_as_written import (
    arabic_indic,
    assert_left_alone,
    assert_taken_out,
    eastern,
    grouped,
)

SCRUBBER = Scrubber(country_tn.register_phone_regions(), country_tn.register_scrub_patterns())

CARDS = ["08123456", "12345678", "04567890", "00912345"]
CARD_WRITINGS = [
    lambda n: n,
    lambda n: grouped(n, (2, 3, 3)),
    lambda n: grouped(n, (4, 4)),
    lambda n: grouped(n, (2, 3, 3), "-"),
    lambda n: arabic_indic(n),
    lambda n: eastern(n),
    lambda n: arabic_indic(grouped(n, (2, 3, 3))),
    lambda n: grouped(n, (2, 3, 3), "."),
]
PHONES = [
    "98 123 456", "98123456", "+216 98 123 456", "00216 98 123 456", "+21698123456",
    "(+216) 98.123.456", "216 98 123 456", "71 234 567", "+216 71 234 567", "20-123-456",
    "55 123 456", "29 12 34 56", "٩٨ ١٢٣ ٤٥٦", "۹۸۱۲۳۴۵۶", "+٢١٦ ٢٠ ١٢٣ ٤٥٦", "٠٠٢١٦ ٧١ ٢٣٤ ٥٦٧",
    "۷۴ ۲۳۴ ۵۶۷", "98 123 456 / 71 234 567",
]
ARABIC = ["حسب المحضر، رقم بطاقة تعريفها الوطنية {} منذ 2015",
          "اتصلت بها المحامية على الرقم {} يوم 3 مارس", "الهاتف: {}",
          "ب.ت.و عدد {} حسب محضر الحجز"]
FRENCH = ["Le procès-verbal cite sa CIN n° {} en entier.",
          "On la joint au {} après 18h.", "Tél. : {}", "Son numéro ({}) circule sur Facebook."]

TAKEN_OUT = (
    [(sentence, write(card)) for index, card in enumerate(CARDS)
     for position, write in enumerate(CARD_WRITINGS)
     for sentence in [(ARABIC + FRENCH)[(index + position) % 8]]]
    + [(sentence, phone) for index, phone in enumerate(PHONES)
       for sentence in (ARABIC[index % 4], FRENCH[index % 4])]
)

LEFT_ALONE = [
    "Poursuivie en vertu du décret-loi n° 2022-54 du 13 septembre 2022.",
    "L'article 24 du décret-loi 2022-54 punit de 5 ans de prison.",
    "le décret-loi 54-2022, article 24",
    "المرسوم عدد 54 لسنة 2022 مؤرخ في 13 سبتمبر 2022.",
    "الفصل 24 من المرسوم 54.",
    "تتبعت بموجب المرسوم 2022-54.",
    "Arrêtée le 13/09/2022 à 10h avec 12 militantes.",
    "صدر الحكم في ١٣/٠٩/٢٠٢٢.",
    "في ۲۵/۰۷/۲۰۲۱ أمام المحكمة.",
    "Une amende de 50 000 dinars.",
    "Une amende de 100 000 dinars.",
    "Un préjudice de 12 000 000 de dinars.",
    "Condamnée à 5 ans de prison et 2 ans de contrôle.",
    "Entre 2011 et 2021, puis en 2023.",
    "الفصل 86 من مجلة الاتصالات.",
    "L'article 67 du code pénal.",
    "Le 25 juillet 2021, à Tunis.",
    "Le 2021-07-25, au tribunal.",
    "450 personnes présentes, dont 1 200 en ligne.",
    "أكثر من 1200 شخص في المسيرة.",
    "غرامة قدرها 50 ألف دينار.",
    "Le 13/09/2022 14:30, devant le juge d'instruction.",
    "الفصلان 24 و 86.",
    "La loi organique 2015-26, article 13.",
    "بمقتضى القانون الأساسي عدد 26 لسنة 2015.",
    "Une caution de 1.000.000 de dinars.",
    "Détenue 18 mois, soit 540 jours.",
]


def test_the_tables_are_large_enough():
    assert len(TAKEN_OUT) >= 40 and len(LEFT_ALONE) >= 20


@pytest.mark.parametrize("sentence, number", TAKEN_OUT)
def test_identity_cards_and_phones_are_taken_out(sentence, number):
    assert_taken_out(SCRUBBER, sentence, number)


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_dates_counts_sums_articles_and_decrees_are_left_alone(text):
    assert_left_alone(SCRUBBER, text)
