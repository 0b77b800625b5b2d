"""Record one camera in a process of its own, until killed: the test double for a recorder
that dies (power cut, OOM kill) in the middle of a segment.

    python -m tests.support.record_camera DATABASE_URL MEDIA CAMERA_ID CAMERA_CODE STREAM_URL \
        SEGMENT_SECONDS
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

from safecity.store.engine import Database
from safecity.video.ingest.worker import IngestOptions, IngestWorker
from safecity.video.recording.recorder import SegmentRecorder
from safecity.video.recording.segment_index import SegmentIndexWriter


def main() -> None:
    url, media, camera_id, code, stream, seconds = sys.argv[1:7]
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    database = Database(url)
    index = SegmentIndexWriter(database, flush_every=0.2)
    index.start()
    recorder = SegmentRecorder(
        int(camera_id), code, Path(media), index.add, segment_seconds=float(seconds)
    )
    options = IngestOptions(stall_seconds=2.0, backoff_initial=0.2, backoff_max=1.0)
    IngestWorker(code, stream, [recorder], options).start()
    print("RECORDING", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
