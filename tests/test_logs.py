"""The log as an operator reads it: every line says when, how bad and where from, in the
format and at the level the settings choose, for SafeCity's lines and the web server's."""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from safecity import cli

TEXT_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: .+$"
)


def _config(tmp_path: Path, logging_section: str) -> Path:
    config = tmp_path / "safecity.yaml"
    config.write_text(
        f"data_dir: {tmp_path / 'data'}\nvideo:\n  cameras: none\nlogging:\n{logging_section}"
    )
    return config


def test_the_cli_writes_json_lines_with_time_level_and_source(tmp_path: Path) -> None:
    config = _config(tmp_path, "  format: json\n")
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)  # open to others: the command closes it and says so
    process = subprocess.run(
        [sys.executable, "-m", "safecity", "db", "upgrade", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    lines = [json.loads(line) for line in process.stderr.splitlines() if line.startswith("{")]
    assert len(lines) == len(process.stderr.splitlines()), "every line is JSON"
    (line,) = lines
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"]), line
    assert (line["level"], line["logger"]) == ("WARNING", "safecity.private_files")
    assert line["message"].startswith(f"tightened {data} from 0755 to 0750")


def _serve(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run `safecity serve` up to the web server, then set the web server up as uvicorn does
    with the options serve gave it."""
    served: list[uvicorn.Config] = []

    def run(server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        served.append(server.config)

    monkeypatch.setattr(uvicorn.Server, "run", run)
    result = CliRunner().invoke(cli.app, ["serve", "--config", str(config), "--port", "0"])
    assert result.exit_code == 0, result.output
    assert len(served) == 1


def test_the_web_servers_lines_look_like_safecitys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, "  format: text\n")
    assert CliRunner().invoke(cli.app, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    _serve(config, monkeypatch)
    capsys.readouterr()

    logging.getLogger("uvicorn.error").info("Application startup complete.")
    logging.getLogger("uvicorn.access").info('127.0.0.1:5000 - "GET /api/health HTTP/1.1" 200')
    logging.getLogger("safecity.video.ingest.worker").warning("camera AST-1 lost: the stream ended")

    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3, lines
    assert all(TEXT_LINE.match(line) for line in lines), lines
    assert " INFO uvicorn.error: Application startup complete." in lines[0]
    assert " INFO uvicorn.access: 127.0.0.1:5000" in lines[1]
    assert " WARNING safecity.video.ingest.worker: camera AST-1 lost" in lines[2]


def test_the_level_setting_holds_for_the_web_server_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, "  level: warning\n  format: json\n")
    assert CliRunner().invoke(cli.app, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    _serve(config, monkeypatch)
    capsys.readouterr()

    logging.getLogger("uvicorn.access").info('127.0.0.1:5000 - "GET / HTTP/1.1" 200')
    logging.getLogger("safecity.video.node").info("recovery: nothing to do")
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["level"], line["logger"]) for line in lines] == [("WARNING", "uvicorn.error")]


def test_an_exception_travels_inside_its_json_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, "  format: json\n")
    assert CliRunner().invoke(cli.app, ["config", "check", "--config", str(config)]).exit_code == 0
    capsys.readouterr()
    try:
        raise OSError(28, "No space left on device")
    except OSError:
        logging.getLogger("safecity.test").exception("could not write")

    (line,) = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert entry["message"] == "could not write" and entry["level"] == "ERROR"
    assert "No space left on device" in entry["exception"]


def test_an_unknown_log_format_is_refused_naming_the_key(tmp_path: Path) -> None:
    config = _config(tmp_path, "  format: xml\n")
    result = CliRunner().invoke(cli.app, ["config", "check", "--config", str(config)])
    assert result.exit_code == 2
    assert "logging.format" in result.output
