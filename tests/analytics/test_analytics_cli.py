"""`safecity analytics run FILE`: the camera analytics on a recorded file, real footage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from safecity.cli import app
from tests.support.footage import footage

runner = CliRunner()

RULES = {
    "rules": [
        # A vertical line through the middle of the plaza: people cross it both ways.
        {"kind": "line_crossing", "name": "middle", "line": [[0.5, 0.0], [0.5, 1.0]]},
        {"kind": "intrusion", "name": "anywhere", "classes": ["person"]},
        {"kind": "tamper", "name": "tamper"},
    ]
}


@pytest.fixture
def config(tmp_path: Path, ssd_model: Path) -> Path:
    """Settings whose model cache holds the real SSD model (the session's cache)."""
    path = tmp_path / "safecity.yaml"
    cache = ssd_model.parent.parent
    path.write_text(
        yaml.safe_dump({"data_dir": str(tmp_path), "analytics": {"models_dir": str(cache)}})
    )
    return path


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(RULES))
    return path


def _run(*args: str) -> Result:
    return runner.invoke(app, ["analytics", "run", *args])


def _events(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_people_on_the_plaza_cross_the_line_and_are_listed_with_their_offsets(
    plaza_h264: Path, config: Path, rules_file: Path
) -> None:
    events = _events(_run(str(plaza_h264), "--rules", str(rules_file), "--json", "-c", str(config)))
    summary = events[-1]
    assert summary["type"] == "summary"
    assert summary["frames"] == 100  # 20 s at 5 fps
    assert summary["objects"] >= 4  # people walk across the plaza in the first 20 s
    people = [e for e in events if e["type"] == "object_entered" and e["class"] == "person"]
    assert len(people) >= 4
    crossings = [e for e in events if e["type"] == "rule" and e["rule"] == "middle"]
    assert crossings, "nobody crossed the middle of the plaza"
    assert all(
        e["direction"] in ("forward", "backward") and e["class"] == "person" for e in crossings
    )
    # One event per track per rule.
    for rule in ("middle", "anywhere"):
        tracks = [e["track"] for e in events if e["type"] == "rule" and e["rule"] == rule]
        assert len(tracks) == len(set(tracks))
    assert all(0 <= e["offset"] <= 20 for e in events[:-1])
    assert not [e for e in events if e["type"].startswith("tamper")]  # an untouched picture


@pytest.mark.slow
def test_a_tree_in_the_wind_moves_but_is_no_person(config: Path, rules_file: Path) -> None:
    events = _events(
        _run(str(footage("tree.avi")), "--rules", str(rules_file), "--json", "-c", str(config))
    )
    summary = events[-1]
    assert summary["detector_calls"] > 10  # the branches move: the detector was asked to look
    assert summary["objects"] == 0
    assert [e for e in events if e["type"] in ("rule", "tamper_raised")] == []


def test_the_text_output_names_each_event_and_sums_up(
    plaza_h264: Path, config: Path, rules_file: Path
) -> None:
    result = _run(str(plaza_h264), "--rules", str(rules_file), "-c", str(config))
    assert result.exit_code == 0, result.output
    assert "object_entered track=1 class=person" in result.stdout
    assert "rule        line_crossing 'middle' person #" in result.stdout
    assert "100 frames (19.8 s of video)" in result.stdout


def test_without_a_detector_only_tamper_is_watched(plaza_h264: Path, config: Path) -> None:
    events = _events(_run(str(plaza_h264), "--no-detector", "--json", "-c", str(config)))
    assert events[-1]["detector_calls"] == 0
    assert events[:-1] == []


def test_a_missing_model_says_how_to_fetch_it(plaza_h264: Path, tmp_path: Path) -> None:
    config = tmp_path / "empty-cache.yaml"
    config.write_text(yaml.safe_dump({"analytics": {"models_dir": str(tmp_path / "nothing")}}))
    result = _run(str(plaza_h264), "-c", str(config))
    assert result.exit_code == 1
    assert "safecity models fetch" in result.stderr
    assert "--no-detector" in result.stderr


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("rules: [{kind: crowd, name: c, count: 1}]", "rules.0.crowd.count"),
        ("rules: [{kind: intrusion, name: z, zone: [[0,0],[1,1],[1,0],[0,1]]}]", "crossing"),
        ("rules: [{kind: teleport, name: t}]", "rules.0"),
        ("rules: [unclosed", "not valid YAML"),
    ],
)
def test_a_bad_rules_file_is_refused_in_plain_words(
    plaza_h264: Path, config: Path, tmp_path: Path, document: str, problem: str
) -> None:
    rules = tmp_path / "bad.yaml"
    rules.write_text(document)
    result = _run(str(plaza_h264), "--rules", str(rules), "-c", str(config))
    assert result.exit_code == 1
    assert problem in result.stderr


def test_a_file_that_is_not_video_is_refused(config: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    result = _run(str(notes), "--no-detector", "-c", str(config))
    assert result.exit_code == 1
    assert "notes.mp4: cannot open it as video" in result.stderr
    result = _run(str(tmp_path / "absent.mp4"), "-c", str(config))
    assert result.exit_code == 1
    assert "no such file" in result.stderr
