"""The documentation in docs/ stays true of the code, mechanically.

* ``docs/case-format.md`` names every table of :data:`commissioning.inputs.schema.TABLES`
  under its own heading, with a row per column in contract order, the column's type and
  whether it is required as the schema has them; and every setting of ``CaseSettings``.
* ``docs/scenario-format.md`` names every key of ``ScenarioFile`` and, in the key's own
  section, every key of the entries it holds (``BudgetChange`` under ``budgets`` …); every
  YAML example on the page is valid against the West Yorkshire case, and an example that
  quotes one of the case's scenario files says what that file says.
* ``docs/outputs.md`` names, in each file's section, every column the code writes
  (``FLAG_COLUMNS``, ``ASK_COLUMNS``, the allocations, coverage, comparison and sensitivity
  columns), every key of ``summary.json`` and the agreement's sheets and columns.
* Every relative link in README.md, docs/*.md and the example scenarios' README points to
  a file that exists (and, for a link with ``#anchor`` into a Markdown file, a heading).
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
import yaml

from commissioning.analysis.agreement_layout import ALLOC_COLUMNS, CHECK_COLUMNS, SHEETS
from commissioning.analysis.asks import ASK_COLUMNS
from commissioning.analysis.package import PACKAGE_COLUMNS
from commissioning.analysis.compare import COMPARISON_COLUMNS, EXTRA_COLUMNS
from commissioning.analysis.compare import ALLOCATION_COLUMNS as COMPARE_ALLOCATION_COLUMNS
from commissioning.analysis.explain import BINDING_COLUMNS
from commissioning.analysis.flags import FLAG_COLUMNS, GAP_REASONS, KINDS
from commissioning.analysis.mapping import COVERAGE_COLUMNS
from commissioning.analysis.sensitivity import SENSITIVITY_COLUMNS
from commissioning.analysis import summary as SM
from commissioning.inputs import schema as S
from commissioning.inputs import settings as ST
from commissioning.writers.results import ALLOCATION_CSV_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLE = ROOT / "examples" / "west-yorkshire"

# How docs/case-format.md writes each column kind in its "type" cell.
TYPE_WORDS = {
    S.CODE: "code", S.TEXT: "text", S.CODE_LIST: "list of codes", S.CODE_OR_ALL: "code or `ALL`",
    S.MONEY: "£ amount", S.POSITIVE_MONEY: "£ amount > 0", S.WHOLE: "whole number", S.SHARE: "share",
    S.NUMBER: "number", S.AGE: "age", S.STAGE: "stage", S.YEAR: "financial year",
    S.YEAR_OR_ALL: "financial year or `ALL`", S.DATE: "date", S.YESNO: "yes/no", S.CHOICE: "choice",
}


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def without_code_blocks(md: str) -> str:
    """The Markdown with fenced code blocks blanked out (their lines kept, empty)."""
    out, fenced = [], False
    for line in md.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append("")
            continue
        out.append("" if fenced else line)
    return "\n".join(out)


def headings(md: str) -> list[tuple[int, int, str]]:
    """(line number, level, text) of every heading outside code blocks."""
    out = []
    for i, line in enumerate(without_code_blocks(md).splitlines()):
        m = re.match(r"^(#{1,6})\s+(.*?)\s*$", line)
        if m:
            out.append((i, len(m.group(1)), m.group(2)))
    return out


def section(md: str, starts: str, subsections: bool = True) -> str:
    """The text under the one heading that starts with ``starts``, down to the next heading
    of the same or a higher level (with ``subsections``), or to the next heading at all."""
    found = [h for h in headings(md) if f"{'#' * h[1]} {h[2]}".startswith(starts)]
    assert len(found) == 1, f"expected one heading starting {starts!r}, found {[h[2] for h in found]}"
    line, level, _ = found[0]
    later = [h[0] for h in headings(md) if h[0] > line and (h[1] <= level or not subsections)]
    lines = md.splitlines()
    return "\n".join(lines[line:later[0] if later else len(lines)])


def spans(text: str) -> set[str]:
    """Every `code span` in the text."""
    return set(re.findall(r"`([^`\n]+)`", text))


def table_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row whose first cell is a code span."""
    rows = []
    for line in text.splitlines():
        if line.startswith("| `"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


# ---- the case ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(S.TABLES))
def test_every_column_of_every_table_is_documented_as_the_schema_has_it(name):
    table = S.TABLES[name]
    text = section(read("case-format.md"), f"### `{name}`")
    rows = table_rows(text)
    documented = [r[0].strip("`") for r in rows]
    assert documented == table.column_names, f"{name}: the doc's columns differ from the schema's (or their order)"
    for row, col in zip(rows, table.columns):
        kind = row[1]
        assert kind.startswith(TYPE_WORDS[col.kind]), f"{name}.{col.name}: type '{kind}', schema kind {col.kind}"
        if col.kind == S.CHOICE:
            assert set(spans(kind)) == set(col.choices), f"{name}.{col.name}: the choices differ"
        assert row[3] == ("yes" if col.required else "no"), f"{name}.{col.name}: required is {col.required}"
    assert f"Key: {', '.join(f'`{k}`' for k in table.key)}" in text if table.key else "There is no key" in text


def test_the_required_and_optional_tables_are_where_the_doc_says():
    md = read("case-format.md")
    required, optional = section(md, "## Required tables"), section(md, "## Optional tables")
    for name, table in S.TABLES.items():
        assert f"### `{name}`" in (required if table.required else optional), name


def test_every_setting_of_case_yaml_is_documented():
    text = section(read("case-format.md"), "## `case.yaml`")
    keys = [r[0].strip("`") for r in table_rows(text)]
    assert keys == list(ST.CaseSettings.model_fields)
    assert set(S.SETTINGS_KEYS) == set(ST.CaseSettings.model_fields)


# ---- scenarios ----------------------------------------------------------------------------------
def entry_models(annotation) -> list[type[ST.YamlMapping]]:
    """The mapping models a field's value holds (``BudgetChange`` for ``budgets`` …)."""
    if isinstance(annotation, type) and issubclass(annotation, ST.YamlMapping):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in entry_models(arg)]


def test_every_key_of_a_scenario_file_is_documented():
    md = read("scenario-format.md")
    keys = [r[0].strip("`") for r in table_rows(section(md, "## The keys", subsections=False))]
    assert keys == list(ST.ScenarioFile.model_fields)


@pytest.mark.parametrize("key", [k for k, f in ST.ScenarioFile.model_fields.items() if entry_models(f.annotation)])
def test_every_key_of_a_scenario_entry_is_documented_in_its_section(key):
    (model,) = entry_models(ST.ScenarioFile.model_fields[key].annotation)
    text = section(read("scenario-format.md"), f"### `{key}`")
    documented = [r[0].strip("`") for r in table_rows(text)]
    assert set(documented) == set(model.model_fields), f"{key}: {model.__name__} has {list(model.model_fields)}"


def yaml_examples() -> list[str]:
    """Every YAML example of docs/scenario-format.md, then the README's scenarios."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return [*re.findall(r"^```yaml\n(.*?)^```", read("scenario-format.md"), flags=re.M | re.S),
            *(t for t in re.findall(r"^```yaml\n(.*?)^```", readme, flags=re.M | re.S) if t.startswith("name:"))]


@pytest.fixture(scope="module")
def example_case():
    from commissioning.inputs.validate import load_case

    return load_case(EXAMPLE)


def test_every_scenario_example_is_valid_against_the_example_case(example_case, tmp_path):
    from commissioning.inputs.scenario import load_scenario

    examples = yaml_examples()
    assert len(examples) >= 10
    for i, text in enumerate(examples):
        path = tmp_path / f"example-{i}.yaml"
        path.write_text(text, encoding="utf-8")
        load_scenario(path, example_case)  # raises CaseError, naming every problem, if not valid


def test_the_example_scenario_files_are_cited_and_quoted_as_they_are():
    md = read("scenario-format.md")
    quoted = {d["name"]: d for d in (yaml.safe_load(t) for t in yaml_examples())}
    files = sorted((EXAMPLE / "scenarios").glob("*.yaml"))
    assert files
    for f in files:
        assert f"(../examples/west-yorkshire/scenarios/{f.name})" in md, f"{f.name} is not cited"
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        assert quoted.get(data["name"]) == data, f"{f.name} is not quoted as it is"


# ---- outputs ------------------------------------------------------------------------------------
OUTPUT_SECTIONS = {
    "## `allocations.csv`": ALLOCATION_CSV_COLUMNS + ["status"],
    "## `flags.csv`": FLAG_COLUMNS + ["status"] + list(KINDS) + list(GAP_REASONS),
    "## `asks.csv`": ASK_COLUMNS + ["status"],
    "## `package.csv`": PACKAGE_COLUMNS + ["status"],
    "## `results.xlsx`": BINDING_COLUMNS,
    "## The map": COVERAGE_COLUMNS,
    "## Comparing scenarios": COMPARISON_COLUMNS + EXTRA_COLUMNS,
    "## Sensitivity": SENSITIVITY_COLUMNS,
    "## `agreement.xlsx`": ALLOC_COLUMNS + CHECK_COLUMNS,
}


@pytest.mark.parametrize("heading", list(OUTPUT_SECTIONS))
def test_every_output_column_is_documented_in_its_file_section(heading):
    text = section(read("outputs.md"), heading)
    missing = [c for c in OUTPUT_SECTIONS[heading] if c not in spans(text)]
    assert not missing, f"{heading}: not documented: {missing}"


def test_compare_writes_the_allocation_columns_of_optimise_but_status():
    # outputs.md says so rather than listing them again.
    assert COMPARE_ALLOCATION_COLUMNS == ALLOCATION_CSV_COLUMNS
    assert "with the columns of the\n`optimise` file except `status`" in read("outputs.md")


def test_every_flag_and_ask_column_is_in_outputs_md():
    names = spans(read("outputs.md"))
    assert not [c for c in FLAG_COLUMNS + ASK_COLUMNS if c not in names]


def test_every_key_of_summary_json_is_documented():
    text = section(read("outputs.md"), "## `summary.json`")
    models = [SM.Summary, SM.LevelFigures, SM.CaseFacts, SM.BindingRecord, SM.ShadowPrice, SM.BrokenRule,
              SM.UnmeasuredAsk]
    missing = [f"{m.__name__}.{k}" for m in models for k in m.model_fields if k not in spans(text)]
    assert not missing, f"summary.json keys not documented: {missing}"
    # (dict.fromkeys: a level's `value` is listed again in the levels' table, under the top-level `value`)
    top = list(dict.fromkeys(r[0].strip("`") for r in table_rows(text) if r[0].strip("`") in SM.Summary.model_fields))
    assert top == list(SM.Summary.model_fields), "the top-level keys are not listed in the file's order"


def test_every_agreement_sheet_is_documented():
    text = section(read("outputs.md"), "## `agreement.xlsx`")
    assert [s for s in SHEETS if f"| {s} |" not in text] == []


# ---- links --------------------------------------------------------------------------------------
LINKED_FILES = [ROOT / "README.md", *sorted(DOCS.glob("*.md")), EXAMPLE / "scenarios" / "README.md"]


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("path", LINKED_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_a_file_that_exists(path):
    text = without_code_blocks(path.read_text(encoding="utf-8"))
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target):  # https:, mailto: …
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md":
            if anchor not in {slug(h[2]) for h in headings(dest.read_text(encoding="utf-8"))}:
                broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)}: broken links {broken}"


def test_the_docs_index_links_every_page():
    index = read("README.md")
    for page in DOCS.glob("*.md"):
        if page.name != "README.md":
            assert f"]({page.name})" in index, page.name
