"""Records written the way documenters write, full of canaries, and a detector for them.

The leak check's inputs, written independently of the code under test: nothing here comes
from core.scrub, core.text, core.lexicon or core.spellings. Its names, their spellings in
both scripts and in French and English habits, its month names, clitics, separators and
ordinary sentences are its own, and so is the way it folds text to find what leaked.

    case = documented_case(random.Random(seed), schema)   # values + the canaries they quote
    leaked(payload, case.canaries)                         # the canaries still in a payload

A canary is one identifying thing as a text quotes it ("Selma", "le 14 novembre", "20 – 123
– 456"), with its category and its group:

- ``held``: a value the node holds in a field of the case, however it is typed (case,
  diacritics, hamza forms, clitics, punctuation, a line end, a part of it, a recorded other
  spelling): target 0 leaks;
- ``generalised``: the exact value of a `generalise` field quoted in a text: target 0;
- ``unrecorded``: a held name in a spelling nobody recorded (the other script, the other
  transliteration habit, a variant spelling): target: ≥ 95 % caught.

Any canary found in a ``public-aggregate`` payload is a leak too (target 0).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from marshmallow import Schema, fields

from core.places import Gazetteer, Place
from core.redaction import NEVER, _nested_schema, sharing_of

HELD, GENERALISED, UNRECORDED = "held", "generalised", "unrecorded"
PLACEHOLDER = "[redacted]"  # what the scrubber leaves: never part of a leak

# -- people: (Arabic, French habit, English habit) ---------------------------------------

WOMEN = [
    ("سلمى", "Salma", "Selma"), ("فاطمة", "Fatma", "Fatima"), ("خديجة", "Khedija", "Khadija"),
    ("عائشة", "Aicha", "Aisha"), ("نور", "Nour", "Noor"), ("هدى", "Houda", "Huda"),
    ("ليلى", "Leila", "Layla"), ("ياسمين", "Yasmine", "Yasmin"), ("مريم", "Meriem", "Maryam"),
    ("شيماء", "Chaima", "Shaima"), ("أمل", "Amel", "Amal"), ("سناء", "Sana", "Sanaa"),
    ("رانية", "Rania", "Raniya"), ("إيمان", "Imen", "Iman"), ("وفاء", "Ouafa", "Wafaa"),
    ("ذكرى", "Dhikra", "Zikra"), ("غادة", "Ghada", "Ghadah"), ("سعاد", "Souad", "Suad"),
    ("جميلة", "Djamila", "Jamila"), ("زينب", "Zeineb", "Zaynab"), ("بشرى", "Bochra", "Bushra"),
    ("نجلاء", "Najla", "Najlaa"), ("سهام", "Siham", "Seham"), ("لبنى", "Lobna", "Lubna"),
    ("حياة", "Hayet", "Hayat"), ("منى", "Mouna", "Muna"), ("رجاء", "Raja", "Rajaa"),
]
MEN = [
    ("محمد", "Mohamed", "Muhammad"), ("أحمد", "Ahmed", "Ahmad"), ("علي", "Ali", "Aly"),
    ("كريم", "Karim", "Kareem"), ("يوسف", "Youssef", "Yusuf"), ("عمر", "Omar", "Umar"),
    ("خالد", "Khaled", "Khalid"), ("سامي", "Sami", "Samy"), ("وليد", "Walid", "Waleed"),
    ("هشام", "Hichem", "Hisham"), ("منير", "Mounir", "Munir"), ("طارق", "Tarek", "Tariq"),
    ("حسن", "Hassen", "Hasan"), ("رشيد", "Rachid", "Rashid"), ("نبيل", "Nabil", "Nabeel"),
    ("مصطفى", "Mustapha", "Mustafa"), ("بلال", "Bilel", "Bilal"), ("شكري", "Chokri", "Shukri"),
]
FAMILIES = [
    ("الطرابلسي", "Trabelsi", "Al-Trabulsi"), ("الجندوبي", "Jendoubi", "Al-Jandubi"),
    ("المرزوقي", "Marzouki", "Al-Marzuqi"), ("الشابي", "Chebbi", "Al-Shabbi"),
    ("الحمامي", "Hammami", "Al-Hamami"), ("بوعزيزي", "Bouazizi", "Buazizi"),
    ("الغنوشي", "Ghannouchi", "Al-Ghannushi"), ("العياري", "Ayari", "Al-Ayyari"),
    ("الدريدي", "Dridi", "Al-Duraydi"), ("السعيدي", "Saidi", "Al-Saeedi"),
    ("الماجري", "Mejri", "Al-Majri"), ("الخياري", "Khiari", "Al-Khayyari"),
    ("الزواري", "Zouari", "Al-Zawari"), ("القاسمي", "Gasmi", "Al-Qasimi"),
    ("العبيدي", "Abidi", "Al-Ubaydi"), ("النصري", "Nasri", "Al-Nasri"),
    ("الفرجاني", "Ferjani", "Al-Farjani"), ("الرياحي", "Riahi", "Al-Riyahi"),
    ("البكوش", "Bakkouche", "Al-Bakkush"), ("الشريف", "Cherif", "Al-Sharif"),
]
# Names to measure how the matching of unrecorded spellings generalises beyond the lists it
# was adjusted on (`--names held-out`): its failures were looked at once (Fethi, Fayçal,
# Laarayedh) and the rules changed for them, so it is held out no more than that.
HELD_OUT_WOMEN = [
    ("رحاب", "Rihab", "Rehab"), ("سوسن", "Saoussen", "Sawsan"), ("حنان", "Hanen", "Hanan"),
    ("ابتسام", "Ibtissem", "Ibtisam"), ("سميرة", "Samira", "Sameera"),
    ("كوثر", "Kaouther", "Kawthar"), ("أسماء", "Asma", "Asmaa"), ("دنيا", "Donia", "Dunya"),
    ("عفاف", "Afef", "Afaf"), ("نسرين", "Nesrine", "Nisreen"), ("هيفاء", "Haifa", "Hayfa"),
    ("وداد", "Ouided", "Widad"), ("صفاء", "Safa", "Safaa"), ("خولة", "Khaoula", "Khawla"),
    ("ريم", "Rim", "Reem"), ("آمنة", "Amna", "Amina"), ("ألفة", "Olfa", "Ulfa"),
]
HELD_OUT_MEN = [
    ("عادل", "Adel", "Adil"), ("فتحي", "Fethi", "Fathi"), ("لطفي", "Lotfi", "Lutfi"),
    ("جمال", "Jamel", "Jamal"), ("رضا", "Ridha", "Rida"), ("زياد", "Ziad", "Ziyad"),
    ("أنيس", "Anis", "Anees"), ("مهدي", "Mehdi", "Mahdi"), ("صابر", "Saber", "Sabir"),
    ("عماد", "Imed", "Imad"), ("فيصل", "Faycel", "Faisal"), ("حمزة", "Hamza", "Hamzah"),
    ("قيس", "Kais", "Qays"),
]
HELD_OUT_FAMILIES = [
    ("الباجي", "Béji", "Al-Baji"), ("القروي", "Karoui", "Al-Qarawi"),
    ("الصيد", "Essid", "Al-Sayyid"), ("المبزع", "Mebazaa", "Al-Mubazza"),
    ("الجبالي", "Jebali", "Al-Jabali"), ("العريض", "Laarayedh", "Al-Arayyedh"),
    ("الشاهد", "Chahed", "Al-Shahid"), ("الفخفاخ", "Fakhfakh", "Al-Fakhfakh"),
    ("المشيشي", "Mechichi", "Al-Mashishi"), ("بلحاج", "Belhadj", "Bilhajj"),
    ("التونسي", "Tounsi", "Al-Tunisi"), ("الغربي", "Gharbi", "Al-Gharbi"),
    ("الزغلامي", "Zoghlami", "Al-Zughlami"), ("الحداد", "Haddad", "Al-Haddad"),
    ("المستيري", "Mestiri", "Al-Mastiri"),
]
# A third set: its failures were looked at once too (Moez, Chawki, Salah, Kaabi) and the
# rules changed for them.
FRESH_WOMEN = [
    ("بثينة", "Bouthaina", "Buthayna"), ("جيهان", "Jihene", "Jihan"), ("درة", "Dorra", "Durra"),
    ("إشراق", "Ichrak", "Ishraq"), ("نائلة", "Naila", "Naela"), ("سلوى", "Salwa", "Selwa"),
    ("عبير", "Abir", "Abeer"), ("هاجر", "Hajer", "Hajar"), ("رقية", "Rokaya", "Ruqayya"),
    ("ضحى", "Dhoha", "Duha"), ("شيراز", "Chiraz", "Shiraz"), ("منال", "Manel", "Manal"),
    ("توحيدة", "Touhida", "Tawhida"), ("إيناس", "Ines", "Inas"),
]
FRESH_MEN = [
    ("غسان", "Ghassen", "Ghassan"), ("سفيان", "Sofiene", "Sufyan"), ("معز", "Moez", "Muizz"),
    ("توفيق", "Taoufik", "Tawfiq"), ("شوقي", "Chawki", "Shawqi"), ("بشير", "Bechir", "Bashir"),
    ("صلاح", "Salah", "Salaah"), ("زهير", "Zouhair", "Zuhayr"), ("ماهر", "Maher", "Mahir"),
    ("أيمن", "Aymen", "Ayman"),
]
FRESH_FAMILIES = [
    ("الكعبي", "Kaabi", "Al-Kaabi"), ("الورغي", "Ouerghi", "Al-Warghi"),
    ("الساحلي", "Sahli", "Al-Sahili"), ("المناعي", "Mannai", "Al-Manai"),
    ("الدهماني", "Dahmani", "Al-Dahmani"), ("العلوي", "Alaoui", "Al-Alawi"),
    ("الهرماسي", "Harmassi", "Al-Harmasi"), ("التليلي", "Tlili", "Al-Tlili"),
    ("الكافي", "Kefi", "Al-Kafi"), ("الفقيه", "Fekih", "Al-Faqih"), ("بوزيد", "Bouzid", "Buzayd"),
    ("الوسلاتي", "Ouesleti", "Al-Wislati"), ("العماري", "Amari", "Al-Ammari"),
]
# A fourth set, written after the rules' last change and measured once (docs/confidentiality.md
# gives the figure): the honest measure of names nobody tuned anything on.
UNSEEN_WOMEN = [
    ("فريدة", "Farida", "Fareeda"), ("لمياء", "Lamia", "Lamya"), ("نجوى", "Najoua", "Najwa"),
    ("سارة", "Sarra", "Sara"), ("يسرى", "Yosra", "Yusra"), ("حليمة", "Halima", "Haleema"),
    ("مبروكة", "Mabrouka", "Mabruka"), ("سندس", "Sondes", "Sundus"), ("وئام", "Wiem", "Wiam"),
    ("روضة", "Raoudha", "Rawda"), ("إلهام", "Ilhem", "Ilham"), ("تسنيم", "Tasnim", "Tasneem"),
    ("صبرين", "Sabrine", "Sabreen"),
]
UNSEEN_MEN = [
    ("حاتم", "Hatem", "Hatim"), ("مراد", "Mourad", "Murad"), ("نعمان", "Naamen", "Numan"),
    ("رياض", "Riadh", "Riyad"), ("كمال", "Kamel", "Kamal"), ("لسعد", "Lassaad", "Lasaad"),
    ("منصف", "Moncef", "Munsif"), ("سليم", "Slim", "Salim"), ("جلال", "Jalel", "Jalal"),
    ("عصام", "Issam", "Isam"),
]
UNSEEN_FAMILIES = [
    ("الجلاصي", "Jlassi", "Al-Jallasi"), ("السويسي", "Souissi", "Al-Suwaysi"),
    ("الرقيق", "Rekik", "Al-Raqiq"), ("البوغانمي", "Boughanmi", "Al-Bughanmi"),
    ("الحناشي", "Hannachi", "Al-Hannashi"), ("المحجوب", "Mahjoub", "Al-Mahjub"),
    ("الكشو", "Kechaou", "Al-Kashu"), ("العكرمي", "Akremi", "Al-Akrami"),
    ("الغضباني", "Ghodbane", "Al-Ghadbani"), ("الفرشيشي", "Ferchichi", "Al-Farshishi"),
    ("الخميري", "Khemiri", "Al-Khumayri"), ("الورتاني", "Ouertani", "Al-Wartani"),
]
NAME_SETS = {"tuning": (WOMEN, MEN, FAMILIES),
             "held-out": (HELD_OUT_WOMEN, HELD_OUT_MEN, HELD_OUT_FAMILIES),
             "fresh": (FRESH_WOMEN, FRESH_MEN, FRESH_FAMILIES),
             "unseen": (UNSEEN_WOMEN, UNSEEN_MEN, UNSEEN_FAMILIES)}
# Employers: (name as registered, its acronym) — acronyms as people write them.
EMPLOYERS = [
    ("Association Horizons pour l'Égalité", "AHPE"),
    ("Ligue Méditerranéenne des Juristes", "LMJ"),
    ("Collectif Amal pour les Travailleuses", "CAT"),
    ("Union Régionale des Enseignantes", "URE"),
    ("Sunrise Women's Legal Clinic", "SWLC"),
    ("جمعية أفق للمساواة", "JAM"),
    ("Société Textile Zaghouane", "STZ"),
]
VENUES = [
    ("café Le Jasmin", "مقهى الياسمين"), ("salle Ibn Rochd", "قاعة ابن رشد"),
    ("hôtel Les Oliviers", "نزل الزياتين"), ("lycée Farhat Hached", "معهد فرحات حشاد"),
    ("maison des jeunes Ennour", "دار الشباب النور"),
]
STREETS = [("rue Ibn Khaldoun", "نهج ابن خلدون", "Ibn Khaldoun Street"),
           ("avenue Habib Thameur", "شارع الحبيب ثامر", "Habib Thameur Avenue"),
           ("rue de Marseille", "نهج مرسيليا", "Marseille Street"),
           ("impasse Sidi Ameur", "زنقة سيدي عامر", "Sidi Ameur Lane")]
MAIL_HOSTS = ("protonmail.com", "gmail.com", "riseup.net", "yahoo.fr")

# -- places: a gazetteer of this check's own ------------------------------------------------

PLACES = Gazetteer([
    Place("XA", "country", {"en": "Xandria", "fr": "Xandrie", "ar": "إكسندريا"}),
    Place("XA-1", "governorate", {"en": "North", "fr": "Nord", "ar": "الشمال"}, "XA"),
    Place("XA-2", "governorate", {"en": "Coast", "fr": "Côte", "ar": "الساحل"}, "XA"),
    Place("XA-1:menzel-jemil", "locality",
          {"en": "Menzel Jemil", "fr": "Menzel Jemil", "ar": "منزل جميل"}, "XA-1"),
    Place("XA-1:ras-jebel", "locality",
          {"en": "Ras Jebel", "fr": "Ras Jebel", "ar": "رأس الجبل"}, "XA-1"),
    Place("XA-2:ksar-hellal", "locality",
          {"en": "Ksar Hellal", "fr": "Ksar Hellal", "ar": "قصر هلال"}, "XA-2"),
    Place("XA-2:moknine", "locality", {"en": "Moknine", "fr": "Moknine", "ar": "المكنين"},
          "XA-2"),
])
LOCALITIES = [code for code in ("XA-1:menzel-jemil", "XA-1:ras-jebel", "XA-2:ksar-hellal",
                                "XA-2:moknine")]

# -- dates, in this check's own tables -----------------------------------------------------

MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre"]
MONTHS_AR = {  # standard/Egyptian, Levantine/Iraqi, Maghreb
    "msa": ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر",
            "أكتوبر", "نوفمبر", "ديسمبر"],
    "levant": ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب",
               "أيلول", "تشرين الأول", "تشرين الثاني", "كانون الأول"],
    "maghreb": ["جانفي", "فيفري", "مارس", "أفريل", "ماي", "جوان", "جويلية", "أوت", "سبتمبر",
                "أكتوبر", "نوفمبر", "ديسمبر"],
}
INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

# -- ordinary sentences, with no name, number or date (for false positives) ----------------

ORDINARY_SENTENCES = {
    "en": [
        "The police came to her home early in the morning and took her phone.",
        "She was questioned for several hours about her work with other women.",
        "Her lawyer was not allowed to attend the hearing at the court.",
        "Anonymous accounts shared edited pictures of her with insults.",
        "The association's office was searched and its computers were seized.",
        "She received threats against her children because of her activism.",
        "Neighbours saw two cars waiting near the building for days.",
        "The judge postponed the case without giving any reason.",
        "She was stopped at the airport and could not travel to the conference.",
        "Her employer dismissed her after she spoke to journalists.",
        "Several colleagues were also summoned and asked about the network.",
        "She fears for her safety and has moved to another neighbourhood.",
    ],
    "fr": [
        "La police est venue chez elle tôt le matin et a pris son téléphone.",
        "Elle a été interrogée pendant plusieurs heures sur son travail associatif.",
        "Son avocat n'a pas pu assister à l'audience au tribunal.",
        "Des comptes anonymes ont diffusé des photos retouchées accompagnées d'insultes.",
        "Le local de l'association a été perquisitionné et les ordinateurs saisis.",
        "Elle a reçu des menaces visant ses enfants à cause de son engagement.",
        "Des voisins ont vu deux voitures stationner devant l'immeuble pendant des jours.",
        "Le juge a reporté l'affaire sans donner de raison.",
        "Elle a été empêchée de voyager à l'aéroport et a manqué la conférence.",
        "Son employeur l'a licenciée après qu'elle a parlé à des journalistes.",
        "Plusieurs collègues ont aussi été convoquées et interrogées sur le réseau.",
        "Elle craint pour sa sécurité et a déménagé dans un autre quartier.",
    ],
    "ar": [
        "جاءت الشرطة إلى منزلها في الصباح الباكر وأخذت هاتفها.",
        "تم استجوابها لعدة ساعات حول عملها مع النساء الأخريات.",
        "لم يُسمح لمحاميها بحضور الجلسة في المحكمة.",
        "نشرت حسابات مجهولة صورًا معدلة لها مع شتائم.",
        "تم تفتيش مقر الجمعية وحجز الحواسيب.",
        "تلقت تهديدات تستهدف أطفالها بسبب نشاطها.",
        "رأى الجيران سيارتين تنتظران قرب العمارة لأيام.",
        "أجل القاضي القضية دون ذكر أي سبب.",
        "مُنعت من السفر في المطار ولم تتمكن من حضور المؤتمر.",
        "فصلها صاحب العمل بعد أن تحدثت إلى الصحفيين.",
        "تم استدعاء عدة زميلات أيضًا وسؤالهن عن الشبكة.",
        "تخشى على سلامتها وانتقلت إلى حي آخر.",
    ],
}


@dataclass(frozen=True)
class Canary:
    """One identifying thing as a text quotes it: ``needles`` are the normalised word
    sequences that must not survive (any one surviving is a leak)."""

    category: str
    group: str
    needles: tuple[tuple[str, ...], ...]
    shown: str  # as written, for the report


@dataclass
class DocumentedCase:
    values: dict
    canaries: list[Canary] = field(default_factory=list)


# -- normalising, this check's own way ---------------------------------------------------------

_ARABIC_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه",
                               "ؤ": "و", "ئ": "ي", "ء": None, "ـ": None})
_TOKEN = re.compile(r"[^\W_]+")
CLITICS = ("", "و", "ب", "ل", "ف", "ك", "ال", "وال", "بال", "لل", "ول", "وب", "فال")


def normalised(text: str) -> list[str]:
    """The words of ``text`` as this check compares them."""
    text = text.replace(PLACEHOLDER, " ").translate(INDIC_BACK)
    plain = "".join(char for char in unicodedata.normalize("NFKD", text)
                    if unicodedata.category(char) != "Mn")
    return _TOKEN.findall(plain.translate(_ARABIC_FORMS).casefold())


INDIC_BACK = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def leaked(payload, canaries: Iterable[Canary]) -> list[Canary]:
    """The canaries still present in ``payload`` (any nesting)."""
    texts = [normalised(text) for text in _strings(payload)]
    digits = ["".join(re.findall(r"\d", " ".join(words))) for words in texts]
    where: dict[str, list[tuple[int, int]]] = {}  # word → (text, position) where it stands
    for number, words in enumerate(texts):
        for position, word in enumerate(words):
            where.setdefault(word, []).append((number, position))
    return [canary for canary in canaries
            if any(_present(needle, texts, digits, where) for needle in canary.needles)]


def _present(needle: tuple[str, ...], texts, digits, where) -> bool:
    if len(needle) == 1 and needle[0].startswith("#"):  # a number, its separators dropped
        return any(needle[0][1:] in run for run in digits)
    first, rest = needle[0], list(needle[1:])
    for clitic in CLITICS:
        for number, position in where.get(clitic + first, ()):
            if texts[number][position + 1:position + 1 + len(rest)] == rest:
                return True
    return False


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


# -- how documenters type things ----------------------------------------------------------------

HARAKAT = "\u064e\u064f\u0650\u0651\u0652\u064b\u064c\u064d"


def arabic_typed(rng: random.Random, word: str) -> str:
    """An Arabic word as typed: harakat here and there, tatweel, hamza seats dropped or
    moved, ة written ه, ى written ي."""
    letters = []
    for letter in word:
        letters.append(letter)
        roll = rng.random()
        if roll < 0.12:
            letters.append(rng.choice(HARAKAT))
        elif roll < 0.16:
            letters.append("ـ")
    typed = "".join(letters)
    if rng.random() < 0.4:
        typed = typed.replace("أ", "ا").replace("إ", "ا")
    if rng.random() < 0.3:
        typed = typed.replace("ة", "ه")
    if rng.random() < 0.3:
        typed = typed.replace("ى", "ي")
    return typed


def latin_typed(rng: random.Random, word: str) -> str:
    """A Latin name as typed: in capitals, in small letters, or with an accent (Leïla)."""
    accented = word
    for plain, accent in (("e", "é"), ("i", "ï"), ("a", "â")):
        if plain in word[1:]:
            accented = word[0] + word[1:].replace(plain, accent, 1)
            break
    return rng.choice([word, word, word.upper(), word.lower(), accented])


def respelled(rng: random.Random, word: str) -> str:
    """A Latin name in a spelling of its own: vowels and doubled letters as people vary
    them (Salma → Selma, Hammami → Hamami, Youssef → Yousef, Fatma → Fatmah)."""
    rules = [("ou", "u"), ("u", "ou"), ("a", "e"), ("e", "a"), ("i", "ee"), ("y", "i"),
             ("ss", "s"), ("mm", "m"), ("s", "ss"), ("k", "c"), ("ch", "sh"), ("sh", "ch"),
             ("dj", "j"), ("ai", "ei")]
    rng.shuffle(rules)
    for old, new in rules:
        if old in word[1:]:
            position = word.index(old, 1)
            return word[:position] + new + word[position + len(old):]
    return word + "h" if word.endswith("a") else word + "e"


def with_clitic(rng: random.Random, word: str) -> str:
    return rng.choice(["و", "ب", "ل", "", "وب"]) + word


def grouped(rng: random.Random, digits: str) -> str:
    """A number as people write it: groups of two or three, any separator, any digits."""
    sizes, position, groups = [2, 3], 0, []
    while position < len(digits):
        size = rng.choice(sizes)
        groups.append(digits[position:position + size])
        position += size
    separator = rng.choice([" ", "-", ".", "/", " - ", " – ", "٫", "\n", "  ", " . "])
    text = separator.join(groups)
    return text.translate(INDIC) if rng.random() < 0.25 else text


# -- a case, documented -------------------------------------------------------------------------


@dataclass
class _Person:
    arabic: tuple[str, str]  # first, family
    french: tuple[str, str]
    english: tuple[str, str]
    recorded: str  # "arabic", "french" or "english": how the field holds the name

    def held(self) -> str:
        return " ".join(getattr(self, self.recorded))

    def form(self, habit: str) -> tuple[str, str]:
        return getattr(self, habit)


def _person(rng: random.Random, given: list, families: list = FAMILIES) -> _Person:
    first, family = rng.choice(given), rng.choice(families)
    return _Person((first[0], family[0]), (first[1], family[1]), (first[2], family[2]),
                   rng.choice(["arabic", "french", "english"]))


class _Writer:
    """Writes a case's texts, noting each canary it quotes."""

    def __init__(self, rng: random.Random, names: str = "tuning"):
        self.rng = rng
        self.women, self.men, self.families = NAME_SETS[names]
        self.canaries: list[Canary] = []
        self.sentences: list[str] = []
        self.person: _Person | None = None  # the last person named, for her other spellings
        self.dates: list[date] = []
        self.age: int | None = None

    def note(self, category: str, group: str, shown: str, *needles: str) -> None:
        prepared = tuple(tuple(normalised(needle)) for needle in needles if normalised(needle))
        if prepared:
            self.canaries.append(Canary(category, group, prepared, shown))

    def number(self, category: str, shown: str, digits: str) -> None:
        self.canaries.append(Canary(category, HELD, (("#" + digits,),), shown))

    def say(self, language: str, sentence: str) -> None:
        del language  # said in its language; texts mix them, as in the region's notes
        self.sentences.append(sentence)

    def text(self) -> str:
        """A narrative: every sentence noted so far (so each canary is quoted), among
        ordinary ones, in any order."""
        rng = self.rng
        pool = self.sentences + rng.sample(ORDINARY_SENTENCES[rng.choice(["en", "fr", "ar"])],
                                           3)
        rng.shuffle(pool)
        return rng.choice([" ", "\n"]).join(pool)

    def title(self) -> str:
        """A case title, as documenters name cases: after the person."""
        person = self.person
        if person is None:
            return "Case"
        first, family = person.form(person.recorded)
        return self.rng.choice([f"Affaire {first} {family}", f"Case of {first}",
                                f"قضية {first} {family}"])


def _name_mentions(w: _Writer, person: _Person, role: str) -> None:
    """How a text names a person the case holds: in the recorded form, typed every way, in
    part, and in spellings nobody recorded."""
    rng = w.rng
    first, family = person.form(person.recorded)
    arabic = person.recorded == "arabic"
    typed = (lambda word: arabic_typed(rng, word)) if arabic else (
        lambda word: latin_typed(rng, word))
    language = "ar" if arabic else rng.choice(["fr", "en"])
    cue = {"ar": "قالت", "fr": "selon", "en": "according to"}[language]
    full = f"{typed(first)} {typed(family)}"
    if rng.random() < 0.3:
        full = f"{typed(first)}\n{typed(family)}"
    if rng.random() < 0.3:
        full = {"ar": f"«{full}»", "fr": f"« {full} »", "en": f'"{full}"'}[language]
    w.say(language, f"{cue} {full}, " + rng.choice(ORDINARY_SENTENCES[language]))
    w.note(f"{role}: full name", HELD, full, first, _family_core(family))
    alone = with_clitic(rng, typed(first)) if arabic else typed(first)
    w.say(language, f"{alone} " + rng.choice(["ont témoigné.", "was there.", "كانت هناك."]))
    w.note(f"{role}: first name alone", HELD, alone, first)
    family_alone = with_clitic(rng, typed(family)) if arabic else typed(family)
    w.say(language, f"{cue} {family_alone}.")
    w.note(f"{role}: family name alone", HELD, family_alone, _family_core(family))
    # Spellings nobody recorded: the other script, the other habit, a variant.
    for habit in ("arabic", "french", "english"):
        if habit == person.recorded or person.form(habit) == person.form(person.recorded):
            continue
        other_first, other_family = person.form(habit)
        other_language = "ar" if habit == "arabic" else ("fr" if habit == "french" else "en")
        category = ("other script" if (habit == "arabic") != arabic
                    else "other transliteration")
        w.say(other_language, f"{other_first} {other_family} " + rng.choice(
            ORDINARY_SENTENCES[other_language]))
        w.note(f"{role}: {category}", UNRECORDED, f"{other_first} {other_family}",
               other_first, _family_core(other_family))
    if not arabic:
        variant = respelled(rng, first)
        if normalised(variant) != normalised(first):
            w.say(language, f"{variant} " + rng.choice(ORDINARY_SENTENCES[language]))
            w.note(f"{role}: variant spelling", UNRECORDED, variant, variant)


def _family_core(family: str) -> str:
    """A family name without its article or "Ben" (they name no one alone)."""
    words = re.split(r"[\s\-]+", family)
    core = [word for word in words if word.lower() not in ("al", "el", "ben", "bin", "بن")]
    core = [word[2:] if word.startswith("ال") and len(word) > 4 else word for word in core]
    return " ".join(core) or family


def _quote_date(w: _Writer, when: date, role: str) -> None:
    rng = w.rng
    day, month, year = when.day, when.month, when.year
    forms = [
        ("en", f"on {day} {MONTHS_EN[month - 1]} {year}", f"{day} {MONTHS_EN[month - 1]}"),
        ("en", f"on {MONTHS_EN[month - 1]} {day}, {year}", f"{MONTHS_EN[month - 1]} {day}"),
        ("en", f"on the {day}th of {MONTHS_EN[month - 1]}", f"{day}th of {MONTHS_EN[month - 1]}"),
        ("fr", f"le {day} {MONTHS_FR[month - 1]} {year}", f"{day} {MONTHS_FR[month - 1]}"),
        ("fr", f"le {day:02d}/{month:02d}/{year}", f"{day:02d} {month:02d} {year}"),
        ("fr", f"le {day}-{month}", f"{day} {month}"),
        ("en", f"on {year}-{month:02d}-{day:02d}", f"{year} {month:02d} {day:02d}"),
    ]
    for names in MONTHS_AR.values():
        name = names[month - 1]
        digits = str(day).translate(INDIC) if rng.random() < 0.5 else str(day)
        forms.append(("ar", f"يوم {digits} {name} {year}", f"{day} {name}"))
    forms.append(("ar", f"بتاريخ {day}/{month}/{year}".translate(INDIC), f"{day} {month} {year}"))
    for language, written, needle in rng.sample(forms, 3):
        w.say(language, {"en": f"It happened {written}.", "fr": f"Les faits ont eu lieu {written}.",
                         "ar": f"وقعت الأحداث {written}."}[language])
        w.note(f"{role}: exact date", GENERALISED, written, needle)


def documented_case(rng: random.Random, schema: Schema, *, spellings_field: str | None = None,
                    names: str = "tuning") -> DocumentedCase:
    """A record of ``schema`` (its `never` fields filled by role, guessed from their names),
    its open texts quoting everything the way documenters write; ``names``: "tuning" (the
    lists the scrubber's rules were adjusted on) or "held-out"."""
    w = _Writer(rng, names)
    values = _fill(rng, w, schema, "", spellings_field)
    _write_texts(rng, w, schema, values)
    return DocumentedCase(values, w.canaries)


def _role(name: str) -> str:
    for hint, role in (("spelling", "spellings"), ("name", "person"), ("identity", "perpetrator"),
                       ("phone", "contacts"), ("contact", "contacts"), ("address", "address"),
                       ("organisation", "employer"), ("employer", "employer"),
                       ("place", "venue"), ("source", "sources"), ("reliab", "notes"),
                       ("note", "notes")):
        if hint in name:
            return role
    return "notes"


def _fill(rng, w: _Writer, schema: Schema, prefix: str, spellings_field) -> dict:
    values: dict = {}
    for name, schema_field in schema.fields.items():
        nested = _nested_schema(schema_field)
        if nested is not None:
            many = isinstance(schema_field, fields.List)
            items = [_fill(rng, w, nested, f"{prefix}{name}.", spellings_field)
                     for _ in range(rng.randint(1, 2) if many else 1)]
            values[name] = items if many else items[0]
        elif sharing_of(schema_field) == NEVER:
            values[name] = _never_value(rng, w, _role(name), f"{prefix}{name}",
                                        values, spellings_field)
        else:
            values[name] = _other_value(rng, w, schema_field, f"{prefix}{name}")
    return values


def _never_value(rng, w: _Writer, role: str, path: str, values: dict, spellings_field):
    if role == "person":
        person = _person(rng, w.women, w.families)
        _name_mentions(w, person, "name")
        w.person = person
        return person.held()
    if role == "spellings":
        person = getattr(w, "person", None)
        if person is None:
            return []
        recorded = [" ".join(person.form(habit)) for habit in ("arabic", "french", "english")
                    if habit != person.recorded]
        first, family = person.form("french" if person.recorded != "french" else "english")
        language = rng.choice(["fr", "en"])
        w.say(language, f"{first} {family} " + rng.choice(ORDINARY_SENTENCES[language]))
        w.note("defender: recorded other spelling", HELD, f"{first} {family}", first,
               _family_core(family))
        return recorded
    if role == "perpetrator":
        person = _person(rng, w.men, w.families)
        title = rng.choice(["Commissaire", "agent", "officer", "الضابط"])
        _name_mentions(w, person, "perpetrator")
        return f"{title} {person.held()}"
    if role == "contacts":
        return _contacts(rng, w)
    if role == "address":
        return _address(rng, w)
    if role == "employer":
        return _employer(rng, w)
    if role == "venue":
        return _venue(rng, w)
    return _notes(rng, w, role)


def _contacts(rng, w: _Writer) -> str:
    national = rng.choice("2459") + "".join(rng.choice("0123456789") for _ in range(7))
    written = grouped(rng, national)
    w.say(rng.choice(["fr", "en", "ar"]), rng.choice(["Son numéro : ", "Call her on ",
                                                      "رقم هاتفها "]) + written + ".")
    w.number("phone", written, national)
    local = rng.choice(["salma.k", "nour_b", "amel1990", "hbq.zrt", "leila.m"])
    host = rng.choice(MAIL_HOSTS)
    user, domain = local.replace(".", " dot ").replace("_", " underscore "), host.split(".")
    spelled = f"{user} at {domain[0]} dot {domain[1]}"
    w.say("en", f"Write to {spelled} if needed.")
    w.note("e-mail spelled out", HELD, spelled, local.split(".")[0].split("_")[0])
    w.say("fr", f"Courriel : {local}@{host}")
    w.note("e-mail", HELD, f"{local}@{host}", local.split(".")[0].split("_")[0])
    national_id = "0" + "".join(rng.choice("0123456789") for _ in range(7))
    id_written = grouped(rng, national_id)
    w.say(rng.choice(["fr", "ar"]), rng.choice(["CIN n° ", "بطاقة التعريف عدد "]) + id_written)
    w.number("national ID", id_written, national_id)
    return f"+216 {national[:2]} {national[2:5]} {national[5:]}, {local}@{host}, CIN {national_id}"


def _address(rng, w: _Writer) -> str:
    number = rng.randint(3, 140)
    french, arabic, english = rng.choice(STREETS)
    street_core = french.split(" ", 1)[1].replace("de ", "")
    forms = [("fr", f"Elle habite au {number} {french}.", f"{number} {french.split()[0]}"),
             ("ar", f"تسكن في {arabic} عدد {number}.", f"عدد {number}"),
             ("en", f"She lives at {number} {english}.", f"{number} {english.split()[0]}")]
    language, sentence, needle = rng.choice(forms)
    w.say(language, sentence)
    w.note("street address: house number", HELD, needle, needle)
    w.say("fr", f"Nous l'avons vue {french.split()[0]} {street_core}.")
    w.note("street address: street name", HELD, street_core, street_core.split()[-1])
    return f"{number} {french}, {arabic}"


def _employer(rng, w: _Writer) -> str:
    name, acronym = rng.choice(EMPLOYERS)
    registered = f"{name} ({acronym})" if rng.random() < 0.5 else name
    quoted = name if rng.random() < 0.5 else f"{name}\n({acronym})"
    w.say("fr", f"Elle travaille à l'{quoted}, depuis longtemps.")
    w.note("employer: quoted whole", HELD, quoted, name)
    w.say("en", f"Her colleagues at {acronym} were questioned too.")
    named = [word for word in re.findall(r"[^\W_]+", name)
             if (word[0].isupper() or "\u0600" <= word[0] <= "\u06ff")
             and word not in ("Association", "Ligue", "Collectif", "Union", "Société",
                              "Women", "Legal", "Clinic", "Textile", "جمعية")]
    if f"({acronym})" in registered:
        w.note("employer: acronym", HELD, acronym, acronym)
    else:
        w.note("employer: acronym not recorded", UNRECORDED, acronym, acronym)
    word = rng.choice(named)
    w.say("en", f"The {word} team was worried.")
    w.note("employer: a name-like word", HELD, word, word)
    return registered


def _venue(rng, w: _Writer) -> str:
    french, arabic = rng.choice(VENUES)
    w.say("fr", f"La réunion s'est tenue au {french}.")
    w.note("venue: quoted whole", HELD, french, french.split(" ", 1)[1])
    w.say("ar", f"عقد الاجتماع في {arabic}.")
    w.note("venue: Arabic name", HELD, arabic, arabic.split(" ", 1)[1])
    return f"{french} / {arabic}"


def _notes(rng, w: _Writer, role: str) -> str:
    relative = _person(rng, w.women + w.men, w.families)
    lawyer = _person(rng, w.men + w.women, w.families)
    kin = rng.choice([("sa sœur", "her sister", "أختها"), ("son frère", "her brother", "أخوها"),
                      ("sa mère", "her mother", "والدتها")])
    rel_first = relative.form(relative.recorded)[0]
    law_family = lawyer.form(lawyer.recorded)[1]
    son = rng.choice(w.men)
    note = (f"Témoins : {kin[0]} {rel_first} ; avocat Me {law_family}. Son fils {son[1]} "
            f"l'accompagnait." if relative.recorded != "arabic" else
            f"الشهود: {kin[2]} {rel_first}، المحامي {law_family}. ابنها {son[0]} كان معها.")
    arabic = relative.recorded == "arabic"
    relative_text = f"{kin[2]} {arabic_typed(rng, rel_first)}" if arabic else \
        f"{rng.choice([kin[0], kin[1]])} {rel_first}"
    w.say("ar" if arabic else "fr", f"{relative_text} a tout vu." if not arabic
          else f"رأت {relative_text} كل شيء.")
    w.note("relative named in notes", HELD, relative_text, rel_first)
    lawyer_text = rng.choice([f"Me {law_family}", f"maître {law_family}",
                              f"المحامي {law_family}", f"lawyer {law_family}"])
    w.say("fr", f"{lawyer_text} a déposé plainte.")
    w.note("lawyer named in notes", HELD, lawyer_text, _family_core(law_family))
    if arabic:
        kunya = rng.choice(["أم", "ام"]) + " " + arabic_typed(rng, son[0])
        w.say("ar", f"يناديها الجيران {kunya}.")
        w.note("kunya", HELD, kunya, son[0])
    else:
        kunya = f"{rng.choice(['Oum', 'Om', 'Umm'])} {son[1]}"
        w.say("fr", f"Les voisins l'appellent {kunya}.")
        w.note("kunya", HELD, kunya, son[1])
    del role
    return note


def _other_value(rng, w: _Writer, schema_field, path: str):
    metadata = schema_field.metadata
    if metadata.get("sharing") == "generalise":
        rule = metadata.get("rule", "")
        if rule.startswith("date_"):
            when = date(2024, 1, 1) + timedelta(days=rng.randint(0, 700))
            _quote_date(w, when, path.rsplit(".", 1)[-1])
            w.dates.append(when)
            return when.isoformat()
        if rule == "age_to_band":
            age = rng.randint(19, 64)
            w.age = age
            return age
        if rule.startswith("place_"):
            code = rng.choice(LOCALITIES)
            place = PLACES.get(code)
            language = rng.choice(["en", "fr", "ar"])
            name = place.names[language]
            w.say(language, {"en": f"This was in {name}.", "fr": f"C'était à {name}.",
                             "ar": f"كان ذلك في {name}."}[language])
            w.note("exact place", GENERALISED, name, name)
            return code
        return rng.randint(1, 40)
    if metadata.get("code"):
        code = rng.choice(["c1", "c2", "arbitrary-detention"])
        return [code] if isinstance(schema_field, fields.List) else code
    return None  # a free text: written once every value is known


def _write_texts(rng, w: _Writer, schema: Schema, values: dict) -> None:
    """Ages and birth years, then every open text of the record, quoting what was noted."""
    age = w.age
    if age is not None:
        year = rng.choice(w.dates or [date(2025, 6, 1)]).year
        for language, written, needle in rng.sample([
            ("fr", f"âgée de {age} ans", f"{age} ans"), ("en", f"{age} years old", f"{age} years"),
            ("en", f"a {age}-year-old", f"{age} year"), ("ar", f"عمرها {age} سنة", f"{age} سنه"),
            ("ar", f"تبلغ من العمر {str(age).translate(INDIC)} عاما", f"{age} عاما"),
            ("fr", f"née en {year - age}", f"{year - age}"),
            ("en", f"born in {year - age}", f"{year - age}"),
        ], 3):
            w.say(language, f"Elle est {written}." if language == "fr" else
                  (f"She is {written}." if language == "en" else f"{written}."))
            w.note("exact age or birth year", GENERALISED, written, needle)
    _fill_texts(rng, w, schema, values)


def _fill_texts(rng, w: _Writer, schema: Schema, values: dict) -> None:
    for name, schema_field in schema.fields.items():
        nested = _nested_schema(schema_field)
        if nested is not None:
            items = values[name] if isinstance(values[name], list) else [values[name]]
            for item in items:
                _fill_texts(rng, w, nested, item)
        elif values.get(name) is None and sharing_of(schema_field) != NEVER:
            if isinstance(schema_field, fields.List):
                values[name] = [w.title(), rng.choice(w.sentences or ["-"])]
            elif name == "title":
                values[name] = w.title()
            else:
                values[name] = w.text()
