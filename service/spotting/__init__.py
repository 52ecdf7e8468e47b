"""Expression spotting: events (onset, apex, offset) against the person's own resting face.

One seam to the pipeline: ``Spotter`` implements its ``Analysis`` protocol (``features`` on
every sampled frame, ``finish`` on all records). ``analysis_for`` says when to use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.spotting.spotter import SpotParams, Spotter

if TYPE_CHECKING:
    from model_artifact import ModelVersion
    from service.pipeline import PredictOptions


def analysis_for(model: ModelVersion, options: PredictOptions) -> Spotter | None:
    """The spotter when every frame is analysed (``sample_interval`` 0), else None: coarser
    sampling cannot see an expression that lasts a fifth of a second. The factory both
    ``/v1/predict`` and the jobs (``app.state.job_analysis``) use."""
    return Spotter() if options.sample_interval == 0 else None


__all__ = ["SpotParams", "Spotter", "analysis_for"]
