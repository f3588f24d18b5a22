"""Egypt's national numbers and phone numbers are scrubbed from Arabic and French narratives,
in Western and Arabic-Indic digits, as people write them; dates, counts, sums, article and
law numbers are left alone. The table is built from a woman's birth date and governorate
and from Egypt's numbering habits, not from the plugin's pattern."""

import re
from datetime import date

import pytest

from core.scrub import Scrubber
from plugins import country_eg
from plugins.country_eg.national_id import governorate_codes
from tests.plugins.numbers_as_written import (
    arabic_indic,
    assert_left_alone,
    assert_taken_out,
    eastern,
    grouped,
)

SCRUBBER = Scrubber(country_eg.register_phone_regions(), country_eg.register_scrub_patterns())


def national_number(born: date, governorate: str, serial: int, check: int) -> str:
    """The 14 digits of a national number: century, birth date, governorate of birth, a
    serial (its last digit even: a woman), a check digit."""
    century = "2" if born.year < 2000 else "3"
    return f"{century}{born:%y%m%d}{governorate}{serial:03d}{2 * (serial % 5)}{check}"


IDS = [
    national_number(date(1995, 3, 15), "21", 12, 7),  # Giza
    national_number(date(1988, 11, 2), "01", 345, 3),  # Cairo
    national_number(date(2003, 9, 25), "26", 7, 1),  # Sohag
    national_number(date(1979, 1, 30), "88", 901, 9),  # born abroad
]
ID_WRITINGS = [
    lambda n: n,
    lambda n: grouped(n, (1, 6, 2, 4)),
    lambda n: grouped(n, (1, 6, 2, 4), "-"),
    lambda n: grouped(n, (4, 4, 4)),
    lambda n: arabic_indic(n),
    lambda n: eastern(n),
    lambda n: arabic_indic(grouped(n, (1, 6, 2, 4))),
    lambda n: grouped(n, (3, 3, 3, 3), "."),
]
PHONES = [
    "01012345678", "010 1234 5678", "010-1234-5678", "0100 123 4567", "+20 10 1234 5678",
    "+201012345678", "0020 10 1234 5678", "00201012345678", "(+20) 100-123-4567",
    "0122 345 6789", "0155.123.4567", "011 2345 6789", "02 2345 6789", "+20 2 2345 6789",
    "03 481 2345", "2345 6789", "٠١٠١٢٣٤٥٦٧٨", "۰۱۰۱۲۳۴۵۶۷۸", "+٢٠ ١٠ ١٢٣٤ ٥٦٧٨",
    "٠٢ ٢٣٤٥ ٦٧٨٩", "۰۱۲ ۲۳۴۵ ۶۷۸۹",
    # Local numbers, without the area code: 8 digits in Cairo and Giza, 7 elsewhere.
    "23456789", "2345-6789", "٢٣٤٥ ٦٧٨٩", "481 2345", "4812345", "48 12 345", "۴۸۱ ۲۳۴۵",
]
ARABIC = ["ذكر محضر الشرطة رقمها القومي {} بعد القبض عليها", "اتصلت بها المحامية على الرقم {} يوم 3 مارس",
          "هاتفها: {}", "رقم بطاقتها {}، ورقم هاتف زوجها معروف"]
FRENCH = ["Le procès-verbal donne son numéro national, {}, en entier.",
          "On la joint au {} après 18h.", "Tél. : {}", "Son numéro ({}) circule sur les réseaux."]

TAKEN_OUT = (
    [(sentence, write(number)) for index, number in enumerate(IDS)
     for position, write in enumerate(ID_WRITINGS)
     for sentence in [(ARABIC + FRENCH)[(index + position) % 8]]]
    + [(sentence, phone) for index, phone in enumerate(PHONES)
       for sentence in (ARABIC[index % 4], FRENCH[index % 4])]
)

LEFT_ALONE = [
    "اعتُقلت في 15/03/2024 مع 12 ناشطة أخرى.",
    "المادة 25 من القانون رقم 175 لسنة 2018 في شأن مكافحة جرائم تقنية المعلومات.",
    "وُجّهت إليها تهم وفق القانون 149/2019.",
    "بموجب القانون ٩٤/٢٠١٥ والمادة ١٢ منه.",
    "قرار بقانون رقم 107 لسنة 2013 بتنظيم الحق في التظاهر.",
    "غرامة قدرها 100 ألف جنيه.",
    "غرامة 1.000.000 جنيه.",
    "حُكم عليها بالسجن 5 سنوات في 24 نوفمبر 2013.",
    "احتُجزت بين 2013 و2019.",
    "صدر الحكم في ٢٤/١١/٢٠١٣.",
    "في الساعة 14:30 يوم 13/09/2022.",
    "الفقرة 2 من المادة 34 من قانون 94/2015.",
    "أكثر من 60 ألف معتقل، منهم 1200 امرأة.",
    "في ۱۳/۰۹/۲۰۲۲ قرب المحكمة.",
    "استمر الحبس الاحتياطي 730 يومًا.",
    "Arrêtée le 15/03/2024 à 14h30 avec 12 autres militantes.",
    "L'article 25 de la loi 175/2018 sur la cybercriminalité.",
    "La loi n° 149/2019 sur les ONG.",
    "Poursuivie sous la loi 107/2013 sur les manifestations.",
    "Une amende de 2 500 000 livres.",
    "Une amende de 100 000 livres.",
    "Condamnée à 5 ans de prison.",
    "Le 2024-03-15, au tribunal.",
    "Entre 2013 et 2019, puis en 2021.",
    "1 200 manifestantes arrêtées.",
    "Les articles 86 et 91 du code pénal.",
    "Le 13/09/2022 14:30, devant le parquet.",
    "La loi 94/2015 (articles 2 et 27).",
    "Une caution de 1.500.000 EGP.",
    "Détenue depuis 730 jours, soit 2 ans.",
    "Le décret-loi 107/2013, article 8.",
    "Voir 175/2018 et 94/2015.",
    "وفق ١٧٥/٢٠١٨ و١٤٩/٢٠١٩.",
]


def test_the_tables_are_large_enough():
    assert len(TAKEN_OUT) >= 40 and len(LEFT_ALONE) >= 20


@pytest.mark.parametrize("sentence, number", TAKEN_OUT)
def test_national_numbers_and_phones_are_taken_out(sentence, number):
    assert_taken_out(SCRUBBER, sentence, number)


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_dates_counts_sums_articles_and_laws_are_left_alone(text):
    assert_left_alone(SCRUBBER, text)


def test_the_pattern_reads_the_national_number_s_structure():
    pattern = re.compile(country_eg.register_scrub_patterns()[0].regex)
    for number in IDS:
        assert pattern.fullmatch(number)
    wrong = ["1" + IDS[0][1:],  # century 1
             IDS[0][:3] + "13" + IDS[0][5:],  # month 13
             IDS[0][:5] + "32" + IDS[0][7:],  # day 32
             IDS[0][:7] + "99" + IDS[0][9:],  # no governorate 99
             IDS[0][:-1]]  # 13 digits
    assert not [number for number in wrong if pattern.fullmatch(number)]


def test_every_governorate_has_its_national_id_code():
    assert governorate_codes(country_eg.DATA) == sorted(
        ["01", "02", "03", "04", "11", "12", "13", "14", "15", "16", "17", "18", "19", "21",
         "22", "23", "24", "25", "26", "27", "28", "29", "31", "32", "33", "34", "35", "88"])
