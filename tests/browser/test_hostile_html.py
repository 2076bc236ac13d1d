"""Hostile HTML in every field staff type and patients read: nothing of it may run in a patient's browser.

For each batch of vectors from tests/data/hostile_html.py, the test builds a published article whose every
patient-visible staff field carries vectors: the article's title, summary and body (in paragraphs, list items,
links, table cells, headings and quotes, next to a real citation), the cited reference's title, abstract,
journal and author, the topic's name and description, a site-wide and a topic disclaimer (title and text),
the author's and the reviewer's staff profile (display name, credentials, bio, conflicts of interest), the
article's key points, the topic's urgent-help box (heading, who to call, symptoms), and the privacy policy page
(title and body). Every vector of the batch also goes into the summary, which patients
read on the article page, in the cards and in the page metadata.

Chromium then opens the article, its topic, the home page, the article list, search results for a word of the
title, both bio pages, the policy page and a search whose query is itself a vector. Listeners attached before
navigation record dialogs (alert, confirm, prompt), console messages, page errors, popups, navigations away and
every request to a host other than the live server's (aborted). After load the page must have no `window.__xss`,
no event-handler attribute, no script but JSON-LD, no frame, object, embed, base or meta refresh, no SVG, MathML
or foreign form in <main>, no javascript:/vbscript:/data: URL, and rich text holding only the sanitizer's tags.

The browser drops the pages' Content-Security-Policy header: the policy would silently block injected script,
so a hole in the sanitizer would go unnoticed. This test measures the sanitizer alone; CSP is the second line.
"""

import math
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from articles import citations, claims, workflow
from articles.models import Disclaimer, Page, UrgentHelp
from articles.sanitize import clean_html, plain_text
from tests.data.hostile_html import VECTORS
from tests.factories import (
    ArticleFactory,
    DisclaimerFactory,
    ReferenceFactory,
    TopicFactory,
    WriterFactory,
    member_of,
    publish_reviewed,
)

BATCH_SIZE = 40
BATCH_COUNT = math.ceil(len(VECTORS) / BATCH_SIZE)
# Interleaved, so every batch mixes the kinds of vector.
BATCHES = [VECTORS[index::BATCH_COUNT] for index in range(BATCH_COUNT)]
SEARCH_WORD = "quokka"
POLICY_SLUG = "privacy-policy"
SETTLE_MS = 300  # time for autofocus, animation, marquee and meta-refresh payloads to fire after load
READABLE_GRADE = claims.READABILITY_WARNING_GRADE

# Plain-text fields: (name, the longest value the column holds or None, what comes before the vectors).
PLAIN_FIELDS = [
    ("article title", 200, "Quokka notes {n}: "),
    ("reference title", None, "A study of quokkas "),
    ("reference abstract", None, "Abstract. "),
    ("reference journal", 200, "J Quokka "),
    ("reference author", None, "Group "),
    ("topic name", 100, "Quokka topic {n} "),
    ("topic description", None, "About quokkas. "),
    ("site-wide disclaimer title", 200, "Notice "),
    ("topic disclaimer title", 200, "Topic notice "),
    ("author display name", 120, "Ann Writer "),
    ("author credentials", 200, "MD "),
    ("author conflicts of interest", None, "None. "),
    ("reviewer display name", 120, "Rob Reviewer "),
    ("reviewer credentials", 200, "RN "),
    ("reviewer conflicts of interest", None, "None. "),
    ("page title", 200, "Privacy "),
    ("urgent help heading", 120, "Get help "),
    ("urgent help contact", 100, "the nurse "),
    ("urgent help symptom", 200, "Redness "),
]
# Rich-text places, in the order vectors are dealt to them. "body ..." places are in the article body.
BODY_SLOTS = {
    "body paragraph": "<p>Some plain words. {v}</p>",
    "body list item": "<ul><li>{v}</li><li>A safe item.</li></ul>",
    "body link": '<p>Read <a href="https://example.org/guide">{v}</a> for more.</p>',
    "body table cell": "<table><tbody><tr><th>Item</th><td>{v}</td></tr></tbody></table>",
    "body heading": "<h3>{v}</h3>",
    "body quote": "<blockquote>{v}</blockquote>",
}
RICH_FIELDS = ["author bio", "reviewer bio", "site-wide disclaimer text", "topic disclaimer text", "page body"]
RICH_ORDER = [
    "body paragraph",
    "author bio",
    "body list item",
    "site-wide disclaimer text",
    "body link",
    "page body",
    "body table cell",
    "reviewer bio",
    "body heading",
    "topic disclaimer text",
    "body quote",
    "key points",
]
FILLER = "<p>You can ask us. We are here for you.</p>"
# Words of the fields around the vectors that the article page shows: byline, disclaimers, reference, body.
ON_ARTICLE_PAGE = [
    "Ann Writer", "Rob Reviewer", "Notice", "This is for education.", "Topic notice", "This treatment is new.",
    "A study of quokkas", "About quokka care", "Some plain words.", "Key points", "Get help", "Redness",
]  # fmt: skip

# Run in each page after load: what of the document could run code, load from elsewhere or hijack the page.
DOM_PROBLEMS = r"""() => {
    const problems = [];
    const show = (el) => el.outerHTML.replace(/\s+/g, " ").slice(0, 160);
    const URL_ATTRIBUTES = new Set(["href", "src", "action", "formaction", "xlink:href", "background", "poster",
        "data", "dynsrc", "lowsrc", "cite", "ping", "srcset", "code", "codebase", "to", "values", "from", "by"]);
    const BAD_SCHEME = /^(javascript|vbscript|data|livescript):/;
    for (const el of document.querySelectorAll("*")) {
        for (const attr of el.attributes) {
            const name = attr.name.toLowerCase();
            if (name.startsWith("on")) problems.push(`event-handler attribute ${name}: ${show(el)}`);
            if (name === "srcdoc") problems.push(`srcdoc attribute: ${show(el)}`);
            if (URL_ATTRIBUTES.has(name)) {
                // Browsers ignore whitespace and control characters in a scheme: "java\tscript:" runs.
                const url = attr.value.replace(/[\u0000-\u0020\u007f-\u009f]/g, "").toLowerCase();
                const ownFavicon = el.matches('head > link[rel="icon"]') && attr.value === "data:,";
                if (BAD_SCHEME.test(url) && !ownFavicon) {
                    problems.push(`${name}="${attr.value.slice(0, 60)}": ${show(el)}`);
                }
            }
        }
        if (el.id === "__xss" || el.getAttribute("name") === "__xss") problems.push(`clobbers __xss: ${show(el)}`);
    }
    for (const script of document.querySelectorAll("script")) {
        if ((script.getAttribute("type") || "").toLowerCase() !== "application/ld+json") {
            problems.push(`script: ${show(script)}`);
        }
    }
    const anywhere = 'iframe, frame, frameset, object, embed, applet, portal, base, meta[http-equiv], '
        + 'link[rel~="import" i], body link, body style';
    for (const el of document.querySelectorAll(anywhere)) problems.push(`<${el.localName}> element: ${show(el)}`);
    if (document.baseURI !== location.href) problems.push(`document base URL changed to ${document.baseURI}`);
    const main = document.querySelector("main");
    if (!main) return [...problems, "no <main> element"];
    const searchForm = (el) => {
        const form = el.closest("form.search-form");
        return form !== null && form.getAttribute("action") === "/search/" && main.contains(form);
    };
    // The site's own feedback forms: the one section#feedback, a child of the article (never inside staff
    // text), whose every form posts to this article's feedback address.
    const feedbackForms = (el) => {
        const section = el.closest("section#feedback");
        if (section === null || section.parentElement !== main.querySelector("article.article")) return false;
        const forms = [...section.querySelectorAll("form")];
        return forms.every((form) => /^\/articles\/[^/]+\/feedback\/$/.test(form.getAttribute("action") || ""));
    };
    const inMain = "svg, math, form, style, link, template, noscript, textarea, select, button, input, video, "
        + "audio, source, marquee, details, isindex, keygen";
    for (const el of main.querySelectorAll(inMain)) {
        if (!searchForm(el) && !feedbackForms(el)) problems.push(`<${el.localName}> in <main>: ${show(el)}`);
    }
    if (main.querySelectorAll("section#feedback").length > 1) problems.push("more than one feedback section");
    for (const link of main.querySelectorAll("a[href]")) {
        const protocol = new URL(link.getAttribute("href"), location.href).protocol;
        if (!["http:", "https:", "mailto:", "tel:"].includes(protocol)) {
            problems.push(`link with ${protocol} URL: ${show(link)}`);
        }
    }
    // Rich text holds only what the sanitizer allows, and the citation and evidence markup the app adds.
    const TAGS = new Set(["h2", "h3", "h4", "p", "br", "ul", "ol", "li", "strong", "b", "em", "i", "sub", "sup",
        "a", "blockquote", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td"]);
    const ATTRIBUTES = {a: ["href", "title", "rel"], th: ["scope", "colspan", "rowspan"], td: ["colspan", "rowspan"]};
    // A citation link is matched on its own: inside a link, the parser moves it out of its <sup>.
    const APP_MARKUP = "sup.citation, a[href^='#ref-'][aria-label^='Reference '], span.citation-missing, "
        + "span.evidence-label, span.evidence-label span.visually-hidden, mark.evidence-label, p.disclaimer-title, "
        + "span.evidence-tail, a.evidence-label[href='#evidence-labels'], a.evidence-label span.visually-hidden";
    for (const el of document.querySelectorAll(".prose *, aside.disclaimer *, section.key-points > :not(h2) *")) {
        if (el.matches(APP_MARKUP)) continue;
        if (!TAGS.has(el.localName)) problems.push(`<${el.localName}> in rich text: ${show(el)}`);
        for (const attr of el.attributes) {
            if (!(ATTRIBUTES[el.localName] || []).includes(attr.name)) {
                problems.push(`attribute ${attr.name} in rich text: ${show(el)}`);
            }
        }
    }
    return problems;
}"""


@dataclass
class HostileSite:
    """What one batch built, where patients can read it, and where each vector went."""

    article_url: str
    topic_url: str
    author_url: str
    reviewer_url: str
    placements: dict[str, list[str]] = field(default_factory=dict)

    def pages(self, reflected: str) -> dict[str, tuple[str, list[str]]]:
        """Return each page to open: its address, and words that show the hostile content is on it."""
        article = ["Quokka notes", "A plain summary."]
        return {
            "article": (self.article_url, [*article, *ON_ARTICLE_PAGE]),
            "topic": (self.topic_url, ["Quokka topic", "About quokkas.", *article]),
            "home": ("/", [*article, "Quokka topic"]),
            "article list": ("/articles/", article),
            "search": ("/search/?" + urlencode({"q": SEARCH_WORD}), ["Quokka notes", "Rob Reviewer"]),
            "author bio": (self.author_url, ["Ann Writer", "MD", "I work at the clinic.", "None.", *article]),
            "reviewer bio": (self.reviewer_url, ["Rob Reviewer", "RN", "I work at the clinic.", *article]),
            "policy page": (f"/about/{POLICY_SLUG}/", ["Privacy", "We keep your data safe."]),
            "search for a vector": ("/search/?" + urlencode({"q": reflected[:200]}), ["Search our articles"]),
        }


def fit(prefix: str, vectors: list[str], limit: int | None) -> str:
    """Return the prefix and vectors, shortened from the end until the sanitized value fits its column."""
    value = prefix + " ".join(vectors)
    while limit is not None and len(plain_text(value)) > limit:
        value = value[:-1]
    return value


def swallows_what_follows(vector: str) -> bool:
    """Return True if sanitizing the vector also removes everything after it (an unclosed <svg>, <embed> ...)."""
    return "CANARY" not in clean_html(f"<p>{vector}</p><p>CANARY</p>")


def breaks_citations(vector: str) -> bool:
    """Return True if the vector leaves a malformed citation marker, which stops the article going to review."""
    return bool(citations.malformed_markers(clean_html(f"<p>{vector}</p>")))


def cites(place: str) -> bool:
    """Return True if citation markers in this place are read (a malformed one stops the article)."""
    return place.startswith("body") or place == "key points"


def deal(vectors: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Deal each vector to one plain-text field and one rich-text place; return both deals."""
    plain = {name: [] for name, _limit, _prefix in PLAIN_FIELDS}
    for index, vector in enumerate(vectors):
        plain[PLAIN_FIELDS[index % len(PLAIN_FIELDS)][0]].append(vector)
    rich = {name: [] for name in [*RICH_ORDER, "body end", "extra site-wide disclaimers"]}
    swallowers = []
    turn = 0
    for vector in vectors:
        if swallows_what_follows(vector):
            swallowers.append(vector)
            continue
        while breaks_citations(vector) and cites(RICH_ORDER[turn % len(RICH_ORDER)]):
            turn += 1
        rich[RICH_ORDER[turn % len(RICH_ORDER)]].append(vector)
        turn += 1
    # A vector that swallows the rest of its field goes last in a field of its own, so it hides no other vector;
    # when every field has one, it gets a disclaimer of its own.
    free = ["body end", *RICH_FIELDS]
    for vector in swallowers:
        place = next((name for name in free if not (name == "body end" and breaks_citations(vector))), None)
        if place is None:
            rich["extra site-wide disclaimers"].append(vector)
        else:
            free.remove(place)
            rich[place].append(vector)
    return plain, rich


def readable(body: str, statement: str) -> str:
    """Return the body with plain filler after the statement until the claim checks find it easy to read."""
    head, tail = body.split(statement, 1)
    filler = ""
    while claims.readability(clean_html(head + statement + filler + tail)).grade > READABLE_GRADE:
        filler += FILLER
    return head + statement + filler + tail


def build_site(number: int, vectors: list[str]) -> HostileSite:
    plain, rich = deal(vectors)
    values = {name: fit(prefix.format(n=number), plain[name], limit) for name, limit, prefix in PLAIN_FIELDS}

    key = f"hostile{number}"
    reference = ReferenceFactory(
        citation_key=key,
        title=values["reference title"],
        abstract=values["reference abstract"],
        journal_abbrev=values["reference journal"],
        authors=[{"literal": values["reference author"]}, {"family": "Okafor", "given": "Ada"}],
    )
    topic = TopicFactory(
        name=values["topic name"],
        slug=f"hostile-topic-{number}",
        description=values["topic description"],
        requires_topic_disclaimer=True,
    )
    DisclaimerFactory(
        title=values["site-wide disclaimer title"],
        text="<p>This is for education.</p>" + "".join(f"<p>{v}</p>" for v in rich["site-wide disclaimer text"]),
        scope=Disclaimer.Scope.ALL,
    )
    for index, vector in enumerate(rich["extra site-wide disclaimers"], start=1):
        DisclaimerFactory(title=f"Extra notice {index}", text=f"<p>Read this.</p><p>{vector}</p>", position=index)
    topic_disclaimer = DisclaimerFactory(
        title=values["topic disclaimer title"],
        text="<p>This treatment is new.</p>" + "".join(f"<p>{v}</p>" for v in rich["topic disclaimer text"]),
        scope=Disclaimer.Scope.TOPICS,
    )
    topic_disclaimer.topics.set([topic])

    people = {}
    for role, user in (("author", WriterFactory()), ("reviewer", member_of("Reviewers"))):
        profile = user.staff_profile
        profile.display_name = values[f"{role} display name"]
        profile.credentials = values[f"{role} credentials"]
        profile.conflicts_of_interest = values[f"{role} conflicts of interest"]
        profile.bio = "<p>I work at the clinic.</p>" + "".join(f"<p>{v}</p>" for v in rich[f"{role} bio"])
        profile.save()
        people[role] = user

    Page.objects.update_or_create(
        slug=POLICY_SLUG,
        defaults={
            "title": values["page title"],
            "body": "<p>We keep your data safe.</p>" + "".join(f"<p>{v}</p>" for v in rich["page body"]),
            "show_in_footer": True,
        },
    )

    statement = f"<p>In mouse studies, researchers looked at these cells [@{key}].</p>"
    parts = ["<h2>About quokka care</h2>", statement]
    for name, template in BODY_SLOTS.items():
        parts += [template.format(v=vector) for vector in rich[name]]
    parts += [f"<p>{vector}</p>" for vector in rich["body end"]]
    body = readable("".join(parts), statement)
    # Vectors that leave a well-formed marker ("[@x]<script>...") cite a key: it must exist to publish.
    for cited in citations.citation_keys(clean_html(body)):
        if cited != key:
            ReferenceFactory(citation_key=cited)
    UrgentHelp.objects.create(
        topic=topic,
        heading=values["urgent help heading"],
        same_day_contact=values["urgent help contact"],
        symptoms=f"{values['urgent help symptom']}\nA fever",
        same_day_phone="(555) 010-2040",
    )
    article = ArticleFactory(
        title=values["article title"],
        slug=f"hostile-{number}",
        summary="A plain summary. " + " ".join(vectors),
        key_points=f"<ul><li>{statement[3:-4]}</li>" + "".join(f"<li>{v}</li>" for v in rich["key points"]) + "</ul>",
        body=body,
        author=people["author"],
        topics=[topic],
    )
    # Vectors that leave words in the key points are uncited points the body does not say: a reviewer lets them
    # through, so that the page is published and opened.
    workflow.submit_for_review(article, by=member_of("Editors"))
    for finding in workflow.review_status(article).findings:
        if finding.blocking:
            workflow.justify_finding(article, by=people["reviewer"], finding_key=finding.key, reason="Test text.")
    snapshot = publish_reviewed(article, reviewer=people["reviewer"])
    assert [ref["key"] for ref in snapshot.references][:1] == [reference.citation_key]

    placements = {f"{name} (plain text)": plain[name] for name in plain}
    placements |= {f"{name} (rich text)": rich[name] for name in rich if rich[name]}
    placements["article summary (plain text)"] = list(vectors)
    return HostileSite(
        article_url=snapshot.get_absolute_url(),
        topic_url=topic.get_absolute_url(),
        author_url=people["author"].staff_profile.get_absolute_url(),
        reviewer_url=people["reviewer"].staff_profile.get_absolute_url(),
        placements=placements,
    )


@dataclass
class Observed:
    """Everything the listeners saw while one page loaded."""

    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)
    popups: list[str] = field(default_factory=list)


def visit(context, live_server, name: str, path: str, expected: list[str]) -> list[str]:
    """Open one page with every listener attached first; return what went wrong on it."""
    seen = Observed()
    page = context.new_page()

    def on_dialog(dialog):
        seen.dialogs.append(f"{dialog.type}({dialog.message!r})")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda message: seen.console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("framenavigated", lambda frame: seen.navigations.append(frame.url) if frame == page.main_frame else None)
    page.on("popup", lambda popup: seen.popups.append(popup.url))
    xss, dom, text = "undefined", [], ""
    try:
        response = page.goto(path, wait_until="load")
        page.wait_for_timeout(SETTLE_MS)
        status = response.status if response else None
        url = page.url
        if url.startswith(live_server.url + "/"):  # away, it would check the other page
            try:
                xss = page.evaluate("() => typeof window.__xss")
                dom = page.evaluate(DOM_PROBLEMS)
                text = page.inner_text("body")
            except PlaywrightError as error:  # the page navigated while it was being checked
                dom = [f"could not be checked: {error.message.splitlines()[0]}"]
    finally:
        page.close()
    problems = [] if status == 200 else [f"HTTP {status}"]
    problems += [f"dialog {dialog}" for dialog in seen.dialogs]
    problems += [f"console {message}" for message in seen.console]
    problems += [f"page error {error}" for error in seen.errors]
    problems += [f"popup window {url}" for url in seen.popups]
    if xss != "undefined":
        problems.append(f"window.__xss is {xss}")
    away = [moment for moment in [*seen.navigations, url] if not moment.startswith(live_server.url + "/")]
    problems += [f"navigated to {moment}" for moment in away]
    problems += dom
    problems += [f"does not show {words!r}: the hostile content is missing" for words in expected if words not in text]
    return [f"{name} ({path}): {problem}" for problem in problems]


def open_context(browser, live_server, foreign: list[str]):
    """Return a browser context that aborts and records requests to other hosts, and drops the CSP header."""
    own = urlsplit(live_server.url).netloc
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)

    def route(route, request):
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https") or parts.netloc != own:
            foreign.append(f"{request.resource_type} {request.url}")
            route.abort()
        elif request.resource_type == "document":
            response = route.fetch()
            headers = {
                name: value
                for name, value in response.headers.items()
                if name.lower() not in ("content-security-policy", "content-security-policy-report-only")
            }
            route.fulfill(response=response, headers=headers)
        else:
            route.continue_()

    context.route("**/*", route)
    return context


def test_corpus_is_large_and_distinct():
    assert len(VECTORS) >= 150
    assert len(set(VECTORS)) == len(VECTORS), "the corpus repeats a vector"
    assert all("\x00" not in vector for vector in VECTORS), "PostgreSQL text cannot hold NUL"


def test_every_vector_is_placed_in_plain_and_rich_text():
    for vectors in BATCHES:
        plain, rich = deal(vectors)
        assert sorted(v for placed in plain.values() for v in placed) == sorted(vectors)
        assert sorted(v for placed in rich.values() for v in placed) == sorted(vectors)
        assert all(plain.values()), "a plain-text field got no vector"
        assert all(rich[name] for name in RICH_ORDER), "a rich-text place got no vector"


@pytest.mark.parametrize("number", range(len(BATCHES)), ids=[f"batch-{n + 1}" for n in range(len(BATCHES))])
def test_hostile_html_in_staff_fields_never_runs_in_the_patient_site(browser, live_server, roles, number):
    vectors = BATCHES[number]
    site = build_site(number, vectors)
    foreign = []
    context = open_context(browser, live_server, foreign)
    problems = []
    try:
        for name, (path, expected) in site.pages(reflected=vectors[0]).items():
            before = len(foreign)
            problems += visit(context, live_server, name, path, expected)
            problems += [f"{name} ({path}): request to another host: {request}" for request in foreign[before:]]
    finally:
        context.close()
    placed = "\n".join(f"  {where}: {placed!r}" for where, placed in site.placements.items())
    assert not problems, "Hostile HTML got through:\n" + "\n".join(problems) + "\nVectors placed:\n" + placed
