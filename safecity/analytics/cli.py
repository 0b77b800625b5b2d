"""`safecity analytics run FILE`: the camera analytics on a recorded file or an evidence clip."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from safecity.analytics.assets.errors import AssetError
from safecity.analytics.decoding import UnreadableVideo, file_duration
from safecity.analytics.offline import OfflineEvent, OfflineSummary, analyse_file
from safecity.analytics.rules.definitions import CameraRules, Tamper
from safecity.analytics.setup import build_configured_detector, decode_options
from safecity.cli_options import ConfigOption
from safecity.cli_support import settings_or_exit

app = typer.Typer(help="Video analytics: run it on a recorded file.", no_args_is_help=True)

errors = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True, highlight=False)

DEFAULT_RULES = CameraRules(rules=[Tamper(name="tamper")])
"""Without --rules a file is watched for tamper only (and its objects are listed)."""


def _rules(path: Path | None) -> CameraRules:
    if path is None:
        return DEFAULT_RULES
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _fail(f"{path}: cannot read the rules file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise _fail(f"{path}: not valid YAML or JSON: {exc}") from exc
    try:
        return CameraRules.model_validate(document if document is not None else {})
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in error['loc']) or '(top level)'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        raise _fail(f"{path}: not a rules document:\n{problems}") from exc


def _fail(message: str) -> typer.Exit:
    errors.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(1)


def _line(event: OfflineEvent) -> str:
    data = event.to_json()
    offset = f"{data.pop('offset'):8.2f}s"
    kind = data.pop("type")
    if kind == "detections":
        objects = ", ".join(f"{o['class']} {o['score']:.2f}" for o in data["objects"]) or "-"
        return f"{offset}  detections  {objects}"
    if kind == "rule":
        what = f"{data.pop('kind')} '{data.pop('rule')}'"
        track = data.pop("track")
        who = f" {data.pop('class')} #{track}" if track is not None else ""
        data.pop("boxes", None)
        extra = " ".join(f"{key}={value}" for key, value in data.items())
        return f"{offset}  rule        {what}{who} {extra}".rstrip()
    return f"{offset}  {kind:<11} " + " ".join(f"{key}={value}" for key, value in data.items())


@app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="A video file (a recording, a clip, any MP4/AVI).")],
    rules_file: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            help="Rules as YAML or JSON, the document the rules API takes ({rules: [...], "
            "masks: [...]}). Default: tamper only.",
            dir_okay=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line, then a summary line.")
    ] = False,
    detections: Annotated[
        bool,
        typer.Option("--detections", help="Also each frame's detections (where the detector ran)."),
    ] = False,
    no_detector: Annotated[
        bool, typer.Option("--no-detector", help="Motion and tamper only: no object detection.")
    ] = False,
    started: Annotated[
        datetime | None,
        typer.Option(
            "--start",
            help="When the file's first frame was taken (ISO, with its zone), for the rules' "
            "schedules. Default: now.",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z"],
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Analyse FILE as fast as the CPU allows and print each event with its offset in seconds
    from the start of the file: objects entering and leaving, rules fired, tamper raised and
    cleared."""
    settings = settings_or_exit(config)
    if not file.is_file():
        raise _fail(f"{file}: no such file")
    rules = _rules(rules_file)
    if started is not None and started.tzinfo is None:
        raise _fail("--start needs its time zone, e.g. 2026-05-01T21:00:00+05:00")
    try:
        detector = None if no_detector else build_configured_detector(settings.analytics)
    except AssetError as exc:
        raise _fail(f"{exc} (or run with --no-detector)") from exc
    except ValueError as exc:
        raise _fail(f"the detector in the settings cannot run: {exc}") from exc
    summary = OfflineSummary()

    def events(progress: Callable[[float], None] | None = None) -> Iterator[OfflineEvent]:
        return analyse_file(
            file,
            rules,
            detector,
            settings.zone,
            decode=decode_options(settings.analytics),
            started_at=started.timestamp() if started is not None else None,
            detections=detections,
            summary=summary,
            progress=progress,
        )

    try:
        if as_json:
            for event in events():
                typer.echo(json.dumps(event.to_json(), ensure_ascii=False))
            typer.echo(json.dumps(summary.to_json()))
            return
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[seen]}"),
            TimeElapsedColumn(),
            # On a terminal the bar shares the screen with the events (printed above it);
            # with the events piped elsewhere it goes to stderr.
            console=out if out.is_terminal else errors,
            transient=True,
        ) as bar:
            duration = file_duration(file)
            of = f" of {duration:.0f} s" if duration else ""
            task = bar.add_task(escape(file.name), total=duration, seen=f"0 s{of}")

            def advance(offset: float) -> None:
                bar.update(task, completed=offset, seen=f"{offset:.0f} s{of}")

            for event in events(advance):
                out.print(escape(_line(event)))
    except UnreadableVideo as exc:
        raise _fail(str(exc)) from exc
    out.print(
        f"{summary.frames} frames ({summary.seconds:.1f} s of video) in "
        f"{summary.wall_seconds:.1f} s, {summary.speed:.1f}× real time; detector on "
        f"{summary.detector_calls} frames ({summary.regions} regions); {summary.objects} "
        f"objects, {summary.rule_hits} rule hits"
    )
