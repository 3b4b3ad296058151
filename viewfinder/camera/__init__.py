"""Frame sources (cameras, video files, image folders, the synthetic scene). No Qt."""
from viewfinder.camera.base import FrameSource, SourceError, as_bgr, list_cameras, open_source
from viewfinder.camera.synthetic import SyntheticSource

__all__ = ["FrameSource", "SourceError", "SyntheticSource", "as_bgr", "list_cameras",
           "open_source"]
