import time

import pytest

from articles import claim_words, claims, workflow
from articles.models import BODY_MAX_CHARS, AuditEvent, FindingJustification, RedFlagPhrase
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, member_of
from tests.large_bodies import function_calls, large_body

FLAGS = [
    claims.RedFlag("cure", "Nothing here cures anything.", "Say what studies found."),
    claims.RedFlag("FDA-approved", "Not approved.", "Say the FDA has not approved it."),
    claims.RedFlag("no side effects", "Every treatment has some.", "Name the known side effects."),
    claims.RedFlag("reverse aging", "Not shown.", "Say what was measured."),
    claims.RedFlag("100%", "Absolutes.", "Give numbers."),
    claims.RedFlag("risk-free", "Nothing is.", "Name the risks."),
    claims.RedFlag("clinically proven", "Overstates.", "Name the study."),
]


def phrases(text):
    return [(f.phrase, f.negated) for f in claims.red_flags(text, FLAGS)]


# --- Red flags: word forms, case, punctuation, negation -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "This serum cures acne.",
        "Acne was cured in weeks.",
        "A CURE for wrinkles!",
        "Curing wounds, fast.",
        "Is it a cure?",
        "(cure)",
    ],
)
def test_red_flag_word_forms_and_case_are_found(text):
    assert phrases(text) == [("cure", False)]


@pytest.mark.parametrize(
    "text",
    ["Keep the dressing secure.", "The wound was manicured.", "Obscure studies exist.", "A curious result.", "Curate"],
)
def test_substrings_are_not_red_flags(text):
    assert phrases(text) == []


@pytest.mark.parametrize(
    "text", ["It is FDA-approved.", "It is FDA approved.", "an fda-approved product", "FDA - approved"]
)
def test_hyphenation_and_spacing_do_not_hide_a_phrase(text):
    assert phrases(text) == [("FDA-approved", False)]


def test_multi_word_and_symbol_phrases():
    assert phrases("There are no side effects.") == [("no side effects", False)]
    assert phrases("It reverses aging in weeks.") == [("reverse aging", False)]
    assert phrases("It is 100% natural.") == [("100%", False)]
    assert phrases("A risk free option.") == [("risk-free", False)]
    assert phrases("Clinically proven results.") == [("clinically proven", False)]
    assert phrases("It is 1000% better.") == []


@pytest.mark.parametrize("text", ["Exosomes are not a cure.", "This is no cure for scars.", "It will never cure it."])
def test_negated_red_flags_are_reported_but_do_not_block(text):
    (finding,) = claims.red_flags(text, FLAGS)
    assert finding.negated
    assert not finding.blocking


def test_each_finding_says_why_and_what_instead():
    (finding,) = claims.red_flags("It cures scars.", FLAGS)
    assert "Nothing here cures anything." in finding.message
    assert finding.suggestion == "Say what studies found."
    assert finding.text == "It cures scars."


def test_finding_keys_follow_the_sentence_not_its_markup_or_markers():
    first = claims.red_flags("It cures scars [@a].", FLAGS)[0]
    same = claims.red_flags("It  cures scars[@a] .", FLAGS)[0]
    other = claims.red_flags("It cures all scars [@a].", FLAGS)[0]
    assert first.key == claims.red_flags("It cures scars [@b].", FLAGS)[0].key  # markers are not words
    assert first.key != other.key
    assert len(first.key) == 32
    assert same.rule == first.rule


# --- Evidence wording on each grade ----------------------------------------------------------------------


BENEFIT_IN_PEOPLE = "Exosomes help wounds heal faster."
BENEFIT_IN_MICE = "In mice, exosomes helped wounds heal faster."
BENEFIT_IN_LAB = "In lab studies, exosomes helped skin cells grow."
EXPERT_VIEW = "Experts think exosomes may help wounds heal."
RISK = "Experts warn of a possible risk of helping abnormal cells grow."
SHOWN_TO = "Exosomes have been shown to help hair grow."


@pytest.mark.parametrize(
    ("level", "text", "rules"),
    [
        ("A", BENEFIT_IN_PEOPLE, []),
        ("B", BENEFIT_IN_PEOPLE, []),
        ("C", BENEFIT_IN_PEOPLE, []),
        ("D", BENEFIT_IN_PEOPLE, []),
        ("E", BENEFIT_IN_PEOPLE, ["evidence_wording"]),
        ("F", BENEFIT_IN_PEOPLE, ["evidence_wording"]),
        ("E", BENEFIT_IN_MICE, []),
        ("F", BENEFIT_IN_LAB, []),
        ("E", EXPERT_VIEW, ["evidence_wording"]),  # an expert's view is not an animal study
        ("F", EXPERT_VIEW, []),
        ("F", RISK, []),  # a harm, not a benefit
        ("E", "Mouse skin heals differently from human skin.", []),
        ("A", SHOWN_TO, []),
        ("B", SHOWN_TO, []),
        ("C", SHOWN_TO, ["strong_wording"]),
        ("D", SHOWN_TO, ["strong_wording"]),
        ("E", SHOWN_TO, ["evidence_wording", "strong_wording"]),
        ("D", "It has not been shown to help.", []),
        ("D", "Early reports suggest thicker hair in 30 men.", []),
    ],
)
def test_evidence_wording_rule_on_each_grade(level, text, rules):
    assert [f.rule for f in claims.evidence_wording(text, level)] == rules


WHERE_TEXTS = [
    "In mice, the cream helped wounds heal faster and reduced scarring.",
    "It has not been shown to help; the risk of harm is unknown.",
    "A small trial in people found fewer flares, but no lab studies were done.",
    "Los ratones que usaron la crema sanaron más rápido y con menos cicatrices.",
    "Nothing here matches at all",
    "",
]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("exact", [False, True])
def test_one_search_for_many_words_finds_the_earliest_of_them(language, exact):
    """The checks find the first of many words with one combined pattern: where each word's own pattern finds
    its first match, the earliest of those, or nothing if none does."""
    words = claim_words.words_in(language)
    for text in WHERE_TEXTS:
        for group in (words.benefit, words.harm, words.animal + words.lab, words.people, words.strong):
            starts = [
                found.start()
                for word in group
                if (found := claims.phrase_pattern(word, exact=exact, language=language).search(text))
            ]
            assert claims._first(text, group, exact=exact, language=language) == min(starts, default=None)
    assert claims._first("anything", (), language=language) is None


def test_fda_wording_is_an_error_unless_negated():
    assert [f.rule for f in claims.fda_wording("This FDA-approved serum.")] == ["fda_wording"]
    assert [f.rule for f in claims.fda_wording("It was approved by the FDA in 2020.")] == ["fda_wording"]
    assert claims.fda_wording("It is not FDA-approved.") == []
    assert claims.fda_wording("The FDA has not approved any exosome product.") == []


# --- Readability ------------------------------------------------------------------------------------------


EASY = "<p>Cells send signals. Exosomes are tiny bags. They carry messages. We do not know if they help.</p>"
HARD = (
    "<p>Extracellular vesicles, heterogeneous lipid-bilayer-delimited particles secreted by mesenchymal stromal "
    "cells, demonstrate considerable immunomodulatory and regenerative capabilities in preclinical investigations, "
    "notwithstanding substantial methodological heterogeneity regarding isolation, characterization, "
    "quantification and standardization procedures.</p>"
)
MIDDLING = (
    "<p>Researchers measured how quickly wounds closed in laboratory animals receiving concentrated vesicle "
    "preparations compared with untreated animals over several weeks.</p>"
)


def test_readability_of_texts_with_known_grades():
    easy, hard, middling = claims.readability(EASY), claims.readability(HARD), claims.readability(MIDDLING)
    assert easy.grade < 4
    assert hard.grade > 20
    assert 8 < middling.grade <= 20
    assert easy.findings == []
    (finding,) = hard.findings
    assert finding.blocking
    assert "grade" in finding.message


@pytest.mark.parametrize(("grade", "findings", "blocking"), [(8.0, 0, False), (8.1, 1, False), (10.1, 1, True)])
def test_readability_thresholds(grade, findings, blocking):
    readability = claims.Readability(grade=grade)
    assert len(readability.findings) == findings
    assert readability.blocking is blocking


def test_readability_lists_the_longest_sentences():
    result = claims.readability(
        "<p>Short one. " + "This sentence has quite a few more words in it than the others. Tiny.</p>"
    )
    assert result.longest_sentences[0].startswith("This sentence has quite a few more words")


def test_readability_of_an_empty_body():
    assert claims.readability("").grade == 0.0


# --- Treatment articles --------------------------------------------------------------------------------------


def test_treatment_checklist_names_each_missing_section():
    complete = (
        "<h2>What the research shows</h2><h2>Risks and side effects</h2><h2>Other options</h2>"
        "<h2>What is still unknown</h2><h2>Questions to ask your clinician</h2>"
    )
    assert claims.missing_sections(complete) == []
    missing = claims.missing_sections("<h2>What the research shows</h2><h2>Risks and side effects</h2>")
    assert [f.phrase for f in missing] == ["alternatives", "uncertainty", "help"]
    assert all(not f.blocking for f in missing)


# --- In the workflow: findings block sign-off until changed or justified -------------------------------------


@pytest.mark.django_db
def test_an_unresolved_red_flag_blocks_sign_off_until_a_reviewer_records_why(reviewer):
    RedFlagPhrase.objects.update_or_create(phrase="cure", defaults={"why": "Overstates.", "instead": "Say what."})
    reference = ReferenceFactory()
    writer = member_of("Writers")
    article = ArticleFactory(
        author=writer, body=f"<p>In mice, the cream cures small cuts faster [@{reference.citation_key}].</p>"
    )
    article.topics.add(TopicFactory())
    workflow.submit_for_review(article, by=writer)
    statement = article.evidence_statements.get()
    workflow.approve_statement(
        statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level="E", certainty="low"
    )
    status = workflow.review_status(article)
    (finding,) = [f for f in status.findings if f.rule == "red_flag"]
    with pytest.raises(workflow.WorkflowError, match="Claim check"):
        workflow.sign_off(article, by=reviewer, seen_hash=article.content_hash())
    with pytest.raises(workflow.WorkflowError, match="reason"):
        workflow.justify_finding(article, by=reviewer, finding_key=finding.key, reason="  ")
    with pytest.raises(workflow.WorkflowError, match="no longer applies"):
        workflow.justify_finding(article, by=reviewer, finding_key="0" * 32, reason="x")
    with pytest.raises(workflow.WorkflowError, match="permission to review"):
        workflow.justify_finding(article, by=writer, finding_key=finding.key, reason="Fine.")

    workflow.justify_finding(article, by=reviewer, finding_key=finding.key, reason="The study's own word, in mice.")
    workflow.sign_off(article, by=reviewer, seen_hash=article.content_hash())
    assert FindingJustification.objects.get().reason == "The study's own word, in mice."
    event = AuditEvent.objects.get(action="articles.finding.justify")
    assert "The study's own word, in mice." in event.message


@pytest.mark.django_db
def test_fda_wording_in_a_not_fda_approved_topic_blocks_and_needs_a_topic_disclaimer(editor, reviewer):
    from tests.factories import publish_reviewed

    topic = TopicFactory(not_fda_approved=True)
    reference = ReferenceFactory()
    article = ArticleFactory(body=f"<p>In mice, this FDA-approved serum helped [@{reference.citation_key}].</p>")
    article.topics.add(topic)
    with pytest.raises(workflow.WorkflowError) as refusal:
        publish_reviewed(article, editor=editor, reviewer=reviewer)
    assert "this treatment is not approved by the FDA" in str(refusal.value)


@pytest.mark.django_db
def test_lint_articles_reports_the_live_articles_findings(capsys, editor, settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo")
    capsys.readouterr()
    call_command("lint_articles")
    output = capsys.readouterr().out
    reports = [
        line for line in output.splitlines() if not line.startswith(" ") and ": " in line and "checked" not in line
    ]
    assert reports == [
        "exosomes-skin-ageing: red_flag: “reverse aging”: No treatment has been shown to reverse ageing in people.",
        "exosomes-skin-ageing: evidence_wording: It reads as a benefit in people, but the evidence is level F "
        "(lab studies only).",
        "exosomes-skin-ageing: label_contradiction: "
        + claims.LABEL_CONTRADICTION.format(
            label="Lab study or expert view", level="F", about="people", words="people"
        ),
    ]
    assert "in: “Exosome facials reverse aging in people [@oh2018].”" in output
    assert "4 live article(s) checked, 3 finding(s)." in output  # the Spanish translation passes the Spanish checks


@pytest.mark.django_db
def test_lint_articles_can_fail_on_findings(settings):
    from django.core.management import CommandError, call_command

    settings.DEBUG = True
    call_command("seed_demo")
    with pytest.raises(CommandError, match="3 finding"):
        call_command("lint_articles", "--fail-on-findings")
    with pytest.raises(CommandError):
        call_command("lint_articles", "--no-such-option")


def test_treatment_checklist_ticks_each_covered_section():
    checklist = claims.treatment_checklist("<h2>Risks and side effects</h2><h3>Other options</h3>")
    assert [present for _label, present in checklist] == [False, True, True, False, False]


@pytest.mark.django_db
def test_sign_off_on_the_desk_warns_about_missing_treatment_sections(client, reviewer):
    from django.urls import reverse

    topic = TopicFactory(is_treatment=True)
    reference = ReferenceFactory()
    article = ArticleFactory(body=f"<h2>Risks</h2><p>In mice, it helped [@{reference.citation_key}].</p>")
    article.topics.add(topic)
    writer = member_of("Writers")
    workflow.submit_for_review(article, by=writer)
    statement = article.evidence_statements.get()
    workflow.approve_statement(
        statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level="E", certainty="low"
    )
    client.force_login(reviewer)
    page = client.get(reverse("articles:review_article", args=[article.pk])).content.decode()
    assert "Treatment article checklist" in page
    response = client.post(
        reverse("articles:review_sign_off", args=[article.pk]),
        {"seen_hash": article.content_hash(), "warnings_read": "on"},  # the desk asks to confirm open warnings
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert any(
        t.startswith("Signed off with a warning: Treatment articles need a section on: Alternatives") for t in texts
    )


# --- Edge cases found in review -------------------------------------------------------------------------------


def test_a_negated_hit_does_not_hide_a_real_one_in_the_same_sentence():
    findings = claims.check_article(
        title="", summary="", body_html="<p>This is not a cure, but it cures acne.</p>", flags=FLAGS, levels={}
    )
    assert sorted((f.phrase, f.negated, f.blocking) for f in findings) == [("cure", False, True), ("cure", True, False)]


@pytest.mark.parametrize(
    "text",
    [
        "It not only cures acne, it clears scars.",
        "Without surgery, this cures baldness.",
        "No needles, no downtime: it cures acne.",
        "It is not just a cure.",
    ],
)
def test_negation_stays_in_its_clause_and_not_only_is_not_a_negation(text):
    assert phrases(text) == [("cure", False)]


@pytest.mark.parametrize("text", ["It isn’t a cure.", "It cannot cure acne.", "It won't cure acne."])
def test_negations_with_curly_apostrophes_and_contractions(text):
    assert phrases(text) == [("cure", True)]


@pytest.mark.parametrize(
    "text",
    [
        "It is FDA\u2011approved.",
        "It is FDA\u2013approved.",
        "It cu\u200bres acne.",
        "Results are permanently visible.",
        "It is 100 % natural.",
        "It is 100 percent natural.",
    ],
)
def test_dashes_invisible_characters_and_word_forms_do_not_hide_a_phrase(text):
    flags = [*FLAGS, claims.RedFlag("permanent", "Few studies follow people long enough.", "Say how long.")]
    assert claims.red_flags(text, flags), text


def test_citation_keys_are_not_read_as_words():
    assert phrases("Scars faded in mice [@smith-cure2020].") == []


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        ("Exosomes improve healing rates.", ["evidence_wording"]),  # "rates" is not "rats"
        ("Exosomes reduce the risk of scarring.", ["evidence_wording"]),  # the benefit comes first
        ("Experts warn of a risk of helping abnormal cells grow.", []),  # the harm comes first
    ],
)
def test_benefit_claims_that_mention_numbers_or_harms(text, rules):
    assert [f.rule for f in claims.evidence_wording(text, "E")] == rules


def test_a_readability_justification_holds_only_for_that_grade():
    first = claims.Readability(grade=12.7).findings[0]
    later = claims.Readability(grade=23.3).findings[0]
    assert first.key != later.key


def test_readability_counts_our_sentences_not_textstats():
    academic = (
        "<p>Vesicles, e.g. exosomes, were 2.5 times more abundant in conditioned media (Smith et al. 2020), "
        "i.e. in supernatants harvested after prolonged cultivation under hypoxic conditions.</p>"
    )
    assert claims.readability(academic).grade > 12
    assert claims.readability("<p>Go. Sit. Eat.</p>").grade == 0.0  # never negative


def test_treatment_checklist_matches_words_not_fragments():
    checklist = dict(claims.treatment_checklist("<h2>Ask your pharmacist about masks</h2><h2>How it may help</h2>"))
    assert checklist["Risks and side effects"] is False  # "pharmacist" holds "harm"
    assert checklist["Benefits: what the treatment may do"] is False
    assert checklist["Where to get more help"] is True  # "Ask your"


# --- Long bodies: the checks' work grows in proportion to the body ------------------------------------------


@pytest.mark.django_db
def test_claim_checks_of_a_body_at_the_limit_finish_and_grow_in_proportion_to_it():
    ReferenceFactory(citation_key="mahmoud2025"), ReferenceFactory(citation_key="hu2016")
    topic = TopicFactory(is_treatment=True, not_fda_approved=True)

    def checked(size: int):
        article = ArticleFactory(body=large_body(size), topics=[topic])
        return lambda: workflow.review_status(article)

    started = time.perf_counter()
    status = checked(BODY_MAX_CHARS)()
    assert time.perf_counter() - started < 30  # about 2 s here (tests/perf/body_sizes.py); 10x slower passes
    assert {finding.rule for finding in status.findings} >= {"red_flag", "missing_section"}
    small, double = function_calls(checked(BODY_MAX_CHARS // 8)), function_calls(checked(BODY_MAX_CHARS // 4))
    assert double < 2.5 * small


# --- A label that contradicts its sentence -------------------------------------------------------------------
# Real sentences: the demo articles (articles/demo_content/articles.json) and the seed blog post.


@pytest.mark.parametrize(
    ("level", "text", "about"),
    [
        # The demo's human studies, had they been graded as animal or lab studies.
        (
            "E",
            "Early reports from that one human study suggest thicker and denser hair in 39 people with pattern hair "
            "loss who put exosomes on the scalp [@gupta2023].",
            "people",
        ),
        (
            "E",
            "Early reports from a 2024 study of 30 men with pattern hair loss suggest more hairs in the same area of "
            "scalp 12 weeks after exosome shots, but the study had no comparison group [@ersan2024].",
            "men",
        ),
        ("E", "A review of 12 human studies found less redness after the serum [@gupta2023].", "human"),
        ("F", "Exosome facials reverse aging in people [@oh2018].", "people"),  # the demo's planted claim
        # And the reverse: a level in people on a sentence about animals or cells.
        (
            "A",
            "In mice, shots of these bubbles into the skin pushed resting hair follicles into their growing phase "
            "[@rajendran2017].",
            "mice",
        ),
        (
            "B",
            "A study found that exosomes derived from MSCs can promote the regeneration of damaged heart tissue and "
            "improve heart function in animal models of heart disease [@seed3].",
            "animal",
        ),
        (
            "D",
            "In lab studies, exosomes from stem cells helped aging skin cells make more collagen [@oh2018].",
            "lab",
        ),
    ],
)
def test_a_label_contradicting_its_sentence_is_a_finding(level, text, about):
    (finding,) = claims.label_contradictions(text, level)
    assert finding.rule == "label_contradiction"
    assert finding.blocking
    assert f"(“{about}”)" in finding.message
    expected = claims.LABEL_NOT_IN_PEOPLE_INSTEAD if level in "EF" else claims.LABEL_IN_PEOPLE_INSTEAD
    assert finding.suggestion == expected


@pytest.mark.parametrize(
    ("level", "text"),
    [
        # Negated or hedged mentions of people say what the evidence is not.
        (
            "F",
            "Almost all of the research on exosomes for skin has been done in lab dishes and in animals, not in "
            "people [@mahmoud2025].",
        ),
        (
            "F",
            "Experts who reviewed the research say exosomes look promising for scars in animal studies, but studies "
            "in people are lacking [@mahmoud2025].",
        ),
        (
            "E",
            "A 2023 review found 16 studies of exosomes for hair, and only one of them was done in people "
            "[@gupta2023].",
        ),
        (
            "E",
            "A 2023 review looked at 16 studies of exosomes for hair loss: 15 were done in lab dishes or animals, and "
            "only one was done in people [@gupta2023].",
        ),
        ("E", "No study in people has tested this yet [@hu2016]."),
        ("E", "They do not show that exosomes help wounds in people [@hu2016]."),
        ("F", "However, clinical studies are lacking [@mahmoud2025]."),
        # Human cells in a dish are a lab study; experts' views are level F.
        ("F", "In lab studies, exosomes helped human skin cells make more collagen [@oh2018]."),
        ("F", "Experts say exosome products may carry a risk of infection in patients [@mahmoud2025]."),
        # Labels that fit.
        ("E", "In mice with a cut in the skin, the same kind of exosomes helped the wound close faster [@hu2016]."),
        (
            "D",
            "Early reports from a small study suggest less redness and fewer wrinkles on skin photos after people "
            "used a platelet exosome serum as part of a skin care routine for six weeks [@proffer2022].",
        ),
        ("A", "Results in animals often do not carry over to humans [@review]."),
    ],
)
def test_a_label_that_fits_or_a_hedged_mention_is_not_a_contradiction(level, text):
    assert claims.label_contradictions(text, level) == []


@pytest.mark.django_db
def test_a_contradicting_label_reaches_the_writer_and_the_reviewer_next_to_the_statement(client, reviewer):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    reference = ReferenceFactory()
    writer = member_of("Writers")
    sentence = f"Early reports from a study of 30 men suggest more hair after the shots [@{reference.citation_key}]."
    article = ArticleFactory(
        author=writer, body=f"<p>{sentence}</p><p>In mice, it helped [@{reference.citation_key}].</p>"
    )
    article.topics.add(TopicFactory())
    workflow.submit_for_review(article, by=writer)
    for statement in article.evidence_statements.all():
        workflow.approve_statement(
            statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level="E", certainty="low"
        )
    (finding,) = [f for f in workflow.review_status(article).findings if f.rule == "label_contradiction"]
    with pytest.raises(workflow.WorkflowError, match="Claim check"):
        workflow.sign_off(article, by=reviewer, seen_hash=article.content_hash())

    client.force_login(reviewer)
    desk = client.get(reverse("articles:review_article", args=[article.pk])).content.decode()
    card = desk[desk.index('id="statement-1"') : desk.index('id="statement-2"')]
    assert "Evidence label contradicts the sentence" in card
    assert "“Animal study” (level E)" in card
    assert "(“men”)" in card
    assert "label-contradiction" not in desk[desk.index('id="statement-2"') : desk.index("claim-checks-heading")]

    admin = get_user_model().objects.create_superuser("chief", "chief@clinic.example", "x" * 16)
    client.force_login(admin)
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert "Evidence label contradicts the sentence" in page
    assert finding.suggestion.split("“")[0] in page


# --- Key points (issue 15) -----------------------------------------------------------------------------------------

KEY_POINTS_BODY = (
    "<p>In mice with a cut in the skin, exosomes helped the wound close faster [@hu2016].</p>"
    "<p>The FDA has not approved any exosome product.</p>"
)


def _key_point_findings(key_points: str, **kwargs) -> list:
    findings = claims.check_article(
        title="", summary="", body_html=KEY_POINTS_BODY, key_points_html=key_points, flags=[], levels={}, **kwargs
    )
    return [finding for finding in findings if finding.rule == "unsupported_key_point"]


def test_an_uncited_key_point_that_repeats_a_cited_body_sentence_is_supported():
    assert _key_point_findings("<ul><li>Exosomes helped wounds in mice close faster.</li></ul>") == []


def test_an_uncited_key_point_the_body_does_not_cite_is_a_blocking_finding_a_writer_can_act_on():
    (finding,) = _key_point_findings(
        "<ul><li>Exosomes helped wounds in mice close faster.</li>"
        "<li>Exosomes heal diabetic ulcers in people.</li></ul>"
    )
    assert finding.text == "Exosomes heal diabetic ulcers in people."
    assert finding.blocking
    assert "cites nothing" in finding.message
    assert "Cite the reference" in finding.suggestion


def test_an_uncited_key_point_matching_only_an_uncited_body_sentence_is_a_finding():
    # The body says it, but without a citation: the box may not turn an unreviewed sentence into a key claim.
    (finding,) = _key_point_findings("<ul><li>The FDA has not approved any exosome product.</li></ul>")
    assert finding.text == "The FDA has not approved any exosome product."


def test_cited_key_points_are_statements_and_get_the_red_flag_and_evidence_checks():
    point = "<ul><li>Exosomes are a miracle that heals wounds [@hu2016].</li></ul>"
    (sentence,) = claims.citations.statements(point)
    findings = claims.check_article(
        title="",
        summary="",
        body_html=KEY_POINTS_BODY,
        key_points_html=point,
        flags=[claims.RedFlag("miracle", "No treatment is a miracle.", "Say what it may do.")],
        levels={sentence.hash: "E"},
    )
    assert {f.rule for f in findings if f.text.startswith("Exosomes are a miracle")} == {"red_flag", "evidence_wording"}
    assert _key_point_findings(point) == []  # cited: its approval, not the body, covers it


@pytest.mark.django_db
def test_an_unsupported_key_point_is_on_the_desk_and_blocks_sign_off_until_justified(client):
    ReferenceFactory(citation_key="hu2016")
    writer, reviewer = member_of("Writers"), member_of("Reviewers")
    article = ArticleFactory(
        author=writer,
        topics=[TopicFactory()],
        body=KEY_POINTS_BODY,
        key_points="<ul><li>Exosomes heal diabetic ulcers in people.</li></ul>",
    )
    workflow.submit_for_review(article, by=writer)
    status = workflow.review_status(article)
    (finding,) = [f for f in status.unresolved_findings if f.rule == "unsupported_key_point"]
    assert any("key point cites nothing" in problem for problem in status.sign_off_problems)

    client.force_login(reviewer)
    page = client.get(f"/review/{article.pk}/").content.decode()
    assert "Exosomes heal diabetic ulcers in people." in page
    assert "key point cites nothing" in page

    workflow.justify_finding(article, by=reviewer, finding_key=finding.key, reason="It is the headline of the box.")
    assert not [f for f in workflow.review_status(article).unresolved_findings if f.rule == "unsupported_key_point"]


def test_a_figure_marker_is_not_read_as_a_sentence():
    found = claims.readability("<p>In rats, wounds closed faster.</p><p>[[figure:19]]</p>")
    assert found.longest_sentences == ["In rats, wounds closed faster."]
