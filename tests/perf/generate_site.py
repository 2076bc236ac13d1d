"""Fill a database with a large, realistic site for the scale measurements (tests/perf/scale.py), fast.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_scale_100k \\
        python tests/perf/generate_site.py --articles 100000

Defaults: 5 revisions per article, one reference per 5 articles (at most 20,000). The database must be
migrated and hold no articles (--force adds to one that does).

The shape follows a real clinic's: topics, staff in the Writers, Reviewers and Editors groups, references,
and articles in every workflow state, most of them live. The demo's articles are first taken through the
real workflow (submit, approve, sign off, publish) in a transaction that is rolled back; their rendered
snapshots are the templates. Each generated article varies one template's words (treatment, condition, and
a paragraph drawn from a vocabulary with a long tail, so a common word matches most articles and a rare one
a handful), cites generated references in the template's places, and gets what the workflow would have
written: revisions, evidence statements, approvals, sign-offs, snapshots (an earlier version for older
articles), topic links and audit events. Rows go in with COPY, in batches, one transaction per batch.
"""

import argparse
import bisect
import contextlib
import dataclasses
import datetime
import itertools
import json
import os
import random
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]

BATCH_SIZE = 2_000
MAX_REFERENCES = 20_000
REVISIONS_PER_ARTICLE = 5

# Share of articles per workflow state; "live_edit" is live with an unpublished edit (a draft again),
# "live_edit_review" is live with that edit back in review, "unpublished" was live once.
STATES = {
    "published": 0.836,
    "live_edit": 0.02,
    "live_edit_review": 0.006,
    "draft": 0.05,
    "in_review": 0.02,
    "changes_requested": 0.01,
    "signed_off": 0.008,
    "scheduled": 0.002,
    "archived": 0.035,
    "unpublished": 0.013,
}
LIVE_STATES = {"published", "live_edit", "live_edit_review"}
IN_FLIGHT = {"live_edit", "live_edit_review", "in_review", "changes_requested", "signed_off", "scheduled"}
STATUS = {
    "published": "published", "live_edit": "draft", "live_edit_review": "in_review", "draft": "draft",
    "in_review": "in_review", "changes_requested": "changes_requested", "signed_off": "signed_off",
    "scheduled": "scheduled", "archived": "archived", "unpublished": "draft",
}  # fmt: skip
RETRACTED_CITATION_SHARE = 0.0005  # live articles that cite a retracted reference
EDIT = "<p>We added a note on what the newest studies found.</p>"
# The generated site has no image library: the demo's figures (marker and rendered figure) are left out.
FIGURE_MARKER = re.compile(r"<p>\s*\[\[\s*figure\s*:\s*\d+\s*\]\]\s*</p>", re.IGNORECASE)
FIGURE_ELEMENT = re.compile(r"<figure\b.*?</figure>", re.DOTALL)
EDIT_MESSAGE = "Edited after publication: the live page stays as it was until the edit is reviewed and published."
STATEMENT_COMMENT = "Say this was found in mice, not in people."
ARTICLE_COMMENT = "One claim needs rewording; see the statement comment."
SIGN_OFF_COMMENT = "Claims match the studies."
OVERDUE_SHARE = 0.015  # live articles whose re-review is past due
FEATURED_SHARE = 0.001

# The words that vary. Order matters: earlier entries are drawn more often (a long-tailed distribution).
TREATMENTS = [
    "laser resurfacing", "chemical peels", "microneedling", "retinoid creams", "minoxidil",
    "platelet-rich plasma", "botulinum toxin", "hyaluronic acid fillers", "light therapy", "cryotherapy",
    "topical steroids", "isotretinoin", "vitamin C serums", "silicone gel sheets", "compression therapy",
    "negative pressure wound therapy", "honey dressings", "collagen supplements", "finasteride",
    "spironolactone", "azelaic acid", "niacinamide", "tranexamic acid", "photodynamic therapy", "dermabrasion",
    "radiofrequency microneedling", "intense pulsed light", "biologic injections", "JAK inhibitors",
    "calcineurin inhibitors", "moisturisers", "antibiotic creams", "benzoyl peroxide", "salicylic acid",
    "stem cell creams", "growth factor serums", "LED masks", "hair transplant surgery", "low-level laser caps",
    "fractional CO2 laser", "pulsed dye laser", "steroid injections", "pressure garments", "skin grafts",
    "hyperbaric oxygen", "zinc supplements", "biotin supplements", "probiotic creams", "coal tar shampoos",
    "ketoconazole shampoo", "urea creams", "ceramide creams", "peptide serums", "polynucleotide injections",
    "thread lifts", "sclerotherapy", "electrolysis", "exosomes",
]  # fmt: skip
CONDITIONS = [
    "acne scars", "rosacea", "eczema", "psoriasis", "melasma", "hair loss", "alopecia areata", "wound healing",
    "diabetic foot ulcers", "burn scars", "keloids", "stretch marks", "sun damage", "wrinkles", "age spots",
    "dark circles", "hyperhidrosis", "vitiligo", "warts", "actinic keratosis", "seborrheic dermatitis", "hives",
    "cold sores", "pressure ulcers", "venous leg ulcers", "surgical scars", "thinning hair", "dry skin",
    "oily skin", "enlarged pores", "spider veins", "cellulite", "chronic wounds", "skin laxity", "greying hair",
    "nail fungus", "contact dermatitis", "lichen planus", "hidradenitis suppurativa", "skin ageing",
]  # fmt: skip
AUDIENCES = [
    "", "", "", "", " in older adults", " in teenagers", " after pregnancy", " on darker skin",
    " in people with diabetes", " for men", " for women", " after surgery", " in athletes", " in winter",
    " during cancer treatment",
]  # fmt: skip
TITLE_PATTERNS = [
    "{T} for {C}{A}: what the research shows so far",
    "{T} for {C}{A}: early research and open questions",
    "{T} and {C}{A}: what early studies can and cannot tell you",
    "{C}{A} and {T}: what animal studies show",
    "{T} for {C}{A}: risks, benefits and alternatives",
    "Questions to ask before trying {T} for {C}{A}",
    "How {T} compares with other options for {C}{A}",
    "{T} for {C}{A}: what to expect at your visit",
    "Living with {C}{A}: where {T} fits",
    "{C}{A}: is {T} worth it?",
]
# Words of the varied paragraph, most common first; the last ones match a few articles in 100,000.
TERMS = [
    "itching", "redness", "swelling", "dryness", "peeling", "burning", "stinging", "bruising", "infection",
    "pigmentation", "sunburn", "moisture", "collagen", "inflammation", "tenderness", "scarring", "blisters",
    "flaking", "tightness", "soreness", "crusting", "discoloration", "sensitivity", "oiliness", "breakouts",
    "downtime", "recovery", "follow-up", "insurance", "costs", "appointments", "referrals", "diet", "sleep",
    "stress", "smoking", "alcohol", "exercise", "hydration", "sunscreen", "shaving", "makeup", "fragrance",
    "detergents", "humidity", "pollen", "chlorine", "sweat", "friction", "pregnancy", "breastfeeding",
    "menopause", "puberty", "thyroid", "anaemia", "allergies", "asthma", "diabetes", "obesity", "circulation",
    "immunity", "genetics", "hormones", "antibiotics", "antihistamines", "painkillers", "blood thinners",
    "supplements", "vitamins", "iron", "zinc", "biotin", "keratin", "melanin", "sebum", "follicles", "pores",
    "elastin", "dermis", "epidermis", "capillaries", "lymph", "nerves", "cartilage", "tendons", "ligaments",
    "numbness", "tingling", "throbbing", "fever", "chills", "fatigue", "nausea", "dizziness", "headaches",
    "photosensitivity", "hyperpigmentation", "hypopigmentation", "telangiectasia", "erythema", "pruritus",
    "xerosis", "lichenification", "excoriation", "maceration", "granulation", "epithelialisation", "fibroblasts",
    "keratinocytes", "melanocytes", "cytokines", "macrophages", "angiogenesis", "hydrocolloid", "alginate",
    "debridement", "occlusion", "emollients", "humectants", "occlusives", "ceramides", "squalane", "bakuchiol",
    "centella", "allantoin", "panthenol", "glycerin", "petrolatum", "lanolin", "dimethicone", "zinc oxide",
    "titanium dioxide", "avobenzone", "oxybenzone", "parabens", "sulfates", "phthalates", "formaldehyde",
    "nickel", "latex", "lanolin alcohol", "propolis", "tea tree oil", "aloe vera", "witch hazel", "calendula",
    "chamomile", "oatmeal", "shea butter", "jojoba", "rosehip", "argan", "castor oil", "coconut oil",
    "mandelic acid", "lactic acid", "glycolic acid", "polyhydroxy acids", "retinaldehyde", "adapalene",
    "tretinoin", "tazarotene", "clindamycin", "doxycycline", "metronidazole", "ivermectin", "dapsone",
    "tacrolimus", "pimecrolimus", "crisaborole", "dupilumab", "tralokinumab", "abrocitinib", "upadacitinib",
    "baricitinib", "ritlecitinib", "deucravacitinib", "apremilast", "secukinumab", "ixekizumab", "guselkumab",
    "risankizumab", "tildrakizumab", "bimekizumab", "spesolimab", "ruxolitinib", "omalizumab", "ligelizumab",
    "remibrutinib", "nemolizumab", "lebrikizumab", "roflumilast", "tapinarof", "delgocitinib", "berdazimer",
]  # fmt: skip
# Conditions a handful of articles mention: the rare queries.
RARE_TERMS = [
    "pemphigoid", "morphea", "ichthyosis", "porokeratosis", "calciphylaxis", "pyoderma", "sarcoidosis",
    "scleroderma", "mastocytosis", "xanthelasma", "syringoma", "trichotillomania", "pachyonychia", "epidermolysis",
    "cutis laxa", "pseudoxanthoma", "necrobiosis", "erythromelalgia", "livedoid", "chromhidrosis",
]  # fmt: skip
RARE_SHARE = 0.004  # an article mentions one rare condition with this probability
SENTENCES = [
    "Many people notice {a} and {b} in the first weeks.",
    "Tell your clinician about any {a}, especially if you also have {b}.",
    "Some patients ask whether {a} affects {b}; the answer depends on the person.",
    "Keep a note of {a}, {b} and anything else that changes.",
    "Studies rarely report {a}, so we do not know how often it happens.",
    "If {a} gets worse or {b} appears, stop and call the clinic.",
    "Your own history of {a} and {b} matters when you weigh the choice.",
    "Ask how the clinic handles {a} and what it costs to treat {b}.",
]
# The queries scale.py runs: a very common word, a rare one, a few ordinary ones and a typo.
COMMON_QUERY = "skin"
RARE_QUERY = RARE_TERMS[-1]
SEARCH_QUERIES = [
    COMMON_QUERY, RARE_QUERY, "rosacea laser", "hair loss", "acne scars", "tretinoin", "exosome", "thining hair",
]  # fmt: skip

EXTRA_TOPICS = [
    "Acne", "Rosacea", "Eczema", "Psoriasis", "Melasma and dark spots", "Sun protection", "Skin cancer checks",
    "Scars", "Burns", "Diabetic foot care", "Pressure ulcers", "Leg ulcers", "Hair care", "Alopecia areata",
    "Nail problems", "Sweating", "Vitiligo", "Warts and molluscum", "Cosmetic injections", "Laser treatments",
    "Chemical peels", "Skin care basics", "Allergies and hives", "Children's skin", "Skin in pregnancy",
    "Older skin", "Skin of colour", "Supplements", "Regenerative medicine", "Clinical trials explained",
    "Reading health news", "Recovery after surgery", "Skin infections", "Itch", "Moles",
    "Stretch marks and cellulite",
]  # fmt: skip
TREATMENT_TOPICS = {"Cosmetic injections", "Laser treatments", "Chemical peels", "Regenerative medicine"}
OFFERED_TOPICS = {"Cosmetic injections", "Laser treatments", "Chemical peels"}
FIRST_NAMES = [
    "Amara", "Ben", "Chloe", "Diego", "Elena", "Farah", "George", "Hana", "Isaac", "Jia", "Kofi", "Lena", "Mateo",
    "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Samir", "Tara", "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Adeyemi", "Brooks", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova", "Jensen", "Kim",
    "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Quintero", "Rossi", "Silva", "Tanaka", "Usman", "Varga",
    "Walsh", "Xu", "Yilmaz", "Zhang",
]  # fmt: skip
CREDENTIALS = {
    "Writers": ["RN, patient educator", "MPH, health writer", "PA-C, medical writer"],
    "Reviewers": ["MD, board-certified dermatologist", "MD, wound care specialist", "MD, plastic surgeon"],
    "Editors": ["MPH, managing editor", "MA, senior editor"],
}
JOURNALS = [
    ("Journal of the American Academy of Dermatology", "J Am Acad Dermatol"),
    ("JAMA Dermatology", "JAMA Dermatol"),
    ("British Journal of Dermatology", "Br J Dermatol"),
    ("Dermatologic Surgery", "Dermatol Surg"),
    ("Wound Repair and Regeneration", "Wound Repair Regen"),
    ("Journal of Cosmetic Dermatology", "J Cosmet Dermatol"),
    ("Lasers in Surgery and Medicine", "Lasers Surg Med"),
    ("Stem Cell Research & Therapy", "Stem Cell Res Ther"),
    ("Cochrane Database of Systematic Reviews", "Cochrane Database Syst Rev"),
    ("Journal of Investigative Dermatology", "J Invest Dermatol"),
]
PUBLICATION_TYPES = ["Randomized Controlled Trial", "Review", "Systematic Review", "Cohort Study", "Case Series"]
DESIGNS = ["a randomised trial", "a cohort study", "a systematic review", "a case series", "a mouse study"]

# Words of the templates (all about exosomes) that take the article's own treatment and condition, and the
# citation markers' keys, which take the article's own references.
_SLOTS = re.compile(
    r"(?P<treatment>\b[Ee]xosomes?\b)"
    r"|(?P<condition>\b(?:wound healing|hair loss|thinning hair|skin ageing|wrinkles|scars)\b)"
    r"|@(?P<key>[A-Za-z0-9_](?:[A-Za-z0-9_:.\-]*[A-Za-z0-9_])?)"
)  # the key pattern is articles.citations.KEY_PATTERN


@dataclasses.dataclass
class Template:
    """One demo article as the workflow published it: what generated articles are varied from."""

    title: str
    summary: str
    body: str
    body_html: str
    body_text: str
    references: list[dict]
    statements: list[dict]  # the snapshot's statements
    evidence: list[dict]  # the stored evidence statements: position, text, cited_keys
    approvals: dict[str, dict]  # statement hash: level, certainty, comment
    drafted_with_ai: bool


@dataclasses.dataclass
class Staff:
    writers: list
    reviewers: list
    editors: list
    people: dict  # user id: how snapshots name them

    def person(self, user_id: int) -> dict:
        return self.people[user_id]


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000, help="articles to create (default 100,000)")
    parser.add_argument("--revisions", type=int, help=f"revision rows (default {REVISIONS_PER_ARTICLE} per article)")
    parser.add_argument("--references", type=int, help=f"references (default articles/5, at most {MAX_REFERENCES:,})")
    parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed makes the same site")
    parser.add_argument("--force", action="store_true", help="add to a database that already has articles")
    parser.add_argument("--no-vacuum", action="store_true", help="skip VACUUM ANALYZE at the end")
    options = parser.parse_args(argv)
    if options.articles < 1:
        parser.error("--articles must be at least 1")
    options.revisions = max(options.revisions or options.articles * REVISIONS_PER_ARTICLE, options.articles)
    options.references = options.references or min(max(options.articles // 5, 50), MAX_REFERENCES)
    return options


def setup_django() -> None:
    if str(PROJECT) not in sys.path:
        sys.path.insert(0, str(PROJECT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.settings")
    import django

    django.setup()


def main(argv=None) -> int:
    options = arguments(argv)
    setup_django()
    started = time.monotonic()
    try:
        counts = generate(
            articles=options.articles,
            revisions=options.revisions,
            references=options.references,
            seed=options.seed,
            force=options.force,
            vacuum=not options.no_vacuum,
            log=print,
        )
    except SiteNotEmpty as refusal:
        print(refusal, file=sys.stderr)
        return 2
    summary = ", ".join(f"{count:,} {name}" for name, count in counts.items())
    print(f"Generated {summary} in {time.monotonic() - started:.1f} s.", flush=True)
    return 0


class SiteNotEmpty(Exception):
    """The database already has articles and --force was not given."""


def generate(
    *,
    articles: int,
    revisions: int,
    references: int,
    seed: int = 1,
    force: bool = False,
    vacuum: bool = True,
    log=print,
) -> dict[str, int]:
    """Create the site in the configured database; return how many rows of each kind were made."""
    from django.db import connection

    from articles.models import Article

    if connection.vendor != "postgresql":
        raise SystemExit("The generator writes with PostgreSQL's COPY: point DATABASE_URL at PostgreSQL.")
    if Article.objects.exists() and not force:
        raise SiteNotEmpty(
            f"{connection.settings_dict['NAME']} already has articles: use an empty database, or --force to add."
        )
    rng = random.Random(seed)
    tag = "" if not Article.objects.exists() else f"x{int(time.time()) % 1_000_000}"
    step = time.monotonic()

    def done(what: str) -> None:
        nonlocal step
        log(f"  {what}: {time.monotonic() - step:.1f} s", flush=True)
        step = time.monotonic()

    staff = create_staff(articles, tag=tag)
    topics = create_topics_and_disclaimers()
    done(f"{len(staff.writers) + len(staff.reviewers) + len(staff.editors)} staff, {len(topics)} topics")
    refs = create_references(references, tag=tag, rng=rng, writers=staff.writers)
    done(f"{len(refs):,} references")
    templates = capture_templates(staff)
    done(f"{len(templates)} templates through the workflow")
    counts = create_articles(
        articles, revisions=revisions, staff=staff, topics=topics, refs=refs, templates=templates, rng=rng, tag=tag,
        log=log,
    )  # fmt: skip
    done(f"{articles:,} articles")
    if vacuum:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        done("VACUUM ANALYZE")
    return {"references": len(refs), **counts}


# --- Staff, topics, disclaimers, references -----------------------------------------------------------


def create_staff(articles: int, *, tag: str) -> Staff:
    """Writers, reviewers and editors with profiles; they log in only through force_login (no password)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from articles.models import StaffProfile

    User = get_user_model()
    sizes = {
        "Writers": max(3, articles // 2_000),
        "Reviewers": max(3, articles // 5_000),
        "Editors": max(2, articles // 12_500),
    }
    unusable = make_password(None)
    names = itertools.cycle(itertools.product(LAST_NAMES, FIRST_NAMES))
    by_group: dict[str, list] = {}
    people = {}
    for group_name, size in sizes.items():
        group = Group.objects.get(name=group_name)
        role = group_name.lower().removesuffix("s")
        users = User.objects.bulk_create(
            User(
                username=f"{role}{number:03d}{tag}",
                email=f"{role}{number:03d}{tag}@clinic.example",
                password=unusable,
                is_staff=True,
                date_joined=timezone.now(),
            )
            for number in range(1, size + 1)
        )
        User.groups.through.objects.bulk_create(User.groups.through(user_id=u.pk, group_id=group.pk) for u in users)
        profiles = []
        for number, user in enumerate(users):
            last, first = next(names)
            credentials = CREDENTIALS[group_name][number % len(CREDENTIALS[group_name])]
            profiles.append(
                StaffProfile(
                    user=user,
                    display_name=f"{first} {last}",
                    credentials=credentials,
                    slug=f"{first}-{last}-{user.username}".lower(),
                    bio=f"<p>{first} {last} ({credentials}) works at the clinic.</p>",
                    conflicts_of_interest="None.",
                )
            )
        StaffProfile.objects.bulk_create(profiles)
        for user, profile in zip(users, profiles, strict=True):
            user.staff_profile = profile
            people[user.pk] = {"name": profile.display_name, "credentials": profile.credentials, "slug": profile.slug}
        by_group[group_name] = users
    return Staff(by_group["Writers"], by_group["Reviewers"], by_group["Editors"], people)


def _demo_command():
    import io

    from articles.management.commands import seed_demo

    command = seed_demo.Command(stdout=io.StringIO())
    data = json.loads((seed_demo.DEMO_DIR / "articles.json").read_text(encoding="utf-8"))
    command.evidence = data["evidence"]
    command.grade_overrides = {item["slug"]: item.get("grade_overrides", []) for item in data["articles"]}
    return command, data


def create_topics_and_disclaimers() -> list:
    """The demo's topics and disclaimers (through seed_demo, so as staff would make them), and more topics."""
    from articles.models import Topic

    command, data = _demo_command()
    command.create_topics(data["topics"])
    command.create_disclaimers(data["disclaimers"])
    for name in EXTRA_TOPICS:
        Topic.objects.update_or_create(
            slug=_slugify(name),
            defaults={
                "name": name,
                "description": f"What {name.lower()} is, what causes it, and what the research says about care.",
                "is_treatment": name in TREATMENT_TOPICS,
                "offered_by_clinic": name in OFFERED_TOPICS,
            },
        )
    command.import_demo_references()  # real records, through the importers: the templates cite them
    return list(Topic.objects.order_by("pk"))


def _zipf_weights(size: int, exponent: float = 1.0) -> list[float]:
    return list(itertools.accumulate(1 / (rank**exponent) for rank in range(1, size + 1)))


def _pick(rng: random.Random, population: list, cumulative: list[float]):
    return population[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]


def create_references(count: int, *, tag: str, rng: random.Random, writers: list) -> list:
    """Generated references (with their history row, as an import makes), besides the demo's real ones."""
    from django.utils import timezone

    from articles.models import Reference

    now = timezone.now()
    existing = Reference.objects.count()
    rows = []
    for number in range(max(count - existing, 0)):
        family = LAST_NAMES[number % len(LAST_NAMES)]
        year = 1995 + rng.randrange(31)
        treatment, condition = rng.choice(TREATMENTS), rng.choice(CONDITIONS)
        journal, abbreviation = rng.choice(JOURNALS)
        authors = [
            {"family": rng.choice(LAST_NAMES), "given": f"{rng.choice(FIRST_NAMES)} {chr(65 + rng.randrange(26))}"}
            for _ in range(rng.randint(1, 9))
        ]
        authors[0]["family"] = family
        design = rng.choice(DESIGNS)
        rows.append(
            {
                "citation_key": f"{family.lower()}{year}{tag}n{number}",
                "authors": json.dumps(authors),
                "title": f"{treatment.capitalize()} for {condition}: {design} of {rng.randint(12, 900)} participants",
                "journal": journal,
                "journal_abbrev": abbreviation,
                "year": year,
                "published_on": None,
                "volume": str(rng.randint(1, 90)),
                "issue": str(rng.randint(1, 12)),
                "pages": f"{(first := rng.randint(1, 900))}-{first + rng.randint(3, 15)}",
                "doi": f"10.{5000 + number % 400}/scale{tag}.{number}",
                "pmid": str(20_000_000 + number) if not tag else "",
                "pmcid": f"PMC{7_000_000 + number}" if number % 3 == 0 else "",
                "url": "",
                "open_access_pdf": "",
                "publication_type": rng.choice(PUBLICATION_TYPES),
                "abstract": f"We studied {treatment} for {condition} in {design.removeprefix('a ')}. "
                f"Outcomes included {rng.choice(TERMS)} and {rng.choice(TERMS)} at {rng.randint(4, 52)} weeks.",
                "is_retracted": False,
                "retraction_note": "",
                "created_at": now - datetime.timedelta(days=rng.randrange(2000)),
                "updated_at": now,
            }
        )
    # Retractions are rare (about 1 in 2,500 papers); these few get cited by live articles.
    for row in rng.sample(rows, k=min(len(rows), max(1, len(rows) // 2_500))):
        row["is_retracted"] = True
        row["retraction_note"] = f"Retracted by the journal in {row['year'] + 2}: data could not be verified."
    first_id = _reserve_ids(Reference, len(rows))
    history_first = _reserve_ids(Reference.history.model, len(rows))
    history = []
    for offset, row in enumerate(rows):
        row["id"] = first_id + offset
        history.append(
            {
                **{key: value for key, value in row.items() if key != "updated_at"},
                "history_id": history_first + offset,
                "history_date": row["created_at"],
                "history_change_reason": None,
                "history_type": "+",
                "history_user_id": rng.choice(writers).pk,
            }
        )
    from django.db import connection, transaction

    with transaction.atomic():
        cursor = connection.connection.cursor()
        _copy(cursor, Reference, rows)
        _copy(cursor, Reference.history.model, history)
    return list(Reference.objects.order_by("pk"))


# --- Templates: the demo's articles, published through the real workflow --------------------------------


def capture_templates(staff: Staff) -> list[Template]:
    """Publish the demo articles through the workflow and keep their snapshots; roll all of it back."""
    from django.db import transaction
    from django.test import override_settings

    from articles import workflow
    from articles.models import Article

    command, data = _demo_command()
    command.users = {"writer": staff.writers[0], "reviewer": staff.reviewers[0], "editor": staff.editors[0]}
    templates = []
    publishable = {"live", "live_with_changes", "due_for_rereview", "signed_off", "scheduled"}
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), transaction.atomic():
        for item in data["articles"]:
            if item["demo_state"] not in publishable or item.get("language", "en") != "en":  # the templates are English
                continue
            command.create_article(item)
            article = Article.objects.get(slug=item["slug"])
            if article.live_snapshot_id is None:
                workflow.publish(article, by=staff.editors[0])
                article.refresh_from_db()
            snapshot = article.live_snapshot
            status = workflow.review_status(article) if article.body == snapshot.body_source else None
            approvals = {
                s.sentence.hash: {"level": s.approval.evidence_level, "certainty": s.approval.certainty,
                                  "comment": s.approval.comment}
                for s in (status.statements if status else []) if s.approval
            }  # fmt: skip
            if not approvals:  # an edit is pending: the snapshot's statements say how each was graded
                approvals = {
                    s["hash"]: {"level": s["level"], "certainty": s["certainty"] or "low", "comment": ""}
                    for s in snapshot.statements
                    if s["level"]
                }
            templates.append(
                Template(
                    title=snapshot.title,
                    summary=snapshot.summary,
                    body=FIGURE_MARKER.sub("", snapshot.body_source),
                    body_html=FIGURE_ELEMENT.sub("", snapshot.body_html),
                    body_text=snapshot.body_text,
                    references=snapshot.references,
                    statements=snapshot.statements,
                    evidence=[
                        {"position": n, "text": s.text, "cited_keys": list(s.keys), "hash": s.hash}
                        for n, s in enumerate(_unique_statements(snapshot.body_source), start=1)
                    ],
                    approvals=approvals,
                    drafted_with_ai=snapshot.drafted_with_ai,
                )
            )
        transaction.set_rollback(True)
    if not templates:
        raise RuntimeError("No demo article could be published: the templates are missing.")
    return templates


def _unique_statements(body: str):
    from articles import citations

    return citations.unique_statements(citations.statements(body))


# --- Articles ----------------------------------------------------------------------------------------------


class Ids:
    """Primary keys handed out in this process, so rows can point at each other before they are written.

    Each table's sequence is moved past what was used after every batch (the generator is the only writer).
    """

    def __init__(self, models: dict):
        self.models = models
        self.next = {key: _reserve_ids(model, 1) for key, model in models.items()}
        self.synced = dict(self.next)

    def take(self, key: str) -> int:
        value = self.next[key]
        self.next[key] = value + 1
        return value

    def sync(self) -> None:
        for key, value in self.next.items():
            if value > self.synced[key]:
                _set_sequence(self.models[key], value - 1)
                self.synced[key] = value


def create_articles(
    count: int, *, revisions: int, staff: Staff, topics: list, refs: list, templates: list[Template], rng, tag, log
) -> dict[str, int]:
    """Create `count` articles in batches, each batch with everything the workflow would have written."""
    from django.utils import timezone

    from articles.rendering import reference_entry

    entries = {ref.pk: (ref.citation_key, reference_entry(ref, 0), ref) for ref in refs}
    revision_counts = [1] * count
    for index in rng.choices(range(count), k=revisions - count):
        revision_counts[index] += 1
    states = rng.choices(list(STATES), weights=list(STATES.values()), k=count)
    builder = ArticleBuilder(
        now=timezone.now(), rng=rng, staff=staff, topics=topics, entries=entries, templates=templates, tag=tag,
        retracted=[ref.pk for ref in refs if ref.is_retracted],
    )  # fmt: skip
    totals: dict[str, int] = {}
    started = time.monotonic()
    # Building a batch (Python) and writing the one before (PostgreSQL) overlap: one writer thread.
    with _deferred_search_indexes(fresh=not tag), ThreadPoolExecutor(max_workers=1) as writer:
        writing = None
        for start in range(0, count, BATCH_SIZE):
            numbers = range(start, min(start + BATCH_SIZE, count))
            batch = builder.batch([(n, states[n], revision_counts[n]) for n in numbers])
            if writing is not None:
                writing.result()
            for model, rows in batch.items():
                totals[model._meta.model_name] = totals.get(model._meta.model_name, 0) + len(rows)
            writing = writer.submit(_write_batch, batch)
            if numbers.stop == count or numbers.stop % (BATCH_SIZE * 10) == 0:
                rate = numbers.stop / (time.monotonic() - started)
                log(f"    {numbers.stop:,} of {count:,} articles built ({rate:,.0f} a second)", flush=True)
        writing.result()
        writer.submit(_close_connection).result()
    return {
        "articles": totals.get("article", 0),
        "revisions": totals.get("historicalarticle", 0),
        "snapshots": totals.get("publishedsnapshot", 0),
        "statements": totals.get("evidencestatement", 0),
        "approvals": totals.get("statementapproval", 0),
        "sign-offs": totals.get("reviewsignoff", 0),
        "audit events": totals.get("auditevent", 0),
    }


def _write_batch(batch: dict) -> None:
    """Write one batch in one transaction (in the writer thread, on its own connection), through the workflow's
    gate: the rows are what the workflow would have written (states, snapshots, review records, audit events)."""
    from django.db import connection

    from articles.workflow import gate

    with gate():
        cursor = connection.connection.cursor()
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # articles come before the live snapshots they point at
        for model, rows in batch.items():
            _copy(cursor, model, rows)


def _close_connection() -> None:
    from django.db import connection

    connection.close()


@contextlib.contextmanager
def _deferred_search_indexes(*, fresh: bool):
    """On an empty snapshot table, build its GIN indexes once after the load rather than row by row."""
    from django.db import connection

    from articles.models import PublishedSnapshot

    table = PublishedSnapshot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [table, "% USING gin %"],
        )
        indexes = cursor.fetchall() if fresh and not PublishedSnapshot.objects.exists() else []
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for _name, definition in indexes:
                cursor.execute(definition)
            cursor.execute("RESET maintenance_work_mem")


def _disclaimer_versions() -> dict:
    """The active disclaimers, as snapshots record them: site-wide ones, and those of each topic."""
    from django.db.models import Max

    from articles.models import Disclaimer

    versions = dict(Disclaimer.history.values("id").annotate(latest=Max("history_id")).values_list("id", "latest"))
    sitewide, by_topic = [], {}
    for disclaimer in Disclaimer.objects.active().filter(language="en").prefetch_related("topics"):
        record = {"id": disclaimer.pk, "title": disclaimer.title, "version": versions.get(disclaimer.pk)}
        if disclaimer.scope == Disclaimer.Scope.ALL:
            sitewide.append(record)
        for topic in disclaimer.topics.all():
            by_topic.setdefault(topic.pk, []).append(record)
    return {"sitewide": sitewide, "by_topic": by_topic}


def _days(days: float) -> datetime.timedelta:
    return datetime.timedelta(days=days)


@dataclasses.dataclass
class Cycle:
    """One round of review: submitted, some statements approved, maybe signed off, maybe published."""

    submitted_at: datetime.datetime
    approved: int | None = None  # None: every statement
    signed_at: datetime.datetime | None = None
    published_at: datetime.datetime | None = None
    kind: str = "review"  # or the in-flight state it ends in


class ArticleBuilder:
    """Turns (number, state, revisions) into the rows the workflow would have written for that article."""

    def __init__(self, *, now, rng, staff, topics, entries, templates, tag, retracted):
        from articles import citations, identity
        from articles.models import (
            Article,
            AuditEvent,
            ChangeRequest,
            EvidenceLevel,
            EvidenceStatement,
            PublishedSnapshot,
            ReviewSignOff,
            StatementApproval,
            public_person,
        )

        self.now, self.rng, self.staff, self.topics, self.entries = now, rng, staff, topics, entries
        self.identity, self.public_person = identity, public_person  # as Article.content_hash() pins it
        self.templates, self.tag, self.retracted, self.citations = templates, tag, retracted, citations
        self.labels = {level: EvidenceLevel(level).label for level in EvidenceLevel.values}
        self.models = {
            "article": Article,
            "topics": Article.topics.through,
            "history": Article.history.model,
            "history_topics": Article.history.model.topics.model,
            "statement": EvidenceStatement,
            "approval": StatementApproval,
            "change_request": ChangeRequest,
            "sign_off": ReviewSignOff,
            "snapshot": PublishedSnapshot,
            "snapshot_topics": PublishedSnapshot.topic_set.through,
            "audit": AuditEvent,
        }
        self.ids = Ids(self.models)
        self.disclaimers = _disclaimer_versions()
        self.slugs: set[str] = set()
        self.ref_ids = list(entries)
        self.ref_weights = _zipf_weights(len(self.ref_ids), 0.7)
        self.topic_weights = _zipf_weights(len(topics), 0.8)
        self.treatment_weights = _zipf_weights(len(TREATMENTS), 0.9)
        self.condition_weights = _zipf_weights(len(CONDITIONS), 0.9)
        self.term_weights = _zipf_weights(len(TERMS), 1.1)
        self.compiled: dict[str, list] = {}

    def batch(self, plan: list[tuple[int, str, int]]) -> dict:
        rows: dict[str, list] = {key: [] for key in self.models}
        for number, state, revisions in plan:
            for key, made in self.article(number, state, revisions).items():
                rows[key].extend(made)
        self.ids.sync()
        return {self.models[key]: made for key, made in rows.items() if made}

    # --- What one article is about, and its history ---

    def _title(self, treatment: str, condition: str) -> tuple[str, str]:
        rng = self.rng
        title = rng.choice(TITLE_PATTERNS).format(T=treatment, C=condition, A=rng.choice(AUDIENCES))
        title = title[0].upper() + title[1:]
        base = _slugify(title)[:180].strip("-") + self.tag
        slug = base
        while slug in self.slugs:
            slug = f"{base}-{rng.randrange(2, 10**6)}"
        self.slugs.add(slug)
        return title, slug

    def _pick_distinct(self, population, weights, count: int) -> list:
        chosen: list = []
        while len(chosen) < min(count, len(population)):
            item = _pick(self.rng, population, weights)
            if item not in chosen:
                chosen.append(item)
        return chosen

    def _cycles(self, state: str, interval_months: int) -> tuple[datetime.datetime, list[Cycle]]:
        """When the article was created, and its review rounds, oldest first."""
        rng, now = self.rng, self.now
        interval = interval_months * 30.4
        created = now - _days(rng.uniform(3, 3 * 365))
        cycles = []
        if state in LIVE_STATES or state in ("archived", "unpublished"):
            if state in LIVE_STATES and rng.random() >= OVERDUE_SHARE:
                signed = now - _days(rng.uniform(1, interval - 5))
            else:  # overdue, or taken off the site after its last review
                signed = now - _days(interval + rng.uniform(1, 60))
            earlier = signed - _days(interval)
            if earlier - created > _days(20):  # older articles were reviewed and published before
                cycles.append(self._review(earlier))
            cycles.append(self._review(signed))
        if state in IN_FLIGHT:
            start = max(created, cycles[-1].published_at if cycles else created)
            moment = start + (now - start) * rng.uniform(0.2, 0.95)
            approved = None if state in ("signed_off", "scheduled") else rng.randint(0, 3)
            signed = moment + _days(rng.uniform(0.1, 2)) if approved is None else None
            cycles.append(Cycle(moment, approved=approved, signed_at=signed and min(signed, now), kind=state))
        if cycles:
            created = min(created, cycles[0].submitted_at - _days(rng.uniform(1, 20)))
        return created, cycles

    def _review(self, signed: datetime.datetime) -> Cycle:
        rng = self.rng
        published = min(signed + _days(rng.uniform(0.05, 2)), self.now)
        return Cycle(signed - _days(rng.uniform(1, 10)), signed_at=signed, published_at=published)

    def _vary(self, text: str, about: dict) -> str:
        """Return a template text with the article's treatment, condition and citation keys in its slots."""
        parts = self.compiled.get(text)
        if parts is None:
            parts = self.compiled[text] = _slots(text)
        treatment, condition, key_map = about["treatment"], about["condition"], about["key_map"]
        capitalised = treatment[0].upper() + treatment[1:]
        out = []
        for part in parts:
            if part.__class__ is str:
                out.append(part)
            elif part[0] == "treatment":
                out.append(capitalised if part[1][0].isupper() else treatment)
            elif part[0] == "condition":
                out.append(condition)
            else:
                out.append("@" + key_map.get(part[1], part[1]))
        return "".join(out)

    def article(self, number: int, state: str, revisions: int) -> dict[str, list]:
        rng, staff, take = self.rng, self.staff, self.ids.take
        template = self.templates[number % len(self.templates)]
        treatment = _pick(rng, TREATMENTS, self.treatment_weights)
        condition = _pick(rng, CONDITIONS, self.condition_weights)
        title, slug = self._title(treatment, condition)
        ref_ids = self._pick_distinct(self.ref_ids, self.ref_weights, len(template.references))
        if self.retracted and state in LIVE_STATES and rng.random() < RETRACTED_CITATION_SHARE:
            ref_ids[-1] = rng.choice(self.retracted)
        keys = [entry["key"] for entry in template.references]
        about = {
            "treatment": treatment,
            "condition": condition,
            "key_map": {key: self.entries[ref_id][0] for key, ref_id in zip(keys, ref_ids, strict=False)},
        }
        words = [_pick(rng, TERMS, self.term_weights) for _ in range(6)]
        if rng.random() < RARE_SHARE:
            words[0] = rng.choice(RARE_TERMS)
        extra = " ".join(
            SENTENCES[rng.randrange(len(SENTENCES))].format(a=words[i], b=words[i + 1])
            for i in (0, 2, 4)[: rng.randint(1, 3)]
        )
        topics = sorted(
            self._pick_distinct(self.topics, self.topic_weights, rng.choice([1, 1, 1, 2, 2, 3])), key=lambda t: t.name
        )
        interval = min((t.review_interval_months for t in topics if t.review_interval_months), default=12)
        author, reviewer, editor = rng.choice(staff.writers), rng.choice(staff.reviewers), rng.choice(staff.editors)
        created, cycles = self._cycles(state, interval)

        summary = self._vary(template.summary, about)
        body = f"<p>{extra}</p>" + self._vary(template.body, about)
        working_body = body + EDIT if state in ("live_edit", "live_edit_review") else body
        references = [
            {**self.entries[ref_id][1], "number": entry["number"], "backlink": entry["backlink"]}
            for entry, ref_id in zip(template.references, ref_ids, strict=False)
        ]
        reference_by_key = {self.entries[ref_id][0]: self.entries[ref_id][2] for ref_id in ref_ids}
        content_hash = self.identity.content_hash(
            {  # as patient_visible.hashed gives them
                "title": title,
                "slug": slug,
                "summary": summary,
                "body": body,
                "topics": sorted(topic.slug for topic in topics),
                "author": self.public_person(author),
                "drafted_with_ai": template.drafted_with_ai,
                "review_interval_months": None,
                "references": [reference_by_key[reference["key"]] for reference in references],
            }
        )

        out: dict[str, list] = {key: [] for key in self.models}
        article_id = take("article")
        topic_rows = [{"id": take("topics"), "article_id": article_id, "topic_id": topic.pk} for topic in topics]
        out["topics"] = topic_rows
        statements = []
        for item in template.evidence:
            text = self._vary(item["text"], about)
            cited = [about["key_map"].get(key, key) for key in item["cited_keys"]]
            grade = template.approvals.get(item["hash"]) or {"level": "C", "certainty": "low", "comment": ""}
            statements.append(
                {
                    "row": {
                        "id": take("statement"),
                        "article_id": article_id,
                        "position": item["position"],
                        "text": text,
                        "cited_keys": json.dumps(cited),
                        "statement_hash": self.citations.statement_hash(text, cited),
                    },
                    "references_hash": self.identity.references_hash(cited, reference_by_key),
                    "grade": grade,
                }
            )
        out["statement"] = [statement["row"] for statement in statements]

        def event(actor, action, at, from_state, to_state, message=""):
            out["audit"].append(
                {
                    "id": take("audit"), "at": at, "actor_id": actor.pk, "action": action, "article_id": article_id,
                    "from_state": from_state, "to_state": to_state, "content_hash": content_hash, "message": message,
                }
            )  # fmt: skip

        published: list[datetime.datetime] = []
        live_snapshot_id = live_review_due = None
        last_change = created
        for cycle in cycles:
            moment = cycle.submitted_at
            from_state = "draft"
            if cycle.kind in ("live_edit", "live_edit_review"):
                event(author, "articles.article.edit_live", moment, "published", "draft", EDIT_MESSAGE)
                last_change = moment
                if cycle.kind == "live_edit":
                    continue
                moment += _days(rng.uniform(0.01, 0.5))
            event(author, "articles.article.submit", moment, from_state, "in_review")
            approved = statements if cycle.approved is None else statements[: cycle.approved]
            for statement in approved:
                moment += _days(rng.uniform(0.001, 0.02))
                grade, row = statement["grade"], statement["row"]
                out["approval"].append(
                    {
                        "id": take("approval"), "article_id": article_id, "statement_hash": row["statement_hash"],
                        "statement_text": row["text"], "cited_keys": row["cited_keys"],
                        "references_hash": statement["references_hash"], "evidence_level": grade["level"],
                        "certainty": grade["certainty"], "participants": None, "peer_reviewed": None,
                        "manufacturer_funded": None, "comment": grade["comment"], "reviewer_id": reviewer.pk,
                        "approved_at": min(moment, cycle.signed_at or moment), "self_review": False,
                        "hash_version": self.identity.HASH_VERSION,
                    }
                )  # fmt: skip
                message = (
                    f"Statement {row['position']}: level {grade['level']} ({self.labels[grade['level']]}), "
                    f"certainty {grade['certainty'].replace('_', ' ')}. {grade['comment']}"
                )
                event(reviewer, "articles.statement.approve", min(moment, cycle.signed_at or moment), "in_review",
                      "in_review", message.strip())  # fmt: skip
            last_change = moment
            if cycle.kind == "changes_requested":
                moment += _days(0.01)
                flawed = statements[min(len(statements) - 1, cycle.approved or 0)]["row"] if statements else None
                if flawed:
                    out["change_request"].append(
                        {"id": take("change_request"), "article_id": article_id,
                         "statement_hash": flawed["statement_hash"], "statement_text": flawed["text"],
                         "comment": STATEMENT_COMMENT, "requested_by_id": reviewer.pk, "requested_at": moment}
                    )  # fmt: skip
                    event(reviewer, "articles.statement.request_changes", moment, "in_review", "in_review",
                          f"Statement {flawed['position']}: {STATEMENT_COMMENT}")  # fmt: skip
                out["change_request"].append(
                    {"id": take("change_request"), "article_id": article_id, "statement_hash": "",
                     "statement_text": "", "comment": ARTICLE_COMMENT, "requested_by_id": reviewer.pk,
                     "requested_at": moment}
                )  # fmt: skip
                event(reviewer, "articles.article.request_changes", moment, "in_review", "changes_requested",
                      ARTICLE_COMMENT)  # fmt: skip
                last_change = moment
            if cycle.signed_at is None:
                continue
            sign_off_id = take("sign_off")
            out["sign_off"].append(
                {"id": sign_off_id, "article_id": article_id, "content_hash": content_hash, "reviewer_id": reviewer.pk,
                 "signed_at": cycle.signed_at, "comment": SIGN_OFF_COMMENT, "self_review": False,
                 "hash_version": self.identity.HASH_VERSION}
            )  # fmt: skip
            event(reviewer, "articles.article.sign_off", cycle.signed_at, "in_review", "signed_off", SIGN_OFF_COMMENT)
            last_change = cycle.signed_at
            if cycle.kind == "scheduled":
                last_change = min(cycle.signed_at + _days(0.05), self.now)
                event(editor, "articles.article.schedule", last_change, "signed_off", "scheduled", "For 9:00.")
            if cycle.published_at is None:
                continue
            snapshot_id = take("snapshot")
            snapshot = self._snapshot(
                snapshot_id, article_id, template, about, title=title, slug=slug, summary=summary, body=body,
                extra=extra, references=references, statements=statements, topics=topics, author=author,
                reviewer=reviewer, editor=editor, cycle=cycle, published=published, interval=interval,
                sign_off_id=sign_off_id, content_hash=content_hash,
            )  # fmt: skip
            out["snapshot"].append(snapshot)
            out["snapshot_topics"] += [
                {"id": take("snapshot_topics"), "publishedsnapshot_id": snapshot_id, "topic_id": topic.pk}
                for topic in topics
            ]
            update = "Update of the live version." if published else ""
            event(editor, "articles.article.publish", cycle.published_at, "signed_off", "published", update)
            published.append(cycle.published_at)
            live_snapshot_id, live_review_due = snapshot_id, snapshot["next_review_due"]
            last_change = cycle.published_at
        if state in ("archived", "unpublished"):
            last_change += (self.now - last_change) * rng.uniform(0.1, 0.9)
            verb, reason = (
                ("archive", "Replaced by a newer article.") if state == "archived" else ("unpublish", "Outdated.")
            )
            event(editor, f"articles.article.{verb}", last_change, "published", STATUS[state], reason)
            live_snapshot_id = live_review_due = None
        scheduled_for = self.now + _days(rng.uniform(1, 14)) if state == "scheduled" else None
        out["article"].append(
            {
                "id": article_id, "title": title, "slug": slug, "language": "en", "summary": summary,
                "body": working_body, "status": STATUS[state], "created_at": created, "updated_at": last_change,
                "author_id": author.pk,
                "live_snapshot_id": live_snapshot_id, "live_published_at": live_snapshot_id and published[-1],
                "live_review_due": live_review_due, "review_interval_months": None,
                "scheduled_by_id": editor.pk if scheduled_for else None, "scheduled_for": scheduled_for,
                "is_featured": live_snapshot_id is not None and rng.random() < FEATURED_SHARE,
                "drafted_with_ai": template.drafted_with_ai, "correction_note": "", "key_points": "",
            }
        )  # fmt: skip
        # Revisions: the first without the varied paragraph, the rest as the working copy is now.
        moments = sorted(created + (last_change - created) * rng.random() for _ in range(revisions - 1))
        first_body = self._vary(template.body, about)
        for index, moment in enumerate([created, *moments]):
            history_id = take("history")
            out["history"].append(
                {
                    "id": article_id, "title": title, "slug": slug, "language": "en", "summary": summary,
                    "body": working_body if index else first_body, "created_at": created, "history_id": history_id,
                    "history_date": moment, "history_change_reason": None, "history_type": "~" if index else "+",
                    "author_id": author.pk, "history_user_id": author.pk, "review_interval_months": None,
                    "is_featured": False, "drafted_with_ai": template.drafted_with_ai, "correction_note": "",
                    "key_points": "",
                }
            )  # fmt: skip
            out["history_topics"] += [
                {"m2m_history_id": take("history_topics"), "id": row["id"], "article_id": article_id,
                 "history_id": history_id, "topic_id": row["topic_id"]}
                for row in topic_rows
            ]  # fmt: skip
        return out

    def _snapshot(self, snapshot_id, article_id, template, about, *, title, slug, summary, body, extra, references,
                  statements, topics, author, reviewer, editor, cycle, published, interval, sign_off_id,
                  content_hash) -> dict:  # fmt: skip
        from django.utils import timezone

        person = self.staff.person(reviewer.pk)
        approved_at = cycle.signed_at.isoformat()
        snapshot_statements = [
            {
                **original,
                "hash": statement["row"]["statement_hash"],
                "text": statement["row"]["text"],
                "level": statement["grade"]["level"],
                "label": self.labels[statement["grade"]["level"]],
                "certainty": statement["grade"]["certainty"],
                "approved_by": person["name"],
                "approved_at": approved_at,
            }
            for statement, original in zip(statements, template.statements, strict=False)
        ]
        disclaimers = list(self.disclaimers["sitewide"])
        for topic in topics:
            disclaimers += [d for d in self.disclaimers["by_topic"].get(topic.pk, []) if d not in disclaimers]
        return {
            "id": snapshot_id,
            "article_id": article_id,
            "title": title,
            "slug": slug,
            "language": "en",
            "summary": summary,
            "body_source": body,
            "body_html": f"<p>{extra}</p>" + self._vary(template.body_html, about),
            "body_text": f"{extra} " + self._vary(template.body_text, about),
            "references": json.dumps(references),
            "statements": json.dumps(snapshot_statements),
            "topics": json.dumps(
                [{"id": t.pk, "slug": t.slug, "name": t.name, "offered_by_clinic": t.offered_by_clinic} for t in topics]
            ),
            "author": json.dumps(self.staff.person(author.pk)),
            "reviewed_by": json.dumps(person),
            "reviewers": json.dumps([{**person, "at": approved_at}]),
            "disclaimers": json.dumps(disclaimers),
            "sign_off_id": sign_off_id,
            "reviewed_at": cycle.signed_at,
            "next_review_due": _add_months(timezone.localdate(cycle.signed_at), interval),
            "first_published_at": published[0] if published else cycle.published_at,
            "earlier_versions": json.dumps([moment.isoformat() for moment in reversed(published)]),
            "drafted_with_ai": template.drafted_with_ai,
            "correction_note": "",
            "is_correction": False,
            "earlier_corrections": "[]",
            "contents": "[]",
            "key_points_source": "",
            "key_points_html": "",
            "figures": "[]",
            "content_hash": content_hash,
            "hash_version": self.identity.HASH_VERSION,
            "published_at": cycle.published_at,
            "published_by_id": editor.pk,
        }


def _add_months(day: datetime.date, months: int) -> datetime.date:
    from articles.patient_visible import add_months

    return add_months(day, months)


def _slots(text: str) -> list:
    """Split a template text into literal pieces and (slot, original word) pairs."""
    parts: list = []
    last = 0
    for match in _SLOTS.finditer(text):
        parts.append(text[last : match.start()])
        parts.append((match.lastgroup, match.group(match.lastgroup)))
        last = match.end()
    parts.append(text[last:])
    return parts


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --- Writing -----------------------------------------------------------------------------------------------


def _reserve_ids(model, count: int) -> int:
    """Take `count` ids from the table's sequence and return the first."""
    from django.db import connection

    if count <= 0:
        return 0
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
        (sequence,) = cursor.fetchone()
        cursor.execute("SELECT nextval(%s)", [sequence])
        (first,) = cursor.fetchone()
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


def _set_sequence(model, last: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, %s), %s)", [model._meta.db_table, model._meta.pk.column, last]
        )


def _copy(cursor, model, rows: list[dict]) -> None:
    """Write the rows with COPY; keys are field names or column names of the model."""
    if not rows:
        return
    fields = {field.name: field.column for field in model._meta.concrete_fields}
    fields.update({field.attname: field.column for field in model._meta.concrete_fields})
    names = list(rows[0])
    columns = ", ".join(f'"{fields.get(name, name)}"' for name in names)
    with cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])


if __name__ == "__main__":
    sys.exit(main())
