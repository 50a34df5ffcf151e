"""The README starts with the two commands a newcomer runs, and CI runs the second."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def code_blocks(text: str) -> list[str]:
    parts = text.split("```")
    return [p.split("\n", 1)[1].strip() for p in parts[1::2]]


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first, second = code_blocks(readme)[:2]
    assert "pip install -e ." in first and "adopt-tui demo" in first
    assert "'.[test]'" in second and "pytest" in second
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second in ci.splitlines()
