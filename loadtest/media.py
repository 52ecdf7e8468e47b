"""The uploads of the load test, generated from a real face photograph (nothing committed)."""

from __future__ import annotations

from dataclasses import dataclass

from loadtest.checks import Upload
from tools.facevideo import face_image, face_video


@dataclass(frozen=True)
class Media:
    """One generated upload and what a correct answer to it looks like."""

    filename: str
    content_type: str
    data: bytes
    kind: str
    width: int
    height: int
    duration_s: float | None = None
    min_faces: int = 1

    def upload(self, task: str) -> Upload:
        return Upload(
            kind=self.kind,  # type: ignore[arg-type]
            width=self.width,
            height=self.height,
            task=task,  # type: ignore[arg-type]
            duration_s=self.duration_s,
            min_faces=self.min_faces,
        )


def make_media() -> dict[str, Media]:
    """The uploads, from scikit-image's astronaut photograph: a JPEG, a PNG and a 3 s MP4."""
    return {
        "micro": Media("face.jpg", "image/jpeg", face_image(640, 480, "JPEG"), "image", 640, 480),
        "masked": Media("face.png", "image/png", face_image(512, 384, "PNG"), "image", 512, 384),
        # 3 s at 15 fps sampled every 0.5 s = 6 frames; the face must be found in at least half.
        "video": Media(
            "face.mp4", "video/mp4", face_video(3.0, 15, 320, 240), "video", 320, 240, 3.0, 3
        ),
    }
