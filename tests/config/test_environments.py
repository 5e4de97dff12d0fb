"""Environments: an overlay per environment laid over the base config (mappings merged, lists replaced) and
validated as one config, every problem naming the file and line its value came from; stack names of its own;
and hostile overlays and names refused in one line each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.config import load_config
from generator.config.edit import apply_batching, check_applicable, settings_the_config_refuses
from generator.config.yaml_source import format_key_path, load_yaml_document
from generator.errors import ConfigError
from tests.support.cli import run_cli_in_process, snapshot
from tests.support.config_files import default_config_data, dump_yaml, write_config
from tests.support.properties import PROPERTY_TEST_BOUND

BASE = "config/config.yaml"


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """tmp_path/config/config.yaml (the default config, two regions) with an empty environments folder."""
    folder = tmp_path / "config"
    (folder / "environments").mkdir(parents=True)
    return write_config(folder, lambda c: c.update(regions=["us-west-2", "eu-west-1"]))


def overlay(base: Path, name: str, text: str) -> Path:
    path = base.parent / "environments" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load(base: Path, environment: str | None):
    return load_config(base, source=BASE, environment=environment)


def problems(base: Path, environment: str | None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(base, environment)
    return [str(problem) for problem in caught.value.problems]


def test_mappings_are_merged_at_every_depth_and_lists_replaced(base):
    overlay(base, "prod", "regions: [ap-southeast-2]\nfunction:\n  memory_mb: 512\ndestination: {batching: {count: 5}}")

    config = load(base, "prod")

    assert config.regions == ("ap-southeast-2",)  # replaced, not appended to
    assert config.function.memory_mb == 512
    assert config.function.timeout_seconds == 10  # the base's, beside the overlay's memory
    assert config.destination.batching.count == 5
    assert config.destination.batching.timeout_in_seconds == 1
    assert config.destination.formatter == "base64"
    assert config.environment.name == "prod"
    assert config.environment.source == "config/environments/prod.yaml"


def test_a_bad_value_is_reported_at_the_overlays_file_and_line_and_the_bases_at_its_own(base):
    text = base.read_text()
    base.write_text(text.replace("memory_mb: 128", "memory_mb: 7"))  # below Lambda's 128: the base's own mistake
    overlay(base, "prod", "# prod\n\ndestination:\n  batching:\n    count: 5000\n    countt: 3\nroutin: map\n")

    found = problems(base, "prod")

    memory_line = text.splitlines().index(next(x for x in text.splitlines() if "memory_mb:" in x)) + 1
    assert found == [
        f"config/config.yaml:{memory_line}: function.memory_mb: 7 is less than the minimum of 128",
        "config/environments/prod.yaml:5: destination.batching.count: 5000 is greater than the maximum of 1000",
        "config/environments/prod.yaml:6: destination.batching.countt: unknown key; did you mean 'count'? expected "
        "one of: count, size_in_mb, timeout_in_seconds",
        "config/environments/prod.yaml:7: routin: unknown key; did you mean 'routing'? expected one of: "
        "destination, function, home_region, listener, name_prefix, observability, regions, routing, stacksets, tags",
    ]


def test_a_value_the_overlay_replaces_is_checked_as_the_overlay_wrote_it_and_the_base_alone_stays_valid(base):
    overlay(base, "prod", "regions:\n  - us-west-2\n  - us-wset-2\n")

    assert problems(base, "prod") == [
        "config/environments/prod.yaml:3: regions[1]: 'us-wset-2' is not an AWS region; did you mean us-west-2?"
    ]
    assert load(base, None).regions == ("us-west-2", "eu-west-1")


def test_the_merged_result_is_validated_as_one_config(base, tmp_path):
    # The base alone lacks `regions` (required); the environment supplies it. A check across sections (the
    # canary's p99 alarm against the batching timeout) sees the base's batching and the overlay's canary.
    base.write_text("home_region: us-west-2\ndestination:\n  batching: {count: 10, timeout_in_seconds: 1}\n")
    assert problems(base, None) == ["config/config.yaml: regions: is required but missing"]
    overlay(
        base,
        "prod",
        "regions: [us-west-2]\nobservability:\n  alarms: true\n  canary: {enabled: true, packets: 25, max_p99_ms: 9}\n",
    )

    (found,) = problems(base, "prod")

    assert found.startswith("config/environments/prod.yaml:4: observability.canary.max_p99_ms: 9 ms is not above")


def test_a_mapping_both_files_write_is_reported_at_the_overlay_which_changed_it(base):
    overlay(base, "prod", "stacksets:\n  permission_model: service-managed\n")

    (found,) = problems(base, "prod")

    assert found.startswith("config/environments/prod.yaml:2: stacksets.permission_model: ")


def test_the_environment_name_joins_name_prefix_so_its_stacks_and_function_are_its_own(base):
    overlay(base, "staging", "{}\n")

    config = load(base, "staging")

    assert config.name_prefix == "packet-counter-staging"
    assert (config.global_stack_name, config.regional_stack_name) == (
        "packet-counter-staging-global",
        "packet-counter-staging-region",
    )
    assert config.function_name == "packet-counter-staging"
    assert load(base, None).global_stack_name == "packet-counter-global"


def test_an_overlay_may_name_its_own_stacks_but_never_the_bases_or_another_environments(base):
    overlay(base, "prod", "name_prefix: pc-production\n")
    assert load(base, "prod").global_stack_name == "pc-production-global"

    overlay(base, "prod", "name_prefix: packet-counter\n")
    assert problems(base, "prod") == [
        "config/environments/prod.yaml:1: name_prefix: 'packet-counter' is config/config.yaml's own name_prefix: "
        "this environment would deploy over the base config's stacks; choose another, or leave name_prefix out "
        "(then it is packet-counter-prod)"
    ]

    overlay(base, "prod", "name_prefix: packet-counter-staging\n")
    overlay(base, "staging", "{}\n")
    assert problems(base, "prod") == [
        "config/environments/prod.yaml:1: name_prefix: 'packet-counter-staging' is also the name_prefix of "
        "environment 'staging' (config/environments/staging.yaml): the two would deploy over each other's stacks; "
        "give each a name_prefix of its own"
    ]
    # and the other way round: staging's joined name is the one prod writes
    assert problems(base, "staging") == [
        "config/environments/staging.yaml: name_prefix: 'packet-counter-staging' (the environment's name joined to "
        "config/config.yaml's) is also the name_prefix of environment 'prod' (config/environments/prod.yaml:1): the "
        "two would deploy over each other's stacks; give each a name_prefix of its own"
    ]


def test_a_destination_name_the_base_sets_is_the_environments_own_too(base):
    # With StackSets each region binds to its account's destination by name: two environments in one account
    # must not share it.
    write_config(base.parent, lambda c: c["destination"].update(name="counter"))
    assert load(base, None).destination.name == "counter"
    overlay(base, "prod", "{}\n")
    overlay(base, "staging", "destination: {name: stage-counter}\n")

    assert load(base, "prod").destination.name == "counter-prod"
    assert load(base, "staging").destination.name == "stage-counter"

    write_config(base.parent, lambda c: c["destination"].update(name="c" * 60))
    (found,) = problems(base, "prod")
    assert found.startswith("config/config.yaml:") and "destination.name: expected 1 to 64 letters" in found
    assert found.endswith(
        "(the destination.name of environment 'prod': the base's with '-prod' joined; set destination.name in "
        "config/environments/prod.yaml to choose another)"
    )


def test_a_joined_name_prefix_too_long_says_where_it_came_from_and_how_to_choose_another(base):
    base.write_text(base.read_text().replace("name_prefix: packet-counter", "name_prefix: " + "p" * 40))
    overlay(base, "preproduction", "{}\n")

    (found,) = problems(base, "preproduction")

    assert found.startswith("config/config.yaml:")
    assert "name_prefix: expected a letter followed by up to 47 letters, digits or hyphens; got 'pppp" in found
    assert found.endswith(
        "(the name_prefix of environment 'preproduction': the base's with '-preproduction' joined; set name_prefix "
        "in config/environments/preproduction.yaml to choose another)"
    )


def test_a_mistyped_environment_is_one_line_listing_those_that_exist(base):
    overlay(base, "prod", "{}\n")
    overlay(base, "staging", "{}\n")
    (base.parent / "environments" / "notes.txt").write_text("not an environment")

    assert problems(base, "prd") == [
        "--env: no environment 'prd' in config/environments/; did you mean 'prod'? expected one of: prod, staging"
    ]
    assert problems(base, "qa") == [
        "--env: no environment 'qa' in config/environments/; expected one of: prod, staging"
    ]


def test_an_environment_without_an_environments_folder_says_what_to_create(tmp_path):
    config = write_config(tmp_path)

    with pytest.raises(ConfigError) as caught:
        load_config(config, source="config.yaml", environment="prod")

    assert str(caught.value) == (
        "--env: no environment 'prod': environments/ has none; create environments/prod.yaml with the settings "
        "that differ from config.yaml"
    )


def test_an_overlay_spelled_yml_is_named(base):
    overlay(base, "staging", "{}\n")
    (base.parent / "environments" / "prod.yml").write_text("{}\n")

    assert problems(base, "prod") == [
        "--env: no environment 'prod' in config/environments/; prod.yml is there: rename it prod.yaml; "
        "expected one of: staging"
    ]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../config", "is a path, not an environment name"),
        ("..", "is a path, not an environment name"),
        ("a/b", "is a path, not an environment name"),
        ("/home/me/.shrc", "is a path, not an environment name"),
        ("Prod", "is not an environment name"),
        ("prod.yaml", "is not an environment name"),
        ("", "is not an environment name"),
        ("-x", "is not an environment name"),
        ("p" * 33, "is not an environment name"),
        ("prod\n", "is not an environment name"),
        ("pröd", "is not an environment name"),
    ],
)
def test_a_name_that_is_no_environment_name_is_refused_before_any_file_is_read(base, name, why):
    (base.parent / "config.yaml.yaml").write_text("regions: [us-west-2]\n")  # what `../config` + .yaml would reach

    (found,) = problems(base, name)

    assert found.startswith("--env: ") and why in found
    assert "1 to 32 lowercase letters, digits or hyphens" in found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty; expected the settings that differ from config/config.yaml (`{}` for none)"),
        ("# nothing yet\n", "the file is empty; expected the settings that differ from config/config.yaml"),
        ("- us-west-2\n", "expected a mapping of the settings that differ from config/config.yaml (`{}` for none), "),
        ("prod\n", "got the str 'prod'"),
        ("~\n", "got nothing (null)"),
        ("a: [\n", "YAML syntax error"),
        ("tags: {a: x}\ntags: {b: y}\n", "config/environments/prod.yaml:2: tags: duplicate key (first at line 1)"),
        ("regions: us-west-2\n", "config/environments/prod.yaml:1: regions: expected a list; got 'us-west-2'"),
    ],
)
def test_an_overlay_that_is_no_mapping_of_settings_is_one_line_naming_it(base, text, expected):
    overlay(base, "prod", text)

    (found,) = problems(base, "prod")

    assert found.startswith("config/environments/prod.yaml")
    assert expected in found


def test_an_overlay_that_is_a_link_out_of_the_folder_is_refused_and_one_inside_is_followed(base, tmp_path):
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("function: {memory_mb: 256}\n")
    os.symlink(outside, base.parent / "environments" / "prod.yaml")
    os.symlink("/etc/passwd", base.parent / "environments" / "qa.yaml")

    assert problems(base, "prod") == [
        f"config/environments/prod.yaml: is a symbolic link to '{outside}', outside config/environments/; an "
        "environment's overlay must be a file in that folder"
    ]
    assert problems(base, "qa")[0].startswith("config/environments/qa.yaml: is a symbolic link to '/etc/passwd'")

    overlay(base, "shared", "function: {memory_mb: 256}\n")
    os.symlink("shared.yaml", base.parent / "environments" / "staging.yaml")
    assert load(base, "staging").function.memory_mb == 256


def test_an_overlay_that_is_a_folder_or_unreadable_is_one_line(base):
    (base.parent / "environments" / "prod.yaml").mkdir()

    assert problems(base, "prod") == ["config/environments/prod.yaml: is a directory; expected a YAML file"]


@pytest.mark.parametrize(
    "command", ["validate", "render", "plan", "status", "deploy", "destroy", "logs", "canary", "tune", "local", "demo"]
)
def test_every_command_that_reads_the_config_takes_env_and_refuses_a_typo_in_one_line_changing_nothing(
    base, tmp_path, monkeypatch, command
):
    overlay(base, "prod", "{}\n")
    overlay(base, "staging", "{}\n")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    confirmed = ["--yes"] if command == "destroy" else []

    status, out, err = run_cli_in_process(command, "--config", BASE, "--env", "prd", *confirmed)

    assert (status, out) == (2, "")
    assert err == (
        "--env: no environment 'prd' in config/environments/; did you mean 'prod'? expected one of: prod, staging\n"
    )
    assert snapshot(tmp_path) == before


# --- tune --apply with an environment: the overlay is edited, never the base ---------------------------


class Setting:
    def __init__(self, count: int, timeout: float) -> None:
        self.count, self.timeout_in_seconds = count, timeout


def test_apply_with_an_environment_edits_its_overlay_only(base):
    prod = overlay(base, "prod", "# prod: more traffic\nfunction:\n  memory_mb: 512   # more CPU\n")
    staging = overlay(base, "staging", "destination:\n  batching:\n    count: 20  # keep\n")
    base_before, staging_before = base.read_bytes(), staging.read_bytes()

    edit = apply_batching(base, Setting(100, 0.2), source=BASE, environment="prod")

    assert edit.path == prod.resolve()
    assert prod.read_text() == (
        "# prod: more traffic\nfunction:\n  memory_mb: 512   # more CPU\n"
        "destination:\n  batching:\n    count: 100\n    timeout_in_seconds: 0.2\n"
    )
    assert (base.read_bytes(), staging.read_bytes()) == (base_before, staging_before)
    batching = load(base, "prod").destination.batching
    assert (batching.count, batching.timeout_in_seconds) == (100, 0.2)
    assert load(base, None).destination.batching.count == 10

    edit = apply_batching(base, Setting(50, 0.1), source=BASE, environment="staging")
    assert staging.read_text() == "destination:\n  batching:\n    timeout_in_seconds: 0.1\n    count: 50  # keep\n"
    assert [(change.key_path, change.old) for change in edit.changes] == [
        ("destination.batching.count", "20"),
        ("destination.batching.timeout_in_seconds", None),
    ]


def test_apply_checks_the_overlay_before_measuring_and_the_settings_against_the_merged_config(base):
    prod = overlay(base, "prod", "observability:\n  alarms: true\n  canary: {enabled: true, packets: 20}\n")
    os.chmod(prod, 0o444)
    try:
        with pytest.raises(ConfigError) as caught:
            check_applicable(base, source=BASE, environment="prod")
    finally:
        os.chmod(prod, 0o644)
    assert str(caught.value).startswith("config/environments/prod.yaml: is read-only")
    check_applicable(base, source=BASE, environment="prod")

    # With prod's canary (20 probes, p99 alarm at 500 ms), a count of 15 and a timeout of 1 s would leave a
    # batch of 5 waiting a second: refused for prod, not for the base config, whose canary is off.
    refused = settings_the_config_refuses(base, [Setting(15, 1), Setting(20, 1)], "prod")
    assert [(setting.count, setting.timeout_in_seconds) for setting in refused] == [(15, 1)]
    assert settings_the_config_refuses(base, [Setting(15, 1)]) == {}


# --- the bookkeeping, for any split of good and bad values between the two files ----------------------------

SETTINGS = {  # key path: (a good value, a bad one)
    ("function", "memory_mb"): (256, 7),
    ("function", "timeout_seconds"): (20, 0),
    ("destination", "batching", "count"): (20, 0),
    ("routing",): ("map", "mapp"),
    ("home_region",): ("eu-west-1", "us-west-9"),
    ("regions",): (["us-west-2", "eu-west-1"], ["us-west-2", "nowhere-1"]),
    ("observability", "delivery_log_retention_days"): (14, 13),
}
WHERE = st.sampled_from(["base good", "base bad", "overlay good", "overlay bad", "both, overlay good"])


def _set(data: dict, path: tuple, value) -> None:
    for key in path[:-1]:
        data = data.setdefault(key, {})
    data[path[-1]] = value


@PROPERTY_TEST_BOUND
@settings(max_examples=5 * settings().max_examples)
@given(st.fixed_dictionaries({path: WHERE for path in SETTINGS}), st.sampled_from(["base", "overlay", "both"]))
def test_every_problem_names_the_file_and_line_its_value_was_written_at(tmp_path_factory, placed, bad_tag):
    folder = tmp_path_factory.mktemp("config")
    (folder / "environments").mkdir()
    base_data, overlay_data = default_config_data(), {}
    bad_in: dict[tuple, str] = {}
    for path, where in placed.items():
        good, bad = SETTINGS[path]
        _set(base_data, path, bad if where == "base bad" else good)
        if where.startswith(("overlay", "both")):
            _set(overlay_data, path, bad if where == "overlay bad" else good)
        if where in ("base bad", "overlay bad"):
            bad_in[path] = where.split()[0]
    # tags are merged, not replaced: a reserved key written in either file stays, and is reported in its own
    base_data["tags"] = {"team": "a", **({"aws:base": "x"} if bad_tag in ("base", "both") else {})}
    overlay_data["tags"] = {"owner": "b", **({"aws:overlay": "y"} if bad_tag in ("overlay", "both") else {})}
    for file_name in ["base", "overlay"] if bad_tag == "both" else [bad_tag]:
        bad_in[("tags", f"aws:{file_name}")] = file_name
    base = folder / "config.yaml"
    base.write_text(dump_yaml(base_data), encoding="utf-8")
    (folder / "environments" / "prod.yaml").write_text(dump_yaml(overlay_data), encoding="utf-8")
    documents = {
        "base": (BASE, load_yaml_document(base, BASE)),
        "overlay": ("config/environments/prod.yaml", load_yaml_document(folder / "environments" / "prod.yaml", "o")),
    }

    with pytest.raises(ConfigError) as caught:
        load(base, "prod")

    reported = {}
    for problem in caught.value.problems:
        path = next(path for path in bad_in if problem.key_path.startswith(format_key_path(path)))
        source, document = documents[bad_in[path]]
        assert problem.source == source, (problem, bad_in)
        assert problem.line in {line for key, line in document.lines.items() if key[: len(path)] == path}, problem
        reported[path] = True
    assert set(reported) == set(bad_in)
