"""Expression spotting: events (onset, apex, offset) against the person's own resting face.

One seam to the pipeline: ``Spotter`` implements its ``Analysis`` protocol (``features`` on
every sampled frame, ``finish`` on all records). ``analysis_for`` says when to use it.
"""

from __future__ import annotations

from service.spotting.spotter import SpotParams, Spotter


def analysis_for(sample_interval: float) -> Spotter | None:
    """The spotter when every frame is analysed (``sample_interval`` 0), else None: coarser
    sampling cannot see an expression that lasts a fifth of a second."""
    return Spotter() if sample_interval == 0 else None


__all__ = ["SpotParams", "Spotter", "analysis_for"]
