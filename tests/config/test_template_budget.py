"""`tocsin check` and the render budget of `notifications.templates`: a template whose work
would run away is an error naming the limit, answered at once, and Jinja's own compile
errors (a misspelt filter or test) are check errors, never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.config.helpers import BASE, errors, line_of, load, only_error, write
from tocsin.cli.main import app
from tocsin.config.template_budget import LOOP_LIMIT


def sms(source: str) -> str:
    """A config whose SMS template is `source`, written as a YAML block."""
    return BASE + "notifications:\n  templates:\n    sms: |\n      " \
        + source.replace("\n", "\n      ") + "\n"


NESTED_RANGE = ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
                "{% endfor %}{{ alert.title }}")
TRIAL = ("{% for i in range(alert.labels.n|int) %}{% for j in range(alert.labels.n|int) %}"
         "{% endfor %}{% endfor %}{{ alert.title }}")


def test_a_nested_range_is_an_error_answered_at_once(tmp_path: Path) -> None:
    text = sms(NESTED_RANGE)

    started = time.monotonic()
    problem = only_error(tmp_path, text)
    elapsed = time.monotonic() - started

    assert elapsed < 1.0
    assert problem.line == line_of(text, "sms:")
    assert problem.path == "notifications.templates.sms"
    assert problem.message == ("goes past the render budget on a sample page on its line 1: "
                               "range() of 100,000 numbers is more than 10,000")
    assert problem.fix.startswith("keep loops under 10,000 iterations in all")


def test_nested_loops_count_together_against_one_budget(tmp_path: Path) -> None:
    # 200 x 200 = 40,000 iterations, each range well under the limit on its own.
    problem = only_error(tmp_path, sms(
        "{% for i in range(200) %}{% for j in range(200) %}.{% endfor %}{% endfor %}"))
    assert problem.message.endswith(f"more than {LOOP_LIMIT:,} loop iterations and calls "
                                    "in one render")


def test_ten_thousand_iterations_in_all_are_within_the_budget(tmp_path: Path) -> None:
    # 100 outer and 100 x 99 inner iterations: exactly the limit.
    config, _ = load(tmp_path, sms(
        "{% for i in range(100) %}{% for j in range(99) %}{% endfor %}{% endfor %}"
        "{{ alert.title }}"))
    assert config.notifications.templates.sms is not None


def test_the_trial_template_reading_its_count_from_a_label_is_checked_at_once(
    tmp_path: Path,
) -> None:
    # The sample page's labels are not numbers, so check cannot see the size; it must not
    # hang, and the page falls back at send time (tests/notify/test_templates_engine.py).
    started = time.monotonic()
    config, _ = load(tmp_path, sms(TRIAL))
    assert time.monotonic() - started < 1.0
    assert config.notifications.templates.sms is not None


@pytest.mark.parametrize(("source", "said"), [
    ("{{ '=' * 20000 }}", "repeats to 20,000 characters or items, more than 10,000"),
    ("{{ alert.title * 1000 }}", "repeats to 29,000 characters or items, more than 10,000"),
    ("{{ [alert.title] * 20000 }}", "repeats to 20,000 characters or items, more than 10,000"),
    ("{{ 2 ** 5000 }}", "an exponent of 5000 is more than 100"),
    ("{{ (2 ** 100) ** 100 }}", "a number of more than 4,096 bits"),
    ("{{ alert.title | center(1000000000) }}", "a width of 1,000,000,000 is more than 100,000"),
    ("{{ alert.title | indent(1000000000) }}",
     "an indent of 1,000,000,000 is more than 100,000"),
    ("{{ '%1000000000d' | format(step) }}",
     "a format width of 1,000,000,000 is more than 100,000"),
    ("{{ '%1000000000d' % step }}", "a format width of 1,000,000,000 is more than 100,000"),
    ("{{ '{:>1000000000}'.format(step) }}",
     "a format width of 1,000,000,000 is more than 100,000"),
    ("{{ alert.title.ljust(1000000000) }}", "a width of 1,000,000,000 is more than 100,000"),
    ("{{ alert.description | wordwrap(1, wrapstring='-' * 9000) }}",
     "the wrapped text would be"),
    ("{{ alert.description | replace('', '-' * 9000) }}", "the replaced text would be"),
    ("{{ ([alert.description] * 20) | join('-' * 9000) }}", "the joined text would be"),
    ("{{ ([alert.description] * 20) | map('upper') | join('-' * 9000) }}",
     "the joined text would be"),
    ("{{ ('-' * 9000).join([alert.title] * 20) }}", "the joined text would be"),
    ("{% for i in range(1000) %}{{ (alert.title * 300) | upper | length }}{% endfor %}",
     "filters went through more than 1,000,000 characters or items in one render"),
    ("{% for i in range(1000) %}{{ alert.title * 300 }}{% endfor %}",
     "prints more than 100,000 characters"),
])
def test_a_template_that_grows_text_or_numbers_past_a_limit_is_an_error(
    tmp_path: Path, source: str, said: str,
) -> None:
    problem = only_error(tmp_path, sms(source))
    assert problem.message.startswith("goes past the render budget on a sample page on its "
                                      "line 1: " + said), problem.message


def test_doubling_a_text_in_a_loop_stops_at_the_text_limit(tmp_path: Path) -> None:
    source = ("{% set ns = namespace(text='ab') %}{% for i in range(40) %}"
              "{% set ns.text = ns.text ~ ns.text %}{% endfor %}{{ ns.text | length }}")
    problem = only_error(tmp_path, sms(source))
    assert "a joined text (~) would be 131,072 characters" in problem.message


def test_a_recursive_loop_is_refused(tmp_path: Path) -> None:
    problem = only_error(tmp_path, sms("{% for x in [[1]] recursive %}{{ loop(x) }}{% endfor %}"))
    assert problem.message == "a recursive loop is not allowed in a page template (its line 1)"


def test_ordinary_loops_and_repeats_stay_within_the_budget(tmp_path: Path) -> None:
    source = ("{{ '-' * 40 }}\n{% for name, value in alert.labels | dictsort %}"
              "{{ name }}={{ value | center(20) }}\n{% endfor %}"
              "{% for i in range(3) %}{{ loop.index }}{% endfor %}")
    config, _ = load(tmp_path, BASE + "notifications:\n  templates:\n    email_body: |\n      "
                     + source.replace("\n", "\n      ") + "\n")
    assert config.notifications.templates.email_body is not None


def test_a_misspelt_filter_is_a_check_error_at_the_key_line(tmp_path: Path) -> None:
    text = BASE + """\
notifications:
  templates:
    email_body: |
      {{ alert.title }}
      {{ alert.service | uper }}
"""
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "email_body:")
    assert problem.message == "no filter named 'uper' (on its line 2)"
    assert problem.fix.startswith("use one of: upper, abs, ")


def test_a_misspelt_test_is_a_check_error(tmp_path: Path) -> None:
    problem = only_error(tmp_path, sms("{% if step is evn %}even{% endif %}{{ alert.title }}"))
    assert problem.message == "no test named 'evn' (on its line 1)"
    assert problem.fix.startswith("use one of: even, ")


def test_an_unknown_filter_and_a_misspelt_name_are_both_reported(tmp_path: Path) -> None:
    found = [p.message for p in errors(tmp_path, sms("{{ titel | uper }}"))]
    assert found == ["no filter named 'uper' (on its line 1)"]  # the name is checked after


def test_check_prints_a_misspelt_filter_as_file_line_path_without_a_traceback(
    tmp_path: Path,
) -> None:
    text = sms("{{ alert.title | uper }}")
    path = write(tmp_path, text)

    result = CliRunner().invoke(app, ["check", str(path)])

    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.splitlines()[0].startswith(
        f"{path}:{line_of(text, 'sms:')}: notifications.templates.sms: no filter named 'uper'")


def test_an_undefined_name_in_a_block_says_the_template_line(tmp_path: Path) -> None:
    problem = only_error(tmp_path, sms("{{ alert.title }}\n{{ alert.labels.keys().x }}"))
    assert problem.message.startswith("fails on a sample page on its line 2: ")
