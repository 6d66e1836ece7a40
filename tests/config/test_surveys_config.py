"""The `surveys:` section: on by default, checked by `tocsin check` with the field named."""

from __future__ import annotations

from tests.config.helpers import BASE, load, only_error


def test_surveys_are_on_by_default_and_sent_when_the_shift_ends(tmp_path):
    config, _warnings = load(tmp_path, BASE)
    assert (config.surveys.enabled, config.surveys.after_shift_minutes) == (True, 0)


def test_both_keys_are_read(tmp_path):
    text = BASE + "surveys: {enabled: false, after_shift_minutes: 15}\n"
    config, _warnings = load(tmp_path, text)
    assert (config.surveys.enabled, config.surveys.after_shift_minutes) == (False, 15)


def test_a_negative_delay_names_the_field(tmp_path):
    problem = only_error(tmp_path, BASE + "surveys: {after_shift_minutes: -5}\n")
    assert problem.path == "surveys.after_shift_minutes"
    assert "0 or more" in problem.message


def test_a_delay_over_a_day_names_the_field(tmp_path):
    problem = only_error(tmp_path, BASE + "surveys: {after_shift_minutes: 2000}\n")
    assert problem.path == "surveys.after_shift_minutes"
    assert "at most 1440" in problem.message


def test_enabled_must_be_a_boolean_and_unknown_keys_are_refused(tmp_path):
    problem = only_error(tmp_path, BASE + "surveys: {enabled: yes}\n")
    assert problem.path == "surveys.enabled"
    unknown = only_error(tmp_path, BASE + "surveys: {question: 'How was it?'}\n")
    assert unknown.path == "surveys.question"
