"""Tamper checks on clips with a known onset: synthetic scenes and real footage (vtest.avi) with
the lens covered, blurred, turned, frozen or darkened from ONSET to END.

Tolerance: a check is raised between its hold time after the onset and 1.5 s later — 3 s for
"moved", whose smoothed view (1.5 s time constant, so walkers blur) takes that long to cross
its limit on a small knock — with its ``since`` within the same tolerance of the onset; it is
cleared between 2 s after the picture recovers and the same tolerance later. Untouched clips
raise nothing, at every sensitivity.
"""

from collections.abc import Callable, Iterable, Iterator
from functools import cache

import cv2
import numpy as np
import pytest

from safecity.analytics.motion import Grey, small_grey
from safecity.analytics.rules.definitions import Tamper, TamperCheck
from safecity.analytics.tamper import (
    Sensitivity,
    TamperChange,
    TamperOptions,
    TamperWatch,
)
from tests.analytics.pictures import decoded, textured_scene

ONSET, END = 20.0, 50.0
HOLD = {"high": 2.0, "medium": 4.0, "low": 8.0}
FROZEN_HOLD = {"high": 5.0, "medium": 10.0, "low": 30.0}
CLEAR = 2.0
TOLERANCE: dict[TamperCheck, float] = {"moved": 3.0}
FPS = 5
Effect = Callable[[Grey, np.random.Generator], Grey]


def _run(
    pictures: Iterable[tuple[float, Grey]], options: TamperOptions | None = None
) -> list[TamperChange]:
    watch = TamperWatch(options)
    return [change for at, grey in pictures for change in watch.watch(grey, at)]


# The synthetic street: a 400×225 grey scene seen through a 320×180 window (the small grey
# picture of a 640×360 detect frame), sensor noise on every frame, a walker crossing now and
# then.
VIEW_W, VIEW_H = 320, 180


@cache
def _street() -> Grey:
    grey: Grey = cv2.cvtColor(textured_scene(400, 225, seed=3), cv2.COLOR_RGB2GRAY)
    return grey


def _view(dx: int = 0, dy: int = 0) -> Grey:
    return _street()[20 + dy : 20 + dy + VIEW_H, 40 + dx : 40 + dx + VIEW_W]


def _street_clip(
    effect: Effect | None = None,
    seconds: float = 70.0,
    seed: int = 1,
    fps: int = FPS,
    during: tuple[float, float] = (ONSET, END),
) -> Iterator[tuple[float, Grey]]:
    rng = np.random.default_rng(seed)
    for index in range(int(seconds * fps)):
        at = index / fps
        picture = _view().copy()
        walker_x = int(at * 40) % 500 - 60  # one walker every 12.5 s, 40 px/s
        cv2.rectangle(picture, (walker_x, 70), (walker_x + 14, 110), 30, -1)
        if effect is not None and during[0] <= at < during[1]:
            picture = effect(picture, rng)
        noise = rng.standard_normal(picture.shape, dtype=np.float32)
        yield at, np.clip(picture + noise, 0, 255).astype(np.uint8)


def _covered(picture: Grey, rng: np.random.Generator) -> Grey:
    """A hand or cloth over the lens: a dull, soft-shaded surface."""
    shade = np.linspace(55, 85, picture.shape[1], dtype=np.float32)
    return np.broadcast_to(shade, picture.shape).astype(np.uint8)


def _defocus(picture: Grey, rng: np.random.Generator) -> Grey:
    return cv2.GaussianBlur(picture, (0, 0), 5)


def _dark(picture: Grey, rng: np.random.Generator) -> Grey:
    return (picture * 0.12).astype(np.uint8)


def _moved(picture: Grey, rng: np.random.Generator) -> Grey:
    """Knocked: the view shifted by 10% of its width and 5% of its height."""
    return _view(dx=32, dy=9).copy()


def _frozen_clip(clip: Iterable[tuple[float, Grey]]) -> Iterator[tuple[float, Grey]]:
    """The same picture, bit for bit, from ONSET to END (frames keep arriving)."""
    stuck: Grey | None = None
    for at, grey in clip:
        if ONSET <= at < END:
            stuck = grey if stuck is None else stuck
            yield at, stuck
        else:
            yield at, grey


EFFECTS: dict[TamperCheck, Effect] = {
    "covered": _covered,
    "defocus": _defocus,
    "dark": _dark,
    "moved": _moved,
}


def _assert_raised_once_and_cleared(
    changes: list[TamperChange], check: TamperCheck, sensitivity: Sensitivity = "medium"
) -> None:
    hold = FROZEN_HOLD[sensitivity] if check == "frozen" else HOLD[sensitivity]
    assert [(c.check, c.state) for c in changes] == [(check, "raised"), (check, "cleared")]
    raised, cleared = changes
    tolerance = TOLERANCE.get(check, 1.5)
    assert ONSET + hold <= raised.at <= ONSET + hold + tolerance, raised
    assert ONSET <= raised.since <= ONSET + tolerance
    assert END + CLEAR <= cleared.at <= END + CLEAR + tolerance, cleared
    assert raised.figures and cleared.figures


@pytest.mark.parametrize("check", [*EFFECTS, "frozen"])
def test_each_tamper_on_the_street_is_raised_at_onset_and_cleared_after(check: TamperCheck) -> None:
    clip = _frozen_clip(_street_clip()) if check == "frozen" else _street_clip(EFFECTS[check])
    _assert_raised_once_and_cleared(_run(clip), check)


def test_a_frozen_picture_re_rendered_at_each_keyframe_is_still_frozen() -> None:
    """A real encoder stuck on one picture still sends a keyframe every 2 s, and that frame
    and the next differ from the stuck picture by a percent or two of their pixels."""
    rng = np.random.default_rng(4)

    def with_keyframes(clip: Iterable[tuple[float, Grey]]) -> Iterator[tuple[float, Grey]]:
        for at, grey in clip:
            if ONSET <= at < END and (at - ONSET) % 2.0 < 0.3:  # a keyframe and the next
                touched = grey.copy()
                spots = rng.random(grey.shape) < 0.02
                touched[spots] = np.clip(touched[spots].astype(int) + 3, 0, 255)
                yield at, touched
            else:
                yield at, grey

    changes = _run(with_keyframes(_frozen_clip(_street_clip())))
    _assert_raised_once_and_cleared(changes, "frozen")


@pytest.mark.parametrize("sensitivity", ["high", "low"])
def test_sensitivity_sets_the_hold_time(sensitivity: Sensitivity) -> None:
    changes = _run(_street_clip(_covered), TamperOptions(sensitivity))
    _assert_raised_once_and_cleared(changes, "covered", sensitivity)
    frozen = _run(_frozen_clip(_street_clip()), TamperOptions(sensitivity))
    if sensitivity == "low":
        assert frozen == [], "30 s of frozen picture needed; it lasted 30 s minus the first"
    else:
        _assert_raised_once_and_cleared(frozen, "frozen", sensitivity)


def test_a_camera_that_starts_covered_is_raised_and_learns_its_view_once_uncovered() -> None:
    watch = TamperWatch()
    changes = []
    for at, grey in _street_clip(_covered, seconds=60, during=(0, 15)):
        changes += watch.watch(grey, at)
    assert [(c.check, c.state, c.at) for c in changes] == [
        ("covered", "raised", HOLD["medium"]),
        ("covered", "cleared", 15 + CLEAR),
    ]
    for at, grey in _street_clip(_defocus, seconds=60):  # the view learned is the street's
        changes += watch.watch(grey, 60 + at)
    assert [(c.check, c.state) for c in changes[2:]] == [
        ("defocus", "raised"),
        ("defocus", "cleared"),
    ]


def test_a_black_cover_is_too_dark_and_nothing_else() -> None:
    black = _run(_street_clip(lambda picture, rng: np.full_like(picture, 6)))
    assert [(c.check, c.state) for c in black] == [("dark", "raised"), ("dark", "cleared")]


def test_the_figures_say_what_was_measured() -> None:
    dark = _run(_street_clip(_dark))[0]
    assert dark.figures["brightness"] < dark.figures["floor"] == 30
    defocus = _run(_street_clip(_defocus))[0]
    assert defocus.figures["sharpness_share"] < defocus.figures["limit"]
    moved = _run(_street_clip(_moved))[0]
    assert moved.figures["shift"] == pytest.approx(0.11, abs=0.03)  # 10% across, 5% down
    frozen = _run(_frozen_clip(_street_clip()))[0]
    assert frozen.figures == {"changed_share": 0.0}


def test_checks_left_out_of_the_rule_are_not_raised() -> None:
    options = TamperOptions.for_rule(Tamper(name="tamper", checks=["dark", "frozen"]))
    assert options.checks == {"dark", "frozen"} and options.sensitivity == "medium"
    assert _run(_street_clip(_covered), options) == []
    assert [c.check for c in _run(_street_clip(_dark), options)] == ["dark", "dark"]


def test_raised_names_what_is_wrong_now() -> None:
    watch = TamperWatch()
    during = after = frozenset()
    for at, grey in _street_clip(_dark, seconds=60):
        watch.watch(grey, at)
        if at == 40.0:
            during = watch.raised
        after = watch.raised
    assert during == {"dark"} and after == frozenset()


def test_a_picture_hovering_near_the_floor_is_not_cleared_until_it_clearly_recovers() -> None:
    watch = TamperWatch()
    changes = []
    for at, grey in _street_clip(seconds=100):
        flicker = (28, 36)[int(at * FPS) % 2]
        brightness = 120 if at < 10 else 15 if at < 30 else flicker if at < 60 else 120
        changes += watch.watch((grey * (brightness / 120)).astype(np.uint8), at)
    assert [(c.state, c.at) for c in changes] == [("raised", 14.0), ("cleared", 62.0)]


def test_a_lasting_tamper_is_not_learned_as_the_new_normal() -> None:
    watch = TamperWatch()
    changes = []
    rng = np.random.default_rng(1)
    for at, grey in _street_clip(seconds=620, fps=2):  # blurred for ten minutes from 20 s
        changes += watch.watch(_defocus(grey, rng) if at >= 20 else grey, at)
    assert [(c.state, c.at) for c in changes] == [("raised", 24.0)]
    assert watch.raised == {"defocus"}


def test_a_camera_still_swinging_has_not_moved_until_it_comes_to_rest() -> None:
    clip = []
    for at, grey in _street_clip(seconds=50):
        dx = 0
        if ONSET <= at < 35:  # swings 40 px to and fro every 3 s, then stays turned
            dx = round(20 + 20 * np.sin(2 * np.pi * (at - ONSET) / 3))
        elif at >= 35:
            dx = 32
        turned = _view(dx=dx) + (grey.astype(np.int16) - _view())  # the same noise and walker
        clip.append((at, np.clip(turned, 0, 255).astype(np.uint8)))
    [raised] = _run(clip)
    assert raised.check == "moved"
    assert 35 + HOLD["medium"] <= raised.at <= 35 + HOLD["medium"] + TOLERANCE["moved"]


@pytest.mark.parametrize("sensitivity", ["high", "medium", "low"])
def test_an_untouched_street_raises_nothing(sensitivity: Sensitivity) -> None:
    assert _run(_street_clip(seconds=120, seed=2), TamperOptions(sensitivity)) == []


@pytest.mark.parametrize("sensitivity", ["high", "medium", "low"])
def test_lights_going_on_and_off_are_not_tamper(sensitivity: Sensitivity) -> None:
    night = (255 * (np.arange(256) / 255) ** 0.5).astype(np.uint8)  # an infrared-like curve

    def lit(clip: Iterable[tuple[float, Grey]]) -> Iterator[tuple[float, Grey]]:
        for at, grey in clip:
            if 20 <= at < 40:
                yield at, (grey * 0.55).astype(np.uint8)
            elif 60 <= at < 80:
                yield at, cv2.LUT(grey, night)
            elif 90 <= at < 110:  # the lamps over the left half go out
                half = grey.copy()
                half[:, : grey.shape[1] // 2] //= 6
                yield at, half
            else:
                yield at, grey

    assert _run(lit(_street_clip(seconds=120)), TamperOptions(sensitivity)) == []
    assert _run(lit(_plaza_clip()), TamperOptions(sensitivity)) == []


def test_a_clock_set_back_while_a_check_builds_up_restarts_its_hold() -> None:
    changes = []
    watch = TamperWatch()
    for at, grey in _street_clip(_dark, seconds=30):
        if at >= 22:
            at -= 60  # set back a minute, two seconds into the darkness
        changes += watch.watch(grey, at)
    [raised] = changes
    assert raised.check == "dark" and raised.since == pytest.approx(22 - 60)
    assert raised.at == pytest.approx(22 - 60 + HOLD["medium"])


def test_a_clock_set_back_or_a_new_picture_size_raises_nothing() -> None:
    watch = TamperWatch()
    for at, grey in _street_clip(seconds=20):
        assert watch.watch(grey, at) == []
    for at, grey in _street_clip(seconds=20):  # the same times again
        assert watch.watch(grey, at - 30) == []
    for at, grey in _street_clip(seconds=20):
        assert watch.watch(cv2.resize(grey, (160, 90), interpolation=cv2.INTER_AREA), at) == []


# Real footage: vtest.avi (a plaza, people walking) at the detect rate, 5 fps, its small grey
# picture (288 rows) seen through a window of 80% of it, so that a turn has somewhere to go.


@cache
def _plaza() -> tuple[Grey, ...]:
    frames = list(decoded("vtest.avi"))[:: 10 // FPS]
    return tuple(small_grey(frame, 288) for frame in frames)


def _plaza_window(grey: Grey, dx: float = 0.0, dy: float = 0.0) -> Grey:
    height, width = grey.shape
    w, h = int(width * 0.8), int(height * 0.8)
    x, y = (width - w) // 2 + int(dx * width), (height - h) // 2 + int(dy * height)
    return grey[y : y + h, x : x + w]


def _plaza_clip(effect: Callable[[Grey], Grey] | None = None) -> Iterator[tuple[float, Grey]]:
    for index, grey in enumerate(_plaza()):
        at = index / FPS
        tampered = effect is not None and ONSET <= at < END
        yield at, effect(grey) if tampered else _plaza_window(grey)  # type: ignore[misc]


def _shade(grey: Grey) -> Grey:
    """A cloth over the lens: the picture's light, smeared into a soft shade."""
    height, width = grey.shape
    blotch = cv2.resize(grey, (4, 3), interpolation=cv2.INTER_AREA)
    shade = cv2.resize(blotch, (width, height), interpolation=cv2.INTER_LINEAR)
    return (shade // 2 + 30).astype(np.uint8)


PLAZA_EFFECTS: dict[TamperCheck, Callable[[Grey], Grey]] = {
    "covered": lambda grey: _shade(_plaza_window(grey)),
    "defocus": lambda grey: cv2.GaussianBlur(_plaza_window(grey), (0, 0), 4),
    "dark": lambda grey: (_plaza_window(grey) * 0.15).astype(np.uint8),
    "moved": lambda grey: _plaza_window(grey, dx=0.08),
}


@pytest.mark.parametrize("check", [*PLAZA_EFFECTS, "frozen"])
def test_each_tamper_on_real_footage_is_raised_at_onset_and_cleared_after(
    check: TamperCheck,
) -> None:
    clip = _frozen_clip(_plaza_clip()) if check == "frozen" else _plaza_clip(PLAZA_EFFECTS[check])
    _assert_raised_once_and_cleared(_run(clip), check)


def test_a_small_knock_is_raised_at_high_sensitivity_only() -> None:
    def knocked() -> Iterator[tuple[float, Grey]]:
        return _plaza_clip(lambda grey: _plaza_window(grey, dx=0.03))

    _assert_raised_once_and_cleared(_run(knocked(), TamperOptions("high")), "moved", "high")
    assert _run(knocked(), TamperOptions("low")) == []


@pytest.mark.parametrize("sensitivity", ["high", "medium", "low"])
def test_untouched_real_footage_raises_nothing(sensitivity: Sensitivity) -> None:
    options = TamperOptions(sensitivity)
    assert (
        _run(
            ((index / 10, small_grey(f, 180)) for index, f in enumerate(decoded("vtest.avi"))),
            options,
        )
        == []
    )
    tree = [small_grey(frame, 180) for frame in decoded("tree.avi")]
    swaying = (tree + tree[::-1]) * 5  # 45 s of wind, played back and forth
    assert _run(((index / 15, grey) for index, grey in enumerate(swaying)), options) == []


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((180, 320, 3), np.uint8),
        np.zeros((180, 320), np.float32),
        np.zeros((0, 320), np.uint8),
    ],
)
def test_pictures_that_are_not_grey_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="picture"):
        TamperWatch().watch(bad, 0.0)


def test_nonsense_times_and_options_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        TamperWatch().watch(_view().copy(), float("nan"))
    with pytest.raises(ValueError, match="sensitivity"):
        TamperOptions("extreme")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown tamper checks"):
        TamperOptions(checks=frozenset({"stolen"}))  # type: ignore[arg-type]
