import numpy as np
import pytest

from safecity.analytics.masks import PrivacyMasks, apply
from safecity.analytics.motion import MotionDetector
from tests.analytics.pictures import textured_scene, walker, with_noise

RIGHT_HALF = [(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)]
TOP_LEFT_TRIANGLE = [(0.0, 0.0), (0.25, 0.0), (0.0, 0.25)]


def test_the_mask_hides_its_polygon_and_nothing_else() -> None:
    visibility = PrivacyMasks([RIGHT_HALF]).visibility(640, 360)
    assert visibility.shape == (360, 640)
    assert (visibility[:, :320] == 255).all()
    assert (visibility[:, 321:] == 0).all()


def test_the_mask_covers_the_same_place_at_every_size() -> None:
    masks = PrivacyMasks([TOP_LEFT_TRIANGLE])
    big = masks.visibility(1280, 720)
    small = masks.visibility(320, 180)
    shares = [(v == 0).mean() for v in (big, small)]
    assert shares[0] == pytest.approx(1 / 32, rel=0.05)
    assert shares[1] == pytest.approx(1 / 32, rel=0.1)
    assert big[10, 10] == 0 and big[10, 400] == 255 and small[3, 3] == 0 and small[3, 100] == 255


def test_the_mask_is_drawn_once_per_size_and_cannot_be_changed() -> None:
    masks = PrivacyMasks([RIGHT_HALF])
    first = masks.visibility(640, 360)
    assert masks.visibility(640, 360) is first
    assert masks.visibility(320, 180) is not first
    with pytest.raises(ValueError):
        first[0, 0] = 0


def test_apply_blacks_out_colour_and_grey_pictures_and_leaves_the_original() -> None:
    masks = PrivacyMasks([RIGHT_HALF, TOP_LEFT_TRIANGLE])
    colour = textured_scene(640, 360)
    original = colour.copy()
    hidden = masks.apply(colour)
    assert hidden.shape == colour.shape
    assert (hidden[:, 330:] == 0).all()
    assert (hidden[5, 5] == 0).all()
    assert np.array_equal(hidden[200:, :300], colour[200:, :300])
    assert np.array_equal(colour, original)

    grey = colour[:, :, 1].copy()
    hidden_grey = apply(grey, masks.visibility(640, 360))
    assert (hidden_grey[:, 330:] == 0).all()
    assert np.array_equal(hidden_grey[200:, :300], grey[200:, :300])


def test_without_masks_the_picture_is_handed_back_as_it_is() -> None:
    masks = PrivacyMasks([])
    picture = textured_scene(64, 36)
    assert not masks.hides_anything
    assert masks.apply(picture) is picture


def test_motion_under_a_mask_is_not_reported_and_beside_it_is() -> None:
    rng = np.random.default_rng(5)
    scene = textured_scene(640, 360)
    masked = MotionDetector(masks=PrivacyMasks([RIGHT_HALF]))
    bare = MotionDetector()
    for step in range(40):
        x = 360 + 6 * step  # walks inside the right half, under the mask
        frame = with_noise(walker(scene, x, 150, 30, 80), rng)
        hidden, seen = masked.detect(frame), bare.detect(frame)
        if step >= 10:
            assert seen.boxes, "the walker is seen without the mask"
            assert hidden.boxes == () and hidden.share == 0.0

    for step in range(20):
        frame = with_noise(walker(scene, 40 + 8 * step, 150, 30, 80), rng)
        hidden = masked.detect(frame)
    assert hidden.boxes and all(box.x2 <= 322 for box in hidden.boxes)


@pytest.mark.parametrize(
    "polygons",
    [
        [[(0.1, 0.1), (0.2, 0.2)]],
        [[(0.1, 0.1), (1.2, 0.2), (0.3, 0.9)]],
        [[(0.1, 0.1), (float("nan"), 0.2), (0.3, 0.9)]],
        [[(0.1, 0.1, 0.3), (0.5, 0.2), (0.3, 0.9)]],
        [[0.1, 0.2, 0.3]],
    ],
)
def test_masks_that_are_not_polygons_in_picture_shares_are_refused(polygons: object) -> None:
    with pytest.raises(ValueError, match="privacy mask 1"):
        PrivacyMasks(polygons)  # type: ignore[arg-type]


def test_a_picture_of_another_size_or_kind_is_refused() -> None:
    masks = PrivacyMasks([RIGHT_HALF])
    with pytest.raises(ValueError, match="the mask is 640×360"):
        apply(textured_scene(320, 180), masks.visibility(640, 360))
    with pytest.raises(ValueError, match="uint8"):
        apply(np.zeros((360, 640), np.float32), masks.visibility(640, 360))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        masks.visibility(0, 360)
