"""A video's length, read from the file itself (WebM/Matroska and MP4 headers) with hachoir, so that
a course's duration is what the media really lasts and not what someone typed."""

import logging

from hachoir.core import config as hachoir_config
from hachoir.metadata import extractMetadata
from hachoir.parser import guessParser
from hachoir.stream import InputIOStream

logger = logging.getLogger(__name__)

# hachoir reports parser trouble on stderr unless told not to; a file it cannot read is answered
# with None here instead.
hachoir_config.quiet = True

# Durations are typed in tenths of a minute (6 s), so a correct typed length may be 3 s off.
TOLERANCE_SECONDS = 5


def video_seconds(handle) -> float | None:
    """The length in seconds of the video in an open binary file, or None when the file says nothing
    that can be read (not a video, damaged, or a stream without a length). The position is restored."""
    position = handle.tell()
    try:
        handle.seek(0)
        # Not closed when done: the stream would close the caller's file with it.
        parser = guessParser(InputIOStream(handle, source="upload", tags=[]))
        if parser is None:
            return None
        metadata = extractMetadata(parser)
        duration = metadata.get("duration", None) if metadata else None
    except Exception:  # hachoir raises many kinds of error on a damaged file; all mean "unreadable"
        logger.info("could not read a video's length", exc_info=True)
        return None
    finally:
        handle.seek(position)
    if duration is None or duration.total_seconds() <= 0:
        return None
    return duration.total_seconds()


def lengths_agree(typed_seconds: float, read_seconds: float) -> bool:
    return abs(typed_seconds - read_seconds) <= TOLERANCE_SECONDS
