"""Loader and validation: every problem reported with file:line, nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmx.kb import KBError, load_kb
from cmx.model import Status


def load(path: Path):
    return load_kb(path)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(KBError) as info:
        load(path)
    return info.value.problems


def test_small_kb_loads_into_dataclasses(kb_dir):
    kb = load(kb_dir)
    assert [p.id for p in kb.pillars] == ["prosperity", "security"]
    assert [s.id for s in kb.sectors] == ["ports", "trafficking"]
    assert kb.sectors[1].pillar == "security"
    c = kb.get("fentanyl-funding")
    assert c.status is Status.UNDERWAY
    assert c.amount.value == 4_400_000
    assert c.title.get("fr") == "Financement contre le fentanyl"
    assert c.sources[0].source == "plan"  # the bare-id shorthand
    assert kb.get("port-upgrade").events[0].what.es == "Grúas entregadas."


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "commitments.yaml",
            "pillar: security",
            "pillar: securty",
            "unknown pillar 'securty' (did you mean 'security'?)",
        ),
        (
            "commitments.yaml",
            "sector: ports",
            "sector: port",
            "unknown sector 'port' (did you mean 'ports'?)",
        ),
        ("commitments.yaml", "status: planned", "status: planed", "'planed' is not one of planned"),
        (
            "commitments.yaml",
            "instrument: funding",
            "instrument: money",
            "'money' is not one of dialogue",
        ),
        (
            "commitments.yaml",
            'due: "2026-03-31"',
            'due: "2026-02-30"',
            "'2026-02-30' is not a real date",
        ),
        (
            "commitments.yaml",
            'due: "2026-03-31"',
            "due: next spring",
            "'next spring' is not a date",
        ),
        (
            "commitments.yaml",
            "sources: [firm]",
            "sources: [frim]",
            "unknown source 'frim' (did you mean 'firm'?)",
        ),
        ("commitments.yaml", "tags: [energy]", "tags: energy", "field 'tags': expected a list"),
        (
            "commitments.yaml",
            "    instrument: meeting",
            "    instrument: meeting\n    colour: red",
            "unknown field 'colour'",
        ),
        (
            "commitments.yaml",
            "    instrument: dialogue\n",
            "    instrument: dialogue\n    instrument: mou\n",
            "duplicate key 'instrument'",
        ),
        (
            "notes.yaml",
            "support: interpretation",
            "support: opinion",
            "'opinion' is not one of stated",
        ),
        (
            "notes.yaml",
            "related: [port-upgrade]",
            "related: [port-upgrad]",
            "unknown commitment 'port-upgrad' (did you mean 'port-upgrade'?)",
        ),
        ("sources.yaml", "kind: official", "kind: offical", "(did you mean 'official'?)"),
        (
            "pillars.yaml",
            "  - id: security",
            "  - id: securit",
            "pillar ids are prosperity, mobility, security, environment",
        ),
        ("pillars.yaml", "number: I\n", "number: no\n", "expected text, got true/false"),
    ],
)
def test_each_problem_names_file_line_and_fix(kb_copy, file, old, new, expected):
    path = kb_copy / file
    before = path.read_text(encoding="utf-8")
    edit(path, old, new)
    problems = problems_of(kb_copy)
    hits = [p for p in problems if expected in p]
    assert hits, problems
    assert hits[0].startswith(f"{path}:"), hits[0]
    # the line reported is the changed line or the start of the entry that holds it
    changed = before[: before.index(old)].count("\n") + 1 + (new.count("\n") > old.count("\n"))
    lines = path.read_text(encoding="utf-8").splitlines()
    entry = max(n for n in range(1, changed + 1) if lines[n - 1].startswith("  - id:"))
    assert int(hits[0].split(":")[1]) in (changed, entry), (hits[0], changed, entry)


def test_missing_required_field(kb_copy):
    path = kb_copy / "commitments.yaml"
    edit(path, "    sector: trafficking\n    title: {en: Border", "    title: {en: Border")
    problems = problems_of(kb_copy)
    assert any("commitment 'border-talks': missing required field 'sector'" in p for p in problems)
    assert any(p.startswith(f"{path}:{line_of(path, 'id: border-talks')}:") for p in problems)


def test_missing_language(kb_copy):
    edit(
        kb_copy / "pillars.yaml",
        "name: {en: Security, es: Seguridad, fr: Sécurité}",
        "name: {en: Security, es: Seguridad}",
    )
    assert any("missing 'fr' text" in p for p in problems_of(kb_copy))


def test_duplicate_ids_across_files(kb_copy):
    edit(kb_copy / "commitments.yaml", "id: border-talks", "id: ports")
    problems = problems_of(kb_copy)
    assert any(
        "duplicate id 'ports' (commitment); first used at" in p and "pillars.yaml" in p
        for p in problems
    )


def test_sector_of_another_pillar(kb_copy):
    edit(kb_copy / "commitments.yaml", "sector: trafficking", "sector: ports")
    assert any("belongs to pillar 'prosperity', not 'security'" in p for p in problems_of(kb_copy))


def test_all_problems_at_once(kb_copy):
    edit(kb_copy / "commitments.yaml", "status: planned", "status: planed")
    edit(kb_copy / "notes.yaml", "support: interpretation", "support: opinion")
    edit(kb_copy / "sources.yaml", "kind: news", "kind: gossip")
    problems = problems_of(kb_copy)
    assert len(problems) >= 3
    assert {Path(p.split(":")[0]).name for p in problems} >= {
        "commitments.yaml",
        "notes.yaml",
        "sources.yaml",
    }


def test_one_invalid_sector_does_not_cascade(kb_copy):
    edit(kb_copy / "pillars.yaml", "number: I.1", "number: [1]")
    problems = problems_of(kb_copy)
    assert len(problems) == 1, problems
    assert "sector 'ports': field 'number'" in problems[0]


def test_missing_optional_notes_file_is_fine(kb_copy):
    (kb_copy / "notes.yaml").unlink()
    assert load(kb_copy).notes == ()


def test_missing_required_file(kb_copy):
    (kb_copy / "sources.yaml").unlink()
    assert problems_of(kb_copy) == [f"{kb_copy / 'sources.yaml'}: file not found"]


def test_data_dir_missing_or_a_file(tmp_path):
    assert "no such folder" in problems_of(tmp_path / "nope")[0]
    (tmp_path / "f.yaml").write_text("x: 1\n")
    assert "is a file" in problems_of(tmp_path / "f.yaml")[0]


@pytest.mark.parametrize("which", ["small", "shipped"])
def test_streamed_first_load_equals_the_two_pass_parse(kb_dir, shipped_dir, which):
    from cmx import kb as kbmod

    folder = kb_dir if which == "small" else shipped_dir
    streamed = kbmod._read_valid(folder, {})
    assert streamed is not None
    assert streamed == kbmod.parse_kb(kbmod.read_raw(folder, lines=True), folder)


# ------------------------------------------------------------ event headlines, tags, sources

TAGS = """tags:
  - id: ports
    label: {en: ports, es: puertos, fr: ports}
  - id: energy
    label: {en: energy, es: energía, fr: énergie}
  - id: fentanyl
    label: {en: fentanyl, es: fentanilo, fr: fentanyl}
  - id: funding
    label: {en: funding, es: financiamiento, fr: financement}
"""

CRANES = "        what: {en: Cranes delivered., es: Grúas entregadas., fr: Grues livrées.}\n"


def headline(en: str, es: str, fr: str) -> str:
    return CRANES + f"        headline: {{en: {en}, es: {es}, fr: {fr}}}\n"


def test_a_short_headline_in_three_languages_loads(kb_copy):
    edit(
        kb_copy / "commitments.yaml",
        CRANES,
        headline("The cranes arrived.", "Llegaron las grúas.", "Les grues sont arrivées."),
    )
    event = load(kb_copy).get("port-upgrade").events[0]
    assert event.headline.es == "Llegaron las grúas."


@pytest.mark.parametrize(
    ("en", "es", "fr", "expected"),
    [
        (
            "The cranes arrived.",
            " ".join(["muy"] * 17),
            "Les grues sont arrivées.",
            "event 2025-12-01: headline 'es' has 17 words; keep it to 16 or fewer",
        ),
        (
            "The cranes arrived and then…",
            "Llegaron las grúas.",
            "Les grues sont arrivées.",
            "event 2025-12-01: headline 'en' ends with an ellipsis",
        ),
    ],
)
def test_a_bad_headline_is_reported_at_its_line(kb_copy, en, es, fr, expected):
    path = kb_copy / "commitments.yaml"
    edit(path, CRANES, headline(en, es, fr))
    problems = problems_of(kb_copy)
    hits = [p for p in problems if expected in p]
    assert hits == [f"{path}:{line_of(path, 'headline:')}: {expected}" + hits[0].split(expected)[1]]


def test_a_headline_needs_all_three_languages(kb_copy):
    path = kb_copy / "commitments.yaml"
    edit(path, CRANES, CRANES + "        headline: {en: The cranes arrived., es: Llegaron.}\n")
    problems = problems_of(kb_copy)
    assert any("missing 'fr' text" in p and p.startswith(f"{path}:") for p in problems), problems


def test_without_tags_file_any_tag_is_accepted(kb_copy):
    assert load(kb_copy).tags == ()


def test_declared_tags_load_with_their_labels(kb_copy):
    (kb_copy / "tags.yaml").write_text(TAGS, encoding="utf-8")
    kb = load(kb_copy)
    assert [t.id for t in kb.tags] == ["ports", "energy", "fentanyl", "funding"]
    assert kb.tag("funding").label.es == "financiamiento"
    assert kb.tag("nothing") is None


def test_an_undeclared_tag_is_reported_with_a_suggestion(kb_copy):
    (kb_copy / "tags.yaml").write_text(TAGS, encoding="utf-8")
    path = kb_copy / "commitments.yaml"
    edit(path, "tags: [fentanyl, funding]", "tags: [fentanyl, fundings]")
    problems = problems_of(kb_copy)
    line = line_of(path, "id: fentanyl-funding")
    assert problems == [
        f"{path}:{line}: commitment 'fentanyl-funding': tag 'fundings' is not declared in "
        "tags.yaml (did you mean 'funding'?)"
    ]


def test_a_duplicate_tag_id_is_reported(kb_copy):
    path = kb_copy / "tags.yaml"
    path.write_text(TAGS + "  - id: energy\n    label: {en: power, es: poder, fr: pouvoir}\n")
    problems = problems_of(kb_copy)
    assert problems == [f"{path}:10: duplicate tag id 'energy'; first on line 4"]


def test_a_tag_label_needs_three_languages(kb_copy):
    path = kb_copy / "tags.yaml"
    path.write_text(TAGS.replace("fr: énergie", "fx: énergie"), encoding="utf-8")
    problems = problems_of(kb_copy)
    assert any(p.startswith(f"{path}:5:") and "energy" in p for p in problems), problems


def test_source_annotations_load_and_copy_of_an_id_must_exist(kb_copy):
    path = kb_copy / "sources.yaml"
    edit(
        path,
        "    publisher: Test Daily\n",
        "    publisher: Test Daily\n    agency: EFE\n    copy_of: plan\n    aggregator: true\n",
    )
    edit(path, "    publisher: Test Ministry\n", "    publisher: Test Ministry\n    via: CNW\n")
    kb = load(kb_copy)
    paper, plan = kb.source("paper"), kb.source("plan")
    assert (paper.agency, paper.copy_of, paper.aggregator) == ("EFE", "plan", True)
    assert (plan.via, plan.copy_of, plan.aggregator) == ("CNW", None, False)
    edit(path, "copy_of: plan", "copy_of: plann")  # looks like an id: it must be one
    problems = problems_of(kb_copy)
    assert any("copy_of: unknown source 'plann' (did you mean 'plan'?)" in p for p in problems)
    edit(path, "copy_of: plann", "copy_of: Test Ministry")  # a name is fine
    assert load(kb_copy).source("paper").copy_of == "Test Ministry"
