"""The file's `components:` and `status_page:` sections, as `tocsin check` reads them."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, errors, load, only_error
from tocsin.config.model import Component, StatusPageSettings

SERVICES = """\
services:
  - {name: payment, escalation_policy: critical}
"""


def test_components_load_with_their_defaults(tmp_path: Path) -> None:
    text = BASE + SERVICES + """\
status_page: {title: Example Status, time_zone: Europe/Berlin}
components:
  - {name: API, description: Public REST API, group: Core, service: payment}
  - {name: Web, group: Core}
  - {name: Billing worker, public: false}
"""
    config, warnings = load(tmp_path, text)

    assert warnings == []
    assert config.components == (
        Component(name="API", description="Public REST API", group="Core", public=True,
                  service="payment"),
        Component(name="Web", group="Core"),
        Component(name="Billing worker", public=False),
    )
    assert config.status_page == StatusPageSettings(title="Example Status",
                                                    time_zone="Europe/Berlin")


def test_a_file_without_the_sections_has_no_components(tmp_path: Path) -> None:
    config, _ = load(tmp_path, BASE)

    assert (config.components, config.status_page) == ((), StatusPageSettings())


def test_an_unknown_service_is_named_with_the_nearest_defined_one(tmp_path: Path) -> None:
    text = BASE + SERVICES + "components:\n  - {name: API, service: paymnet}\n"

    problem = only_error(tmp_path, text)

    assert (problem.path, problem.line) == ("components[0].service", 18)
    assert problem.message == "unknown service 'paymnet'"
    assert "did you mean 'payment'?" in problem.fix


def test_a_duplicate_name_ignoring_case_names_the_first_line(tmp_path: Path) -> None:
    text = BASE + "components:\n  - name: API\n  - name: api\n"

    problem = only_error(tmp_path, text)

    assert (problem.path, problem.line) == ("components[1].name", 17)
    assert "duplicate component name 'api' (first at line 16" in problem.message
    assert problem.fix == "give each component its own name"


def test_a_group_may_not_share_a_components_name(tmp_path: Path) -> None:
    text = BASE + "components:\n  - {name: Core}\n  - {name: API, group: core}\n"

    problem = only_error(tmp_path, text)

    assert problem.path == "components[1].group"
    assert "has the name of the component at line 16" in problem.message


def test_bad_values_are_each_reported(tmp_path: Path) -> None:
    text = BASE + """\
status_page: {time_zone: Mars/Olympus}
components:
  - {description: no name}
  - {name: API, public: "yes"}
"""
    found = {p.path for p in errors(tmp_path, text)}

    assert found == {"status_page.time_zone", "components[0].name", "components[1].public"}


def test_public_host_is_read_as_a_lowercase_name(tmp_path: Path) -> None:
    config, _ = load(tmp_path, BASE + "status_page: {public_host: Status.Example.com}\n")

    assert config.status_page.public_host == "status.example.com"


def test_a_url_is_not_a_public_host(tmp_path: Path) -> None:
    problem = only_error(tmp_path,
                         BASE + "status_page: {public_host: 'https://status.example.com/'}\n")

    assert problem.path == "status_page.public_host"
    assert "no scheme, port or path" in problem.fix


def test_public_port_and_verifying_minutes_are_read(tmp_path: Path) -> None:
    config, _ = load(tmp_path, BASE + "status_page: {public_port: 8081, verifying_minutes: 15}\n")

    assert (config.status_page.public_port, config.status_page.verifying_minutes) == (8081, 15)
    assert load(tmp_path, BASE)[0].status_page.verifying_minutes == 0


def test_a_port_out_of_range_and_negative_minutes_are_named(tmp_path: Path) -> None:
    text = BASE + "status_page: {public_port: 70000, verifying_minutes: -5}\n"

    found = {p.path: p for p in errors(tmp_path, text)}

    assert set(found) == {"status_page.public_port", "status_page.verifying_minutes"}
    assert "at most 65535" in found["status_page.public_port"].message
    assert "0 or more" in found["status_page.verifying_minutes"].message
