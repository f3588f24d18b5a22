"""The ordinary words scrubbing must know in Arabic, French and English: month names of the
region, words that name no one, and words that announce a name.

All are given as written and folded once (``core.text.fold_for_matching``), so they compare
with folded text. None of them may fold onto a name: ``على`` ("on") folds to ``علي`` (Ali),
so it is not here (a test keeps every entry off a list of common names).
"""

from __future__ import annotations

from core.text import fold_for_matching

# Month names, by month: MSA and Egyptian, Levantine and Iraqi (Syriac names), Maghreb
# (French-derived), Moroccan, French and English, with the abbreviations people write.
MONTHS: dict[int, tuple[str, ...]] = {
    1: ("يناير", "كانون الثاني", "جانفي", "janvier", "janv", "january", "jan"),
    2: ("فبراير", "شباط", "فيفري", "février", "fevr", "févr", "february", "feb"),
    3: ("مارس", "آذار", "mars", "march", "mar"),
    4: ("أبريل", "إبريل", "ابريل", "نيسان", "أفريل", "افريل", "avril", "avr", "april", "apr"),
    5: ("مايو", "أيار", "ماي", "mai", "may"),
    6: ("يونيو", "يونيه", "حزيران", "جوان", "juin", "june", "jun"),
    7: ("يوليو", "يوليه", "تموز", "جويلية", "جويليه", "يوليوز", "juillet", "juil", "july",
        "jul"),
    8: ("أغسطس", "اغسطس", "آب", "أوت", "اوت", "غشت", "août", "aout", "august", "aug"),
    9: ("سبتمبر", "أيلول", "شتنبر", "septembre", "sept", "september", "sep"),
    10: ("أكتوبر", "اكتوبر", "تشرين الأول", "octobre", "oct", "october"),
    11: ("نوفمبر", "تشرين الثاني", "نونبر", "novembre", "nov", "november"),
    12: ("ديسمبر", "كانون الأول", "دجنبر", "décembre", "déc", "dec", "december"),
}

# Words that name no one and that any narrative is full of: never looked for alone as part
# of a name, an address or a free-text value, and never taken for a name by their skeleton.
ORDINARY = frozenset(fold_for_matching(" ".join([
    # English
    "a an the and or but nor not no yes of to in on at by for from with without into onto",
    "over under after before about against between during since until while when where",
    "who whom whose which what that this these those there here then than as so if because",
    "she her hers herself he him his himself they them their we our you your it its i me my",
    "is are was were be been being has have had do does did would can could might",
    "must shall should also again more most many much some any all each every other another",
    "near far up down out off very only just same such own new old one two three four five",
    "street road avenue building floor apartment flat house village city town district",
    "mr mrs ms miss dr sir madam lawyer brother sister mother father son daughter husband",
    "wife uncle aunt cousin family friend colleague neighbour neighbor women woman rights",
    "association union league network center centre committee office group collective",
    "human defender defenders police court station judge prison ministry national",
    "org com net gmail yahoo hotmail outlook mail email",
    "told asked came went took called saw left home work day days month year years",
    "old age aged born since later early late morning evening night week",
    # French
    "le la les l un une des du de d au aux et ou mais ni ne pas plus que qui quoi dont ou",
    "dans sur sous avec sans pour par chez vers entre avant apres depuis pendant contre",
    "elle elles il ils on nous vous lui leur leurs son sa ses mon ma mes ton ta tes se ce",
    "cet cette ces est sont etait etaient ete a ont avait avaient fait faire dit dire",
    "tres aussi encore deja toujours jamais tout tous toute toutes autre autres meme",
    "rue avenue route cite quartier immeuble etage appartement maison ville pres",
    "m mme mlle me maitre avocat avocate frere soeur mere pere fils fille mari epouse",
    "oncle tante cousin cousine famille ami amie collegue voisin voisine femme femmes",
    "droits droit homme association ligue reseau centre comite collectif bureau groupe",
    "defenseuse defenseur police poste tribunal juge prison ministere nationale national",
    "jour jours mois an ans annee annees age agee nee ne matin soir nuit semaine le",
    # Arabic
    "في من الى إلى عن مع هذا هذه ذلك تلك التي الذي الذين كان كانت يكون عند بعد قبل حتى",
    "منذ خلال ضد بين حول دون او أو و ثم لكن لا لم لن ما ماذا هل قد قال قالت هي هو هم هن",
    "نحن انا أنا انت أنت لها له لهم عليها عليه فيها فيه منها منه إليها اليها كل بعض غير",
    "شارع نهج طريق حي عمارة الطابق شقة منزل بيت قرية مدينة قرب",
    "السيدة المحامي المحامية الأستاذ الأستاذة الدكتور الدكتورة أخ أخت اخ اخت أم ام",
    "أب اب ابن ابنة ابنها ابنتها زوج زوجة زوجها أخوها أختها عم عمة خال خالة عائلة العائلة",
    "صديقة زميلة جارة جار امرأة نساء المرأة حقوق الحقوق جمعية الجمعية رابطة شبكة مركز",
    "لجنة مكتب مجموعة المدافعة المدافعات الشرطة مركز المحكمة القاضي السجن الوزارة",
    "يوم اليوم أيام شهر الشهر سنة السنة عام العام عمرها مواليد مساء ليلة",
])).split())

# Words after which a name usually stands (titles, kinship, a kunya, a lawyer).
NAME_CUES = frozenset(fold_for_matching(" ".join([
    "mr mrs ms miss dr me maitre maître mme mlle m madame monsieur",
    "lawyer avocat avocate sister brother mother father son daughter husband wife",
    "soeur sœur frere frère mere mère pere père fils fille mari epouse épouse",
    "السيدة المحامي المحامية الأستاذ الأستاذة الأستاذه الدكتور الدكتورة",
    "أم أبو ابو بن بنت ابن ابنة أخت أخ أخوها أختها زوجها زوجة ابنها ابنتها",
    "oum om umm abou abu bou ben bent bint ibn",
])).split())

# Words that say a number is an age or a birth year.
AGE_CUES = frozenset(fold_for_matching(" ".join([
    "age aged old years year born ans an agee âgée nee née",
    "عمر عمرها العمر سنة سنه عاما عام مواليد المولودة ولدت",
])).split())


# Words that say the number after them cites a law, a decree or an article ("loi 175/2018",
# "القانون 94/2015"): a number and a year there are a law's, not a phone number.
LEGAL_CUES = frozenset(fold_for_matching(" ".join([
    "law laws act decree decree-law code article articles art",
    "loi lois décret décrets decret décret-loi code article articles art arrêté arrete",
    "قانون القانون قوانين مرسوم المرسوم أمر الأمر قرار القرار مجلة المجلة الفصل فصل المادة مادة",
])).split())


def month_names() -> dict[str, int]:
    """Every folded month name (one or two words) and its month number."""
    return {fold_for_matching(name): month for month, names in MONTHS.items() for name in names}
