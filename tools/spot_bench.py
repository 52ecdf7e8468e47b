"""The spotting PROXY benchmark: CK+ faces that rest and briefly flash another expression.

Every clip shows one CK+ development subject (never a subject any shipped model held out: the
held-out ids are read from the model cards). CK+48 holds only near-apex frames, so there is no
neutral face per subject: the *resting face* is one of the subject's own posed expressions
(held still), and an *event* is a cross-fade to another of that subject's expressions and back.
So the benchmark measures "a brief change from this person's held face to another expression",
not "a brief expression from a truly neutral face"; and the classifier has seen these very
images in training (only the held-out subjects were not), so label accuracy here is optimistic.
It is a PROXY, and is called one wherever it is quoted.

Clip: 30 fps, 640x360, H.264 (x264 crf 23, yuv420p, as a camera writes it), a textured
background, the face (upscaled 48 px crop, aligned onto the resting face by ECC) with small,
slow head motion, brightness flicker and sensor noise. Events: micro = 5-12 frames from onset
to offset inclusive (1-3-frame cross-fades in and out), macro = 20-60 frames (3-8-frame fades).
Ground truth: onset = first frame that differs from rest, offset = last one, apex = middle of
the hold. ``python -m tools.spot_bench OUT`` writes ``OUT/dev`` and ``OUT/test`` (subjects
split in half, seeded), ``<name>.mp4`` + ``<name>.json`` each, in the spot-eval format.

``--masked`` builds the MASKED PROXY instead (its own dev/test subject split): the resting
face is the subject's own smile, and an event briefly puts the upper face of that subject's
anger (sadness) image, aligned, over the smile's lower face (the composite of
``training.masked_proxy``): a smile hiding anger (sadness), labelled ``happy_but_angry``
(``happy_but_sad``), for a masked model's spotting.

``--negatives N`` adds N HARD-NEGATIVE clips per subject (``<subject>_neg<j>``, ground truth
``"events": []``): the resting face, held still, with changes that are not expressions: a
hand-shaped, skin-toned occluder sliding over the lower face and away (``occluder``), blinks
(``blink``) and gaze shifts (``gaze``: the eyes' content shifted inside the eye cells), with
the same timings, scene and encoding (listed as ``nuisances`` in the JSON). Every event
spotted on them is a false alarm: they teach the fit what is not an expression, from the data
we have (a PROXY too: drawn occluders and eye changes, not real hands or eyes).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from model_artifact.regions import region_rows
from tools.facevideo import encode_video

FPS = 30
WIDTH, HEIGHT = 640, 360
SUBJECT_RE = re.compile(r"^(S\d+)_")
DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ckplus5"
DEFAULT_REPOSITORY = Path(__file__).resolve().parents[1] / "model_repository"
X264 = {"preset": "veryfast", "crf": "23", "x264-params": "no-mbtree=1"}
SMILE = "happiness"
MASKED = {"happy_but_angry": "anger", "happy_but_sad": "sadness"}  # label -> upper face class
NUISANCES = ("occluder", "blink", "gaze")  # hard negatives: changes that are no expression
# The eye cells of a CK+48 face (Haar framing), as (top, bottom, left, right) fractions.
EYES = ((0.31, 0.47, 0.12, 0.45), (0.31, 0.47, 0.55, 0.88))


@dataclass(frozen=True)
class Spec:
    """One event: [onset, offset] inclusive, fades of ``ramp_in``/``ramp_out`` frames."""

    onset: int
    offset: int
    ramp_in: int
    ramp_out: int
    label: str
    kind: str

    @property
    def apex(self) -> int:
        hold0, hold1 = self.onset + self.ramp_in, self.offset - self.ramp_out
        return (hold0 + hold1) // 2

    def weight(self, i: int) -> float:
        """Share of the event's face in frame ``i`` (0 outside, 1 in the hold)."""
        if i < self.onset or i > self.offset:
            return 0.0
        if i < self.onset + self.ramp_in:
            return (i - self.onset + 1) / (self.ramp_in + 1)
        if i > self.offset - self.ramp_out:
            return (self.offset - i + 1) / (self.ramp_out + 1)
        return 1.0


def held_out_subjects(repository: Path) -> set[str]:
    """Every subject id any model card in ``repository`` lists as held out."""
    ids: set[str] = set()
    for card in repository.glob("*/*/assets.extra/mmed.json"):
        info = json.loads(card.read_text()).get("evaluation") or {}
        ids.update(info.get("held_out_subject_ids") or [])
    return ids


def load_subjects(data: Path, exclude: set[str]) -> dict[str, dict[str, list[Path]]]:
    """subject → class → image paths (sorted), for subjects with two classes or more."""
    out: dict[str, dict[str, list[Path]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(data.glob("*/*.png")):
        m = SUBJECT_RE.match(path.name)
        if m and m.group(1) not in exclude:
            out[m.group(1)][path.parent.name].append(path)
    return {s: dict(c) for s, c in sorted(out.items()) if len(c) >= 2}


def split_subjects(subjects: list[str], seed: int) -> tuple[list[str], list[str]]:
    """Half the subjects for fitting (dev), half for the report (test), seeded."""
    order = np.random.default_rng(seed).permutation(sorted(subjects))
    half = len(order) // 2
    return sorted(order[:half].tolist()), sorted(order[half:].tolist())


def read_grey(path: Path) -> np.ndarray:
    """The image at ``path`` as 8-bit grey."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f"cannot read image {path}")
    return image


def align(moving: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """``moving`` warped onto ``fixed`` (ECC, rotation + translation); unchanged on failure."""
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)
    try:
        # The stubs' 7-argument overload wants a mask; cv2 takes None (no mask) there too.
        _, warp = cv2.findTransformECC(  # type: ignore[call-overload]
            fixed.astype(np.float32), moving.astype(np.float32), warp,
            cv2.MOTION_EUCLIDEAN, criteria, None, 5,
        )  # fmt: skip
    except cv2.error:
        return moving
    h, w = fixed.shape
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(moving, warp, (w, h), flags=flags, borderMode=cv2.BORDER_REFLECT)


def plan_events(
    rng: np.random.Generator, frames: int, labels: list[str], n_micro: int, n_macro: int
) -> list[Spec]:
    """Events in random order, at least 1.2 s of rest between them and at the ends."""
    kinds = ["micro"] * n_micro + ["macro"] * n_macro
    rng.shuffle(kinds)
    lengths = []
    for kind in kinds:
        if kind == "micro":
            length = int(rng.integers(5, 13))
            ramps = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
            while sum(ramps) > length - 1:
                ramps[int(np.argmax(ramps))] -= 1
        else:
            length = int(rng.integers(20, 61))
            ramps = [int(rng.integers(3, 9)), int(rng.integers(3, 9))]
        lengths.append((length, ramps))
    gap = round(1.2 * FPS)
    free = frames - sum(n for n, _ in lengths) - gap * (len(kinds) + 1)
    if free < 0:
        raise ValueError("clip too short for its events")
    extra = np.sort(rng.integers(0, free + 1, len(kinds)))
    specs, cursor, used = [], gap, 0
    for (length, (r_in, r_out)), kind, e in zip(lengths, kinds, extra, strict=True):
        cursor += int(e) - used
        used = int(e)
        label = labels[int(rng.integers(len(labels)))]
        specs.append(Spec(cursor, cursor + length - 1, r_in, r_out, label, kind))
        cursor += length + gap
    return specs


def background(rng: np.random.Generator) -> np.ndarray:
    """A smooth random scene (muted low-frequency colour blobs and fine texture), RGB float32."""
    grey = rng.uniform(60, 180, (6, 10, 1))
    low = (grey + rng.uniform(-25, 25, (6, 10, 3))).astype(np.float32)
    scene = cv2.resize(low, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
    texture = cv2.GaussianBlur(rng.normal(0, 12, (HEIGHT, WIDTH, 3)).astype(np.float32), (0, 0), 3)
    return np.clip(scene + texture, 0, 255)


def render_clip(
    rest: np.ndarray, faces: dict[str, np.ndarray], specs: list[Spec], frames: int, seed: int
) -> list[np.ndarray]:
    """RGB frames: ``rest`` (48x48 grey) with ``faces[label]`` faded in per ``specs``."""
    rest_f = rest.astype(np.float32)
    seq = []
    for i in range(frames):
        face = rest_f.copy()
        for s in specs:
            w = s.weight(i)
            if w > 0:
                face = (1 - w) * face + w * faces[s.label].astype(np.float32)
        seq.append(face)
    return render_frames(seq, frames, seed)


def render_frames(faces: list[np.ndarray], frames: int, seed: int) -> list[np.ndarray]:
    """RGB frames of the scene with the 48 px grey face ``faces[i]`` (float32) in frame ``i``."""
    rng = np.random.default_rng(seed)
    scene = background(rng)
    side = float(rng.uniform(150, 190))
    tint = rng.uniform(0.9, 1.1, 3).astype(np.float32)
    amp = rng.uniform(1.5, 5.0, 2)
    periods = rng.uniform(2.5, 6.0, 3)
    phase = rng.uniform(0, 2 * math.pi, 3)
    cx = WIDTH / 2 + rng.uniform(-60, 60)
    cy = HEIGHT / 2 + rng.uniform(-15, 15)
    noise = [rng.standard_normal((HEIGHT, WIDTH, 3), dtype=np.float32) * 2.5 for _ in range(12)]
    out = []
    for i in range(frames):
        face = faces[i]
        t = i / FPS
        scale = side / 48 * (1 + 0.02 * math.sin(2 * math.pi * t / periods[2] + phase[2]))
        x0 = cx + amp[0] * math.sin(2 * math.pi * t / periods[0] + phase[0]) - 24 * scale
        y0 = cy + amp[1] * math.sin(2 * math.pi * t / periods[1] + phase[1]) - 24 * scale
        # Warp into the face's own window of the frame only (sub-pixel motion, cheap).
        left, top = max(0, math.floor(x0) - 2), max(0, math.floor(y0) - 2)
        right = min(WIDTH, math.ceil(x0 + 48 * scale) + 2)
        bottom = min(HEIGHT, math.ceil(y0 + 48 * scale) + 2)
        m = np.array([[scale, 0, x0 - left], [0, scale, y0 - top]], np.float32)
        frame = scene.copy()
        window = frame[top:bottom, left:right]
        cv2.warpAffine(
            np.repeat(face[..., None], 3, axis=2) * tint, m, (right - left, bottom - top),
            flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_TRANSPARENT, dst=window,
        )  # fmt: skip
        flicker = 1 + 0.02 * math.sin(2 * math.pi * t / 1.7 + phase[0])
        frame *= flicker
        frame += noise[int(rng.integers(len(noise)))]
        out.append(np.clip(frame, 0, 255).astype(np.uint8))
    return out


def masked_faces(classes: dict[str, list[Path]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The subject's smile and, per masked label, the smile under that class's upper face
    (aligned onto the smile; the seam at the masked models' ``upper`` region boundary)."""
    rest = read_grey(classes[SMILE][-1])
    _, cut = region_rows(rest.shape[0], "upper")
    faces = {}
    for label, source in MASKED.items():
        if source in classes:
            upper = align(read_grey(classes[source][-1]), rest)
            faces[label] = np.concatenate([upper[:cut], rest[cut:]], axis=0)
    return rest, faces


def _feathered(shape: tuple[int, int], boxes: tuple[tuple[float, ...], ...]) -> np.ndarray:
    """A float32 mask, 1 inside the fractional ``boxes`` (top, bottom, left, right), soft edge."""
    h, w = shape
    mask = np.zeros(shape, np.float32)
    for top, bottom, left, right in boxes:
        mask[round(top * h) : round(bottom * h), round(left * w) : round(right * w)] = 1.0
    return cv2.GaussianBlur(mask, (0, 0), 0.8)


def closed_eyes(face: np.ndarray) -> np.ndarray:
    """``face`` (float32) with both eyes shut: each eye cell filled, row by row, from the skin
    just above and below it (the lid), a darker lash line across its lower third."""
    h, w = face.shape
    out = face.copy()
    for top, bottom, left, right in EYES:
        t, b = round(top * h), round(bottom * h)
        cols = slice(round(left * w), round(right * w))
        above, below = face[max(0, t - 1), cols], face[min(h - 1, b), cols]
        for k, row in enumerate(range(t, b)):
            a = (k + 1) / (b - t + 1)
            out[row, cols] = (1 - a) * above + a * below
        out[t + 2 * (b - t) // 3, cols] *= 0.75
    mask = _feathered(face.shape, EYES)
    return (1 - mask) * face + mask * out


def shifted_eyes(face: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``face`` with the content of the eye cells moved by (dx, dy) px: a gaze shift."""
    h, w = face.shape
    m = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    moved = cv2.warpAffine(face, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    mask = _feathered(face.shape, EYES)
    return (1 - mask) * face + mask * moved


@dataclass(frozen=True)
class Hand:
    """A hand-shaped occluder on a 48 px face: where it rests and where it slides in from."""

    x: float  # palm centre at rest (px of the 48 px face)
    y: float
    angle: float  # degrees: the fingers' tilt
    level: float  # grey level (skin-toned: near the face's own)
    dx: float  # the slide: the palm starts (and ends) this far off its rest position
    dy: float

    def mask(self, shift: float, size: int = 48, up: int = 4) -> np.ndarray:
        """The hand's coverage (0..1, anti-aliased) at ``shift`` (1 = off-face, 0 = at rest)."""
        big = np.zeros((size * up, size * up), np.uint8)
        cx, cy = (self.x + shift * self.dx) * up, (self.y + shift * self.dy) * up
        cv2.ellipse(big, (round(cx), round(cy)), (11 * up, 9 * up), self.angle, 0, 360, 255, -1)
        rad = math.radians(self.angle - 90)
        for k, (off, length) in enumerate(((-7.5, 11), (-2.5, 13), (2.5, 12.5), (7.5, 10))):
            # Fingers side by side along the palm's top edge, pointing up (tilted).
            bx = cx + off * up * math.cos(rad + math.pi / 2) + 6 * up * math.cos(rad)
            by = cy + off * up * math.sin(rad + math.pi / 2) + 6 * up * math.sin(rad)
            tip = (bx + length * up * math.cos(rad), by + length * up * math.sin(rad))
            width = (3.6 if k else 3.2) * up
            cv2.line(big, (round(bx), round(by)), (round(tip[0]), round(tip[1])), 255,
                     round(width), cv2.LINE_AA)  # fmt: skip
        return cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255

    def draw(self, face: np.ndarray, shift: float, texture: np.ndarray) -> np.ndarray:
        """``face`` with the hand over it at ``shift``: skin-toned, shaded, finger gaps dark."""
        cover = self.mask(shift, face.shape[0])
        edge = cv2.GaussianBlur(cover, (0, 0), 1.0)
        # Darker towards its outline (a rounded hand), lit from above, skin texture.
        light = np.linspace(1.06, 0.94, face.shape[0], dtype=np.float32)[:, None]
        shade = self.level * light * (0.72 + 0.28 * np.clip(edge * 1.6, 0, 1)) + texture
        return (1 - cover) * face + cover * shade


def random_hand(rng: np.random.Generator, face: np.ndarray) -> Hand:
    """A hand resting over the mouth (sometimes up to the nose), sliding in from below or the
    side, its grey level near the face's cheeks'."""
    cheeks = np.median(face[26:34, 8:40])
    side = rng.random() < 0.3
    start = (float(rng.choice([-1, 1])) * 40, 10.0) if side else (float(rng.uniform(-8, 8)), 34.0)
    return Hand(
        x=float(rng.uniform(19, 29)),
        y=float(rng.uniform(38, 46)),
        angle=float(rng.uniform(-30, 30)),
        level=float(cheeks * rng.uniform(0.9, 1.2)),
        dx=start[0],
        dy=start[1],
    )


def nuisance_frames(
    rest: np.ndarray, specs: list[Spec], frames: int, seed: int
) -> list[np.ndarray]:
    """The 48 px face of every frame: ``rest`` with each nuisance of ``specs`` (label =
    ``NUISANCES`` kind) applied by its weight (an occluder slides, an eye change fades)."""
    rng = np.random.default_rng(seed)
    base = rest.astype(np.float32)
    drawn: list[tuple[Spec, Hand | np.ndarray, np.ndarray]] = []  # (spec, what, texture)
    none = np.zeros_like(base)
    for s in specs:
        if s.label == "occluder":
            tex = cv2.GaussianBlur(rng.normal(0, 9, rest.shape).astype(np.float32), (0, 0), 1.0)
            drawn.append((s, random_hand(rng, base), tex))
        elif s.label == "blink":
            drawn.append((s, closed_eyes(base), none))
        else:
            dx, dy = float(rng.choice([-1.5, 1.5])), float(rng.uniform(-1.2, 0.5))
            drawn.append((s, shifted_eyes(base, dx, dy), none))
    out = []
    for i in range(frames):
        face: np.ndarray = base.copy()
        for s, what, tex in drawn:
            w = s.weight(i)
            if w <= 0:
                continue
            if isinstance(what, Hand):
                face = what.draw(face, 1.0 - w, tex)
            else:
                face = (1 - w) * face + w * what
        out.append(np.clip(face, 0, 255))
    return out


def make_negative_clip(
    subject: str, classes: dict[str, list[Path]], seed: int, seconds: float = 10.0,
    masked: bool = False,
) -> tuple[list[np.ndarray], dict]:  # fmt: skip
    """A HARD-NEGATIVE clip of ``subject``: the resting face (``masked``: the smile) with 4
    nuisances (occluder, blink or gaze, drawn at random; 3 brief, 1 long) and no expression."""
    rng = np.random.default_rng(seed)
    names = sorted(classes)
    rest_class = SMILE if masked else names[int(rng.integers(len(names)))]
    rest = read_grey(classes[rest_class][-1])
    frames = round(seconds * FPS)
    specs = plan_events(rng, frames, list(NUISANCES), n_micro=3, n_macro=1)
    faces = nuisance_frames(rest, specs, frames, seed + 2)
    truth = {
        "fps": FPS,
        "frames": frames,
        "subject": subject,
        "rest_label": rest_class,
        "proxy": "HARD NEGATIVE: CK+ subject's resting face with drawn occluders, blinks and "
        "gaze shifts; no expression (every spotted event is a false alarm)",
        "events": [],
        "nuisances": [
            {"onset_frame": s.onset, "offset_frame": s.offset, "kind": s.label} for s in specs
        ],
    }
    return render_frames(faces, frames, seed + 1), truth


def make_clip(
    subject: str,
    classes: dict[str, list[Path]],
    seed: int,
    seconds: float = 10.0,
    masked: bool = False,
) -> tuple[list[np.ndarray], dict]:
    """One clip of ``subject``: frames and its ground-truth JSON (``masked``: smile at rest,
    masked events; else a posed expression at rest, another one flashed)."""
    rng = np.random.default_rng(seed)
    if masked:
        rest_class = SMILE
        rest, faces = masked_faces(classes)
        others = sorted(faces)
    else:
        names = sorted(classes)
        rest_class = names[int(rng.integers(len(names)))]
        rest = read_grey(classes[rest_class][-1])
        others = [c for c in names if c != rest_class]
        faces = {c: align(read_grey(classes[c][-1]), rest) for c in others}
    frames = round(seconds * FPS)
    specs = plan_events(rng, frames, others, n_micro=3, n_macro=1)
    truth = {
        "fps": FPS,
        "frames": frames,
        "subject": subject,
        "rest_label": rest_class,
        "proxy": (
            "CK+ development subject; resting face = the smile, events = the upper face of "
            "the subject's anger/sadness over the smile (composited)"
            if masked
            else "CK+ development subject; resting face = a posed expression (no neutral frames)"
        ),
        "events": [
            {
                "onset_frame": s.onset,
                "apex_frame": s.apex,
                "offset_frame": s.offset,
                "label": s.label,
                "kind": s.kind,
            }
            for s in specs
        ],
    }
    return render_clip(rest, faces, specs, frames, seed + 1), truth


def write_part(
    folder: Path, members: list[str], subjects: dict[str, dict[str, list[Path]]], seed: int,
    clips_per_subject: int, negatives: int, masked: bool,
) -> tuple[int, int]:  # fmt: skip
    """The clips of one part (then its hard negatives) per subject; (events, nuisances)."""
    folder.mkdir(parents=True, exist_ok=True)
    events = nuisances = 0
    for k, subject in enumerate(members):
        for j in range(clips_per_subject + negatives):
            clip_seed = seed * 100_003 + int(subject[1:]) * 101 + j
            if j < clips_per_subject:
                name = f"{subject}_{j}"
                frames, truth = make_clip(subject, subjects[subject], clip_seed, masked=masked)
            else:  # seeded by the negative's own number: the same clips built alone or not
                neg = j - clips_per_subject
                name = f"{subject}_neg{neg}"
                frames, truth = make_negative_clip(
                    subject, subjects[subject], clip_seed - j + 50 + neg, masked=masked
                )
            (folder / f"{name}.mp4").write_bytes(encode_video(frames, FPS, options=X264))
            (folder / f"{name}.json").write_text(json.dumps(truth, indent=1) + "\n")
            events += len(truth["events"])
            nuisances += len(truth.get("nuisances", []))
        print(f"{folder.name}: {k + 1}/{len(members)} {subject}", flush=True)
    return events, nuisances


def build(
    out: Path,
    data: Path,
    repository: Path,
    seed: int = 0,
    clips_per_subject: int = 1,
    split_seed: int | None = None,
    parts: tuple[str, ...] = ("dev", "test"),
    masked: bool = False,
    negatives: int = 0,
) -> dict:
    """Write ``out/dev`` and ``out/test`` (those of ``parts``; subjects split by ``split_seed``,
    default ``seed``; clips drawn with ``seed``); ``masked``: the masked proxy, of the subjects
    with a smile and an anger or sadness image; ``negatives``: hard-negative clips per subject
    too. ``clips_per_subject`` 0 adds only negatives to an existing benchmark (its subjects,
    from its ``benchmark.json``). Returns the summary (subjects, clips, events, negatives)."""
    exclude = held_out_subjects(repository)
    subjects = load_subjects(data, exclude)
    if masked:
        subjects = {
            s: c for s, c in subjects.items() if SMILE in c and any(m in c for m in MASKED.values())
        }
    if not subjects:
        raise FileNotFoundError(f"no eligible CK+ subject under {data}")
    split_seed = seed if split_seed is None else split_seed
    dev, test = split_subjects(list(subjects), split_seed)
    meta = out / "benchmark.json"
    only_negatives = clips_per_subject == 0 and meta.exists()
    summary: dict = {"excluded_held_out": sorted(exclude), "seed": seed, "split_seed": split_seed,
                     "masked": masked}  # fmt: skip
    if only_negatives:  # negatives for the benchmark's own subjects, its summary kept
        summary = json.loads(meta.read_text())
        dev, test = (summary.get(p, {}).get("subjects", []) for p in ("dev", "test"))
    for part, members in (("dev", dev), ("test", test)):
        if part not in parts or not members:
            continue
        events, nuisances = write_part(
            out / part, members, subjects, seed, clips_per_subject, negatives, masked
        )
        entry = summary.get(part, {}) if only_negatives else {}
        entry["subjects"] = members
        if clips_per_subject:
            entry.update(clips=len(members) * clips_per_subject, events=events)
        if negatives:
            entry.update(negative_clips=len(members) * negatives, nuisances=nuisances)
        summary[part] = entry
    meta.write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tools.spot_bench", description=__doc__.split("\n")[0]
    )
    p.add_argument("out", type=Path)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--repository", type=Path, default=DEFAULT_REPOSITORY)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--clips-per-subject", type=int, default=1)
    p.add_argument("--split-seed", type=int, help="seed of the dev/test subject split (--seed)")
    p.add_argument("--parts", default="dev,test", help="which parts to write (dev,test)")
    p.add_argument("--masked", action="store_true", help="the masked proxy (smile at rest)")
    p.add_argument("--negatives", type=int, default=0,
                   help="hard-negative clips per subject (occluders, blinks, gaze)")  # fmt: skip
    args = p.parse_args(argv)
    s = build(
        args.out, args.data.resolve(), args.repository, args.seed, args.clips_per_subject,
        args.split_seed, tuple(args.parts.split(",")), args.masked, args.negatives,
    )  # fmt: skip
    print(json.dumps({k: v for k, v in s.items() if k in ("dev", "test")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
