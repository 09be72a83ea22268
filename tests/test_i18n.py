"""A Spanish or French reader sees no English interface; JSON and YAML stay stable English."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmx.cli import app
from cmx.i18n import LOCALE_DIR, Translator, language_from_locale

ROOT = Path(__file__).parent.parent
LEAKS = ROOT.parent / "shared" / "eval" / "i18n_leaks.py"


def run(runner, *args, env=None):
    return runner.invoke(app, list(args), env=env)


# ------------------------------------------------------------ choosing the language


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "es_MX.UTF-8"}, "es"),
        ({"LC_ALL": "fr_CA.UTF-8", "LANG": "es_MX.UTF-8"}, "fr"),
        ({"LC_MESSAGES": "fr_FR", "LANG": "en_US.UTF-8"}, "fr"),
        ({"LANG": "C.UTF-8"}, None),
        ({"LANG": "de_DE.UTF-8"}, None),
        ({}, None),
    ],
)
def test_language_from_the_posix_locale(env, expected):
    assert language_from_locale(env) == expected


def test_lang_from_locale_before_and_after_the_command(runner, shipped_dir):
    spanish = run(runner, "pillars", env={"LANG": "es_MX.UTF-8"})
    assert spanish.exit_code == 0
    assert spanish.stdout.split()[:3] == ["NÚM.", "ID", "NOMBRE"] and "Seguridad" in spanish.stdout
    before = run(runner, "--lang", "fr", "stats")
    assert before.exit_code == 0 and "Engagements par pilier" in before.stdout
    after = run(runner, "--lang", "fr", "stats", "--lang", "es")  # the command's own wins
    assert "Compromisos por pilar" in after.stdout
    env_wins = run(runner, "pillars", env={"LANG": "es_MX.UTF-8", "CMX_LANG": "fr"})
    assert "Sécurité" in env_wins.stdout


# ------------------------------------------------------------ filters in any language


@pytest.mark.parametrize(
    ("option", "values"),
    [
        ("--pillar", ["security", "seguridad", "Sécurité", "III", "SECURITY"]),
        ("--sector", ["trade-facilitation", "I.1"]),
        ("--status", ["underway", "en curso", "en cours"]),
        ("--instrument", ["mou", "MoU", "memorándum de entendimiento", "protocole d'entente"]),
        ("--basis", ["official", "oficial", "officiel"]),
        ("--actor", ["RCMP", "GRC", "Real Policía Montada", "Gendarmerie royale"]),
    ],
)
def test_filters_take_ids_numbers_and_names_in_any_language(runner, option, values):
    found = []
    for value in values:
        result = run(runner, "commitments", option, value, "-f", "json")
        assert result.exit_code == 0, (value, result.stderr)
        found.append([c["id"] for c in json.loads(result.stdout)])
    assert found[0] and all(ids == found[0] for ids in found), option


def test_show_by_the_plans_number(runner):
    by_number = run(runner, "show", "I.1", "-f", "json")
    assert json.loads(by_number.stdout)["id"] == "trade-facilitation"
    assert json.loads(run(runner, "show", "iii", "-f", "json").stdout)["id"] == "security"


def test_unknown_values_get_a_suggestion_in_the_readers_language(runner):
    es = run(runner, "commitments", "--pillar", "segurida", "--lang", "es")
    assert es.exit_code == 2
    assert "cmx: falla: --pillar: 'segurida' no es un valor aceptado" in es.stderr
    assert "¿quiso decir 'seguridad'?" in es.stderr
    fr = run(runner, "commitments", "--status", "en courss", "--lang", "fr")
    assert fr.exit_code == 2 and "vouliez-vous dire « en cours » ?" in fr.stderr
    nothing = run(runner, "search", "xqzvv", "--lang", "fr")
    assert nothing.exit_code == 1 and "aucun résultat" in nothing.stderr
    missing = run(runner, "show", "no-such-entry", "--lang", "es")
    assert "no hay ninguna entrada con el identificador 'no-such-entry'" in missing.stderr


# ------------------------------------------------------------ what is translated


def test_tables_cards_and_csv_are_translated_json_and_yaml_are_not(runner):
    table = run(runner, "commitments", "--lang", "es").stdout
    assert table.split()[:5] == ["ID", "PILAR", "TÍTULO", "ESTADO", "PLAZO"]
    assert "en curso" in table and "underway" not in table and "planned" not in table
    data = json.loads(
        run(runner, "commitments", "--status", "underway", "--lang", "es", "-f", "json").stdout
    )
    assert {c["status"] for c in data} == {"underway"}  # codes stay English
    assert "title" in data[0] and "título" not in data[0]
    rows = list(csv.DictReader(io.StringIO(run(runner, "export", "csv", "--lang", "fr").stdout)))
    assert "Titre" in rows[0] and "État" in rows[0]
    assert {r["État"] for r in rows} <= {"prévu", "en cours", "réalisé", "abandonné"}
    english = list(csv.DictReader(io.StringIO(run(runner, "export", "csv").stdout)))
    assert "title" in english[0] and {r["status"] for r in english} <= {
        "planned",
        "underway",
        "completed",
    }
    yaml_out = run(runner, "show", "counter-fentanyl-funding", "--lang", "fr", "-f", "yaml").stdout
    assert "status: planned" in yaml_out


def test_cards_speak_the_readers_language_with_its_numbers_and_dates(runner):
    fr = run(runner, "show", "counter-fentanyl-funding", "--lang", "fr").stdout
    assert "montant :" in fr and "4\u00a0400\u00a0000\u00a0$\u00a0CA (annoncé)" in fr
    assert "18 septembre 2025" in fr and "état :" in fr
    es = run(runner, "show", "counter-fentanyl-funding", "--lang", "es").stdout
    assert "CAD\u00a04,400,000 (anunciado)" in es and "18 de septiembre de 2025" in es


def test_the_french_brief_writes_amounts_and_dates_the_french_way(runner):
    md = run(
        runner,
        "export",
        "markdown",
        "--full",
        "--lang",
        "fr",
        "--pillar",
        "mobility",
        "--today",
        "2026-11-22",
    ).stdout
    assert "5\u00a0500\u00a0000\u00a0$\u00a0CA" in md
    assert "Produit le 22 novembre 2026" in md
    assert "**État :** " in md  # the French colon
    es = run(
        runner,
        "export",
        "markdown",
        "--full",
        "--lang",
        "es",
        "--pillar",
        "mobility",
        "--today",
        "2026-11-22",
    ).stdout
    assert "Elaborado el 22 de noviembre de 2026" in es and "9.9 millones" in es


def test_stats_and_timeline_in_spanish(runner):
    stats = run(runner, "stats", "--lang", "es").stdout
    assert "Compromisos por estado" in stats and "previsto" in stats and "planned" not in stats
    line = run(runner, "timeline", "--lang", "es", "--today", "2026-11-22").stdout.splitlines()[0]
    assert line.split()[:3] == ["FECHA", "SITUACIÓN", "CLASE"]


def test_validate_speaks_french(runner):
    result = run(runner, "validate", "--lang", "fr")
    assert result.exit_code == 0
    assert result.stderr.startswith("valide : 4 piliers, 19 domaines prioritaires, 47 engagements")


# ------------------------------------------------------------ formats and catalogs


@pytest.mark.parametrize(
    ("lang", "amount", "compact", "date", "month"),
    [
        ("en", "CA$5,500,000", "9.9 million", "November 22, 2026", "March 2026"),
        ("es", "CAD\u00a05,500,000", "9.9 millones", "22 de noviembre de 2026", "marzo de 2026"),
        (
            "fr",
            "5\u00a0500\u00a0000\u00a0$\u00a0CA",
            "9,9 millions",
            "22 novembre 2026",
            "mars 2026",
        ),
    ],
)
def test_locale_formats(lang, amount, compact, date, month):
    t = Translator(lang)
    assert t.amount(5_500_000, "CAD") == amount
    assert t.compact(9_900_000) == compact
    assert t.date("2026-11-22") == date
    assert t.date("2026-03") == month
    assert t.date("2026") == "2026"


def test_every_message_in_the_code_is_translated_in_every_catalog():
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    # Every spelling of a translatable call: _("…"), t.gettext("…"), tr().ngettext(…),
    # t.pgettext(context, "…"), and the markers N_ and C_ (babel matches the name that
    # comes just before the parenthesis, whatever object it is called on).
    keywords = {
        "_": None,
        "gettext": None,
        "N_": None,
        "C_": ((1, "c"), 2),
        "pgettext": ((1, "c"), 2),
        "ngettext": (1, 2),
    }
    found = {
        (context, msg if isinstance(msg, str) else msg[0])
        for _, _, msg, _, context in extract_from_dir(
            str(ROOT / "cmx"), method_map=[("**.py", "python")], keywords=keywords
        )
    }
    assert len(found) > 150
    for lang in ("es", "fr"):
        with open(LOCALE_DIR / lang / "LC_MESSAGES" / "cmx.po", "rb") as fh:
            catalog = read_po(fh)
        translated = {
            (m.context, m.id if isinstance(m.id, str) else m.id[0])
            for m in catalog
            if m.id and m.string and all(m.string if isinstance(m.string, tuple) else [m.string])
        }
        assert found - translated == set(), lang


def test_compiled_catalogs_match_their_sources():
    import gettext

    from babel.messages.pofile import read_po

    for lang, domain in [(x, d) for x in ("es", "fr") for d in ("cmx", "help")]:
        with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po", "rb") as fh:
            catalog = read_po(fh)
        with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.mo", "rb") as mo:
            compiled = gettext.GNUTranslations(mo)
        for m in catalog:
            if not m.id or isinstance(m.id, tuple):
                continue
            got = compiled.pgettext(m.context, m.id) if m.context else compiled.gettext(m.id)
            assert got == m.string, f"{lang}: recompile with pybabel compile ({m.id!r})"


@pytest.mark.skipif(not LEAKS.exists(), reason="needs ../shared/eval/i18n_leaks.py")
def test_no_english_interface_word_in_spanish_or_french_output(tmp_path):
    """The shared checker finds no English interface word. The one kind of hit that is
    not a leak: an option's name suggested as it must be typed (`¿quiso decir
    '--status'?`), which the checker cannot tell from prose; each must be exactly that."""
    cmx = f"{sys.executable} -m cmx"
    result = subprocess.run(
        [sys.executable, str(LEAKS), "--cmx", cmx, "--show"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("leaks="), result.stdout[-3000:]
    found = [line for line in lines[:-1] if not line.startswith("skipped")]
    typed = [line for line in found if re.search(r"'(\w+)' in .*: .*--\1\b", line)]
    assert set(found) == set(typed), "\n".join(sorted(set(found) - set(typed)))
    assert len(typed) <= 2, typed  # es and fr: the one misspelt option of the checker


# ------------------------------------------------------------------ help pages


def _help_catalog(lang):
    from babel.messages.pofile import read_po

    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "help.po", "rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id and m.string}


def test_every_help_text_is_translated_and_keeps_what_is_typed():
    """Each command's and option's help (walked from the app itself) is in the help
    catalog of each language, with every option name, variable and metavar unchanged."""
    from typer.main import get_command

    from cmx.options import HELP_FRAME, help_texts

    group = get_command(app)
    texts = help_texts(group, group.make_context("cmx", ["pillars"], resilient_parsing=True))
    assert len(texts) > 60
    typed = re.compile(r"(?<![\w-])(--?[a-z][\w-]*|[A-Z][A-Z_]{2,})")
    for lang in ("es", "fr"):
        catalog = _help_catalog(lang)
        assert [x for x in texts if x not in catalog] == [], lang
        for text in texts:
            if text in HELP_FRAME:  # Click's frame: words, translated
                continue
            for token in typed.findall(text):
                assert token in catalog[text], (lang, token, catalog[text])


def test_help_pages_speak_the_readers_language(runner):
    es = run(runner, "commitments", "--help", "--lang", "es").stdout
    assert es.startswith("Uso: ") and "commitments [OPCIONES]" in es and "Opciones:" in es
    assert "Only entries past their due date" not in es and "--overdue" in es
    fr = run(runner, "--lang", "fr", "--help").stdout
    assert "Commandes :" in fr and "Show this message and exit." not in fr
    env = run(runner, "search", "--help", env={"CMX_LANG": "es"}).stdout
    assert env.startswith("Uso:")
    en = run(runner, "commitments", "--help").stdout  # the English pages are untouched
    assert (
        en.startswith("Usage: ") and "[OPTIONS]" in en and "Only entries past their due date" in en
    )


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_dates_are_babels_own_whether_their_patterns_are_kept_or_not(lang, tmp_path, monkeypatch):
    """A date is written from the locale's patterns kept in the cache folder (no Babel at
    start-up): every day of a leap year and every month read as Babel writes them, on
    the run that keeps the patterns and on the next one that reads them."""
    import datetime as dt

    from cmx import i18n

    monkeypatch.setenv("CMX_CACHE_DIR", str(tmp_path))
    locale = i18n.LOCALES[lang]
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=n) for n in range(366)]
    expected = [i18n._babel_date(locale, d, whole=True) for d in days]
    if lang == "fr":  # the 1st of a month is "1er" in French prose
        expected = ["1er" + e[1:] if d.day == 1 else e for d, e in zip(days, expected, strict=True)]
    months = [i18n._babel_date(locale, dt.date(2031, n, 1), whole=False) for n in range(1, 13)]
    t = Translator(lang)
    for _run in ("keeps", "reads"):
        i18n._date_patterns.cache_clear()
        assert [t.date(d.isoformat()) for d in days] == expected
        assert [t.date(f"2031-{n:02d}") for n in range(1, 13)] == months
        kept = json.loads((tmp_path / i18n.DATES_FILE).read_text(encoding="utf-8"))
        assert kept[locale] is not None  # written from the kept patterns, not by Babel
    i18n._date_patterns.cache_clear()


def test_a_damaged_or_foreign_dates_file_is_asked_of_babel_again(tmp_path, monkeypatch):
    from cmx import i18n

    monkeypatch.setenv("CMX_CACHE_DIR", str(tmp_path))
    path = tmp_path / i18n.DATES_FILE
    for text in (
        "{not json",
        json.dumps({"babel": "another Babel", "es_MX": ["y", "y", ["x"] * 12]}),
        json.dumps({"babel": i18n._babel_key(), "es_MX": ["MMMM", "y", ["x"]]}),
    ):
        path.write_text(text, encoding="utf-8")
        i18n._date_patterns.cache_clear()
        assert Translator("es").date("2026-11-22") == "22 de noviembre de 2026"
    i18n._date_patterns.cache_clear()


def test_a_pattern_with_fields_cmx_does_not_write_is_left_to_babel():
    import datetime as dt

    from cmx import i18n

    day = dt.date(2026, 3, 9)
    months = [f"m{n}" for n in range(1, 13)]
    assert i18n._write_pattern("d 'de' MMMM 'de' y", day, months) == "9 de m3 de 2026"
    assert i18n._write_pattern("dd/MM/yyyy 'o''clock'", day, months) == "09/03/2026 o'clock"
    assert i18n._write_pattern("EEEE d MMMM y", day, months) is None  # the weekday
    assert i18n._write_pattern("d MMM y", day, months) is None  # abbreviated months


def _folded_by_unicodedata(text: str) -> str:
    import unicodedata

    marks = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
    return marks.sub("", unicodedata.normalize("NFKD", text.casefold()))


def test_every_character_folded_without_unicodedata_folds_as_unicodedata_folds_it():
    from cmx import i18n

    assert len(i18n._FOLD_KNOWN) > 300
    for ch in sorted(i18n._FOLD_KNOWN):
        assert i18n.fold(ch) == _folded_by_unicodedata(ch), repr(ch)


_LATIN_TEXT = st.text(
    alphabet=st.sampled_from(sorted("ÉéÑñçÇœŒßÆ…\u00a0\u202f’«» ½İſaZ-'.1")) | st.characters(),
    max_size=40,
)


@given(_LATIN_TEXT)
def test_folding_is_unicodedatas_whatever_the_text(text):
    """The fast table and the full path give the same text, for text the table covers
    and text it does not (a combining mark, another script)."""
    from cmx import i18n

    expected = _folded_by_unicodedata(text)
    assert i18n.fold(text) == expected
    if i18n._FOLD_KNOWN.issuperset(text):  # the table alone, at any length
        assert text.translate(i18n._FOLD_TABLE).lower() == expected
