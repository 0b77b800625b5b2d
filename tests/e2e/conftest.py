"""End-to-end tests run the platform's real parts together; they borrow the RTSP fixtures."""

from tests.video.conftest import _gst_rtsp_server_available, make_rtsp_server

__all__ = ["_gst_rtsp_server_available", "make_rtsp_server"]
