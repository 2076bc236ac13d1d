"""articles/diffs.py: the comparisons reviewers and editors read (word diffs, paragraph diffs)."""

from articles.diffs import paragraph_diff, word_diff


def test_a_replaced_word_is_struck_out_and_its_replacement_inserted():
    assert str(word_diff("the quick fox", "the slow fox")) == "the <del>quick</del> <ins>slow</ins> fox"


def test_identical_texts_have_no_marks_whatever_their_spacing():
    assert str(word_diff("a  b\nc", "a b c")) == "a b c"


def test_text_on_either_side_is_escaped_not_run():
    diff = str(word_diff('<img src=x onerror="alert(1)">', "<script>alert(2)</script>"))
    assert "<img" not in diff
    assert "<script>" not in diff
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in diff
    assert diff.startswith("<del>")
    assert "<ins>" in diff


def test_text_wholly_added_or_removed():
    assert str(word_diff("", "new words")) == "<ins>new words</ins>"
    assert str(word_diff("old words", "")) == "<del>old words</del>"


def test_paragraphs_are_paired_by_their_text_and_only_changed_ones_carry_a_word_diff():
    old = "<p>First stays.</p><p>Second says 30 days.</p><p>Third goes.</p><p>Last stays.</p>"
    new = "<p>First stays.</p><p>Second says 60 days.</p><p>Last stays.</p><p>A new fifth.</p>"
    changes = paragraph_diff(old, new)
    assert [(c.kind, str(c.html)) for c in changes] == [
        ("same", "First stays."),
        ("changed", "Second says <del>30</del> <ins>60</ins> days."),
        ("removed", "Third goes."),
        ("same", "Last stays."),
        ("added", "A new fifth."),
    ]


def test_a_paragraph_inserted_in_the_middle_leaves_the_others_the_same():
    changes = paragraph_diff("<p>One.</p><p>Two.</p>", "<p>One.</p><p>Inserted.</p><p>Two.</p>")
    assert [c.kind for c in changes] == ["same", "added", "same"]


def test_markup_is_compared_as_text_and_list_items_and_headings_count_as_paragraphs():
    old = "<h2>Risks</h2><ul><li>Swelling</li><li>Infection</li></ul>"
    new = "<h2>Risks</h2><ul><li><strong>Swelling</strong></li><li>Infection</li><li>Bruising</li></ul>"
    changes = paragraph_diff(old, new)
    assert [(c.kind, str(c.html)) for c in changes] == [
        ("same", "Risks"),
        ("same", "Swelling"),
        ("same", "Infection"),
        ("added", "Bruising"),
    ]


def test_paragraph_text_is_escaped():
    changes = paragraph_diff("", "<p>Doses 5 &lt; 6 &amp; 7 &gt; 2 &quot;mg&quot;</p>")
    assert [str(c.html) for c in changes] == ["Doses 5 &lt; 6 &amp; 7 &gt; 2 &quot;mg&quot;"]


def test_empty_bodies_have_no_changes():
    assert paragraph_diff("", "") == []
    assert paragraph_diff(None, "<p></p>") == []
