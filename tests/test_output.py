"""The one writer: every command × every format works or is refused; presentation
tested in-process with a constructed Reader (as httpie's MockEnvironment), and a few
runs on a real pseudo-terminal end to end."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sys

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from cmx import output
from cmx.cli import app
from cmx.kb import default_data_dir, load_kb
from cmx.output import Format, Reader

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TODAY = "2026-11-22"

# Each command, the arguments that make it print something, and the kind of result it
# hands the writer (which decides the formats it supports).
COMMANDS = [
    (["pillars"], output.Listing),
    (["sectors"], output.Listing),
    (["commitments"], output.Listing),
    (["show", "counter-fentanyl-funding", "--today", TODAY], output.Record),
    (["show", "security"], output.Record),
    (["sources"], output.SourceListing),
    (["actors"], output.Listing),
    (["tags"], output.Listing),
    (["notes"], output.Listing),
    (["search", "fentanyl"], output.Hits),
    (["timeline", "--today", TODAY], output.Listing),
    (["changes", "--since", "2025-09-01", "--today", TODAY], output.Changes),
    (["stats", "--today", TODAY], output.Stats),
]


def parses(fmt: Format, text: str) -> bool:
    """Whether `text` is a well-formed, non-empty document of format `fmt`."""
    if fmt in (Format.JSON, Format.CSL_JSON):
        return bool(json.loads(text))
    if fmt is Format.YAML:
        return bool(yaml.safe_load(text))
    if fmt is Format.CSV:
        return len(list(csv.reader(io.StringIO(text)))) >= 2
    if fmt is Format.BIBTEX:
        return text.lstrip().startswith("@")
    if fmt is Format.MARKDOWN:
        return text.lstrip().startswith(("#", "---"))
    if fmt is Format.ICS:
        return text.startswith("BEGIN:VCALENDAR")
    return bool(text.strip())


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.value)
@pytest.mark.parametrize(
    ("args", "kind"), COMMANDS, ids=lambda a: " ".join(a) if isinstance(a, list) else ""
)
def test_every_command_writes_or_refuses_every_format(runner, args, kind, fmt):
    result = runner.invoke(app, [*args, "--format", fmt.value])
    supported = output.formats(kind)
    if fmt.value in supported and fmt is not Format.SQLITE:
        assert result.exit_code == 0, (result.stdout, result.stderr)
        assert parses(fmt, result.stdout), result.stdout[:500]
    else:
        assert result.exit_code == 2, result.stdout[:300]
        assert result.stdout == ""
        assert "--format" in result.stderr
        assert "choose from: " + ", ".join(supported) in result.stderr


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.value)
def test_export_writes_or_refuses_every_format(runner, fmt, tmp_path):
    result = runner.invoke(app, ["export", fmt.value, "--pillar", "mobility"])
    supported = output.formats(output.Selection)
    if fmt is Format.SQLITE:  # a file, not text
        assert result.exit_code == 2 and "-o plan.db" in result.stderr
        to_file = runner.invoke(app, ["export", "sqlite", "-o", str(tmp_path / "p.db")])
        assert to_file.exit_code == 0 and (tmp_path / "p.db").stat().st_size > 0
    elif fmt is Format.SITE:  # a folder, not text
        assert result.exit_code == 2 and "-o DIR" in result.stderr
    elif fmt.value in supported:
        assert result.exit_code == 0, result.stderr
        assert parses(fmt, result.stdout), result.stdout[:300]
    else:
        assert result.exit_code == 2
        assert "choose from: " + ", ".join(supported) in result.stderr


def test_help_lists_the_formats_from_the_table(runner):
    for command, kind in (
        ("show", output.Record),
        ("stats", output.Stats),
        ("sources", output.SourceListing),
    ):
        shown = " ".join(runner.invoke(app, [command, "--help"]).stdout.split())
        assert "Output: " + ", ".join(output.formats(kind)) + "." in shown, command


# ------------------------------------------------------------ what was wrong


def test_a_card_as_csv_speaks_the_readers_language(runner):
    es = runner.invoke(app, ["show", "counter-fentanyl-funding", "-f", "csv", "--lang", "es"])
    row = next(csv.DictReader(io.StringIO(es.stdout)))
    assert "Título" in row and "Estado" in row and "title" not in row
    assert row["Estado"] == "previsto"
    en = runner.invoke(app, ["show", "counter-fentanyl-funding", "-f", "csv"])
    assert next(csv.DictReader(io.StringIO(en.stdout)))["status"] == "planned"  # for scripts


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("es", "concepto 'narcotráfico' (vinculado)"),
        ("fr", "concept « trafic de stupéfiants » (lié)"),
    ],
)
def test_explanations_speak_the_readers_language(runner, lang, words):
    result = runner.invoke(
        app, ["search", "narcotics", "-n", "1", "--explain", "-f", "json", "--lang", lang]
    )
    assert json.loads(result.stdout)[0]["why"] == [
        f"narcotics{' :' if lang == 'fr' else ':'} {words}"
    ]
    table = runner.invoke(app, ["search", "agrculture", "-n", "1", "--explain", "--lang", lang])
    assert "typo" not in table.stdout and "agriculture" in table.stdout


# ------------------------------------------------------------ constructed readers


@pytest.fixture(scope="module")
def kb():
    return load_kb(default_data_dir())


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_a_card_on_a_terminal_is_aligned_and_wrapped(kb, lang, width):
    reader = Reader(lang, dt.date(2026, 11, 22), width, rich=True, color=True)
    text = output.write(output.Record(kb.get("counter-fentanyl-funding"), kb), Format.TABLE, reader)
    lines = ANSI.sub("", text).splitlines()
    starts = {len(line) - len(line.lstrip()) for line in lines if line.startswith(" ")}
    assert len(starts) == 1  # every wrapped line hangs under the values
    indent = starts.pop()
    for line in lines:
        assert len(line) <= width or " " not in line[indent:].strip(), line  # only a URL overflows
        if not line.startswith(" "):
            assert line[indent - 2 : indent] in (": ", "  "), line  # labels aligned
    assert "\x1b[1m" in text  # labels in bold, and nothing else styled
    assert set(re.findall(r"\x1b\[[0-9;]*m", text)) == {"\x1b[1m", "\x1b[0m"}


def test_a_card_in_a_pipe_is_one_line_per_field(kb):
    reader = Reader("en", dt.date(2026, 11, 22), 0, rich=False, color=False)
    text = output.write(output.Record(kb.get("counter-fentanyl-funding"), kb), Format.TABLE, reader)
    assert "\x1b" not in text
    assert all(not line.startswith(" ") for line in text.splitlines())


@pytest.mark.parametrize("width", [60, 80, 120])
def test_tables_fit_a_constructed_terminal(kb, width):
    from cmx.rows import commitment_row

    rows = [commitment_row(c, kb, "fr", dt.date(2026, 11, 22)) for c in kb.commitments]
    listing = output.Listing(rows, ["id", "pillar", "title", "status", "due"])
    text = output.write(
        listing, Format.TABLE, Reader("fr", dt.date(2026, 11, 22), width, True, False)
    )
    screen = ANSI.sub("", text)
    assert max(len(line) for line in screen.splitlines()) <= width
    assert all(c.id in screen and c.title.fr.split()[0] in screen for c in kb.commitments)


def test_knowledge_base_text_is_never_interpreted_on_a_terminal(kb):
    """Rich would read [bold] as markup and :x: as an emoji; cmx shows text as it is."""
    rows = [{"id": "a", "title": "3:a:1 (a:b:c), :x: [bold]not bold[/bold]"}]
    text = output.write(
        output.Listing(rows, ["id", "title"]), Format.TABLE, Reader(width=80, rich=True)
    )
    assert ":x:" in text and "[bold]not bold[/bold]" in text and "🅰" not in text


# ------------------------------------------------------------ a real terminal


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_no_color_and_a_dumb_terminal_on_a_real_terminal(env):
    from conftest import run_on_pty

    code, screen = run_on_pty(
        [sys.executable, "-m", "cmx", "show", "counter-fentanyl-funding"], "80", **env
    )
    assert code == 0
    assert not re.search(r"\x1b\[[0-9;]*m", screen), screen[:300]
    assert "counter-fentanyl-funding" in screen
    colour = run_on_pty([sys.executable, "-m", "cmx", "show", "counter-fentanyl-funding"], "80")[1]
    assert "\x1b[1m" in colour  # the same terminal, colour allowed: labels in bold


# ------------------------------------------------------------ tags, actors, sources


def test_tags_in_the_readers_language_and_filters_in_any(runner):
    es = runner.invoke(app, ["tags", "--lang", "es"]).stdout
    assert "fentanilo" in es and "seguridad" in es and "security" not in es
    ids = {
        value: [
            c["id"]
            for c in json.loads(
                runner.invoke(app, ["commitments", "--tag", value, "-f", "json"]).stdout
            )
        ]
        for value in ("fentanyl", "fentanilo", "FENTANILO", "Fentanyl")
    }
    assert ids["fentanyl"] and all(v == ids["fentanyl"] for v in ids.values())
    wrong = runner.invoke(app, ["commitments", "--tag", "fentanil", "--lang", "es"])
    assert wrong.exit_code == 2 and "¿quiso decir 'fentanilo'?" in wrong.stderr


def test_an_actor_card_names_it_in_three_languages_and_lists_its_commitments(runner):
    fr = runner.invoke(app, ["show", "rcmp", "--lang", "fr"]).stdout
    assert "Gendarmerie royale du Canada (GRC)" in fr and "Royal Canadian Mounted Police" in fr
    assert "drug-trafficking-fentanyl" in fr and "engagement" in fr
    es = runner.invoke(app, ["show", "rcmp", "--lang", "es"]).stdout
    assert "Interrumpir el tráfico de drogas" in es and "compromiso" in es


def test_publisher_annotations_and_locators_in_the_readers_language(runner):
    es = runner.invoke(app, ["show", "leaders-meetings", "--lang", "es"]).stdout
    assert "reproduce un texto publicado por" in es and "párr. 2" in es and "Preámbulo" in es
    assert "reproducing" not in es and "para." not in es
    fr = runner.invoke(app, ["export", "markdown", "--full", "--lang", "fr"]).stdout
    assert "(par CNW)" in fr and "via CNW" not in fr


def test_ascii_only_output_reads_well():
    """A terminal that cannot show a character gets the nearest ASCII, never '?'."""
    import subprocess

    env = {**__import__("os").environ, "PYTHONIOENCODING": "ascii", "CMX_QUIET": "1"}
    show = subprocess.run(
        [sys.executable, "-m", "cmx", "show", "trade-mission-2026"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert (
        "underway -> " in show.stdout
        and "?" not in show.stdout.split("history:")[1].splitlines()[0]
    )
    full = subprocess.run(
        [sys.executable, "-m", "cmx", "export", "markdown", "--full"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert "Headings marked + are reconstructed" in full.stdout and "marked ++" in full.stdout


def test_people_read_names_not_ids_in_spanish_csv_and_cards(runner):
    """A spreadsheet or card in Spanish names priority areas, actors and tags in Spanish;
    JSON keeps the ids."""
    csv_text = runner.invoke(
        app, ["commitments", "--pillar", "security", "-f", "csv", "--lang", "es"]
    ).stdout
    assert (
        "Tráfico ilícito y lavado de dinero" in csv_text and ",illicit-trafficking," not in csv_text
    )
    assert "Gobierno de Canadá" in csv_text and "government-of-canada" not in csv_text
    data = json.loads(
        runner.invoke(
            app, ["commitments", "--pillar", "security", "-f", "json", "--lang", "es"]
        ).stdout
    )
    assert {"illicit-trafficking"} <= {row["sector"] for row in data}
    card = runner.invoke(app, ["show", "firearms-trafficking", "--lang", "es"]).stdout
    assert (
        "III. Seguridad" in card
        and "Tráfico ilícito y lavado de dinero (illicit-trafficking)" in card
    )
    pillar = runner.invoke(app, ["show", "security", "--lang", "fr"]).stdout
    assert "Dialogue bilatéral sur la sécurité (security-dialogue)" in pillar


def test_explained_concepts_are_named_in_the_readers_language(runner):
    out = runner.invoke(
        app, ["search", "opioides", "--explain", "--lang", "fr", "--fields", "id,why"]
    ).stdout
    assert "« trafic de stupéfiants »" in out and "drug-trafficking »" not in out


def test_a_card_lists_events_oldest_first(runner):
    card = runner.invoke(app, ["show", "ministerial-meetings"]).stdout
    dates = [
        line.split(":", 1)[1].strip().split(":")[0]
        for line in card.splitlines()
        if line.startswith("event:")
    ]
    parsed = [dt.datetime.strptime(d, "%B %d, %Y" if "," in d else "%B %Y").date() for d in dates]
    assert len(parsed) > 5 and parsed == sorted(parsed)


def test_fields_and_sort_take_the_headers_the_reader_sees(runner):
    es = runner.invoke(
        app,
        [
            "commitments",
            "--fields",
            "id,título,plazo",
            "--sort",
            "-Plazo",
            "-f",
            "json",
            "--lang",
            "es",
        ],
    )
    rows = json.loads(es.stdout)
    assert list(rows[0]) == ["id", "title", "due"] and rows[0]["due"] >= rows[1]["due"]
    fr = runner.invoke(
        app, ["commitments", "--fields", "id,echeance", "-f", "json", "--lang", "fr"]
    )
    assert list(json.loads(fr.stdout)[0]) == ["id", "due"]
    wrong = runner.invoke(app, ["commitments", "--fields", "id,fecha", "--lang", "es"])
    assert wrong.exit_code == 2 and "opciones: id" in wrong.stderr


_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text() | st.integers(), inner, max_size=4)
    ),
    max_leaves=25,
)


@given(_JSON_VALUES)
def test_json_text_is_what_json_itself_writes(value):
    """cmx writes indented JSON itself (start-up: json indents in slow Python): the text
    must be json's own, but for C1 controls, which cmx escapes too."""
    from cmx import render

    expected = json.dumps(value, ensure_ascii=False, indent=2)
    expected = expected.translate({c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)})
    assert render.to_json(value) == expected


@given(_JSON_VALUES)
def test_visible_json_is_the_cleaned_values_json(value):
    """A listing's JSON cleans its text in the same walk that writes it: the same text
    as cleaning first, for any value (keys stay as they are, as `clean` leaves them)."""
    from cmx import render

    assert render.to_json(value, visible=True) == render.to_json(render.clean(value))
