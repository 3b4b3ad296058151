"""The Qt layer: widgets and the threads that move frames between the pure stages.

camera -> CaptureThread (ring buffer, shutter) -> ScoringThread (scores, ranking)
-> MainWindow (overlay, filmstrip) -> SaveThread (storage). Nothing outside this package
and viewfinder/app.py imports Qt.
"""
