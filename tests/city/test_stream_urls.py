import pytest

from safecity.city.stream_urls import without_password


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:pa55@10.1.2.3:554/ch1", "rtsp://admin:***@10.1.2.3:554/ch1"),
        ("rtsp://admin:pa55@cam.local/ch1?x=1", "rtsp://admin:***@cam.local/ch1?x=1"),
        ("rtsp://admin:p%40ss@[fd00::1]:554/s", "rtsp://admin:***@[fd00::1]:554/s"),
        ("rtsp://10.1.2.3/ch1", "rtsp://10.1.2.3/ch1"),
        ("rtsp://viewer@10.1.2.3/ch1", "rtsp://viewer@10.1.2.3/ch1"),
        ("file:///srv/video/cam.mp4", "file:///srv/video/cam.mp4"),
        (
            "http://10.0.0.1/cgi-bin/snap.cgi?user=admin&password=hunter2&channel=1",
            "http://10.0.0.1/cgi-bin/snap.cgi?user=admin&password=***&channel=1",
        ),
        (
            "rtsp://10.0.0.1/live?Pwd=x&authToken=y&stream=main",
            "rtsp://10.0.0.1/live?Pwd=***&authToken=***&stream=main",
        ),
        ("rtsp://10.0.0.1/live?channel=1&subtype=0", "rtsp://10.0.0.1/live?channel=1&subtype=0"),
    ],
)
def test_password_is_hidden_and_the_rest_kept(url: str, shown: str) -> None:
    assert without_password(url) == shown
