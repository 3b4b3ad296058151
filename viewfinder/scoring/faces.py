"""Face attributes: YuNet faces -> eyes open, smile, head pose -> named per-frame attributes.

Sits inside scoring (scoring thread only; not thread-safe: one FaceAnalyzer per thread). Pure
Python + OpenCV + onnxruntime. The detector runs on a frame downscaled to `det_width` px wide;
eye and face crops are cut from the full-resolution frame, aligned by the five landmarks. The
crop functions here are the only definition of the crops: training (viewfinder/training/
face_models.py) imports them, so training and run time cannot drift.

YuNet's five landmarks, in image coordinates: the subject's right eye (left in the image), left
eye, nose tip, right mouth corner, left mouth corner.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from viewfinder.frames import FaceBox, Score
from viewfinder.scoring.base import ScorerError, onnx_session

DETECTOR_FILE = "face_detection_yunet.onnx"
EYES_FILE = "eyes.onnx"
SMILE_FILE = "smile.onnx"

EYE_SIZE = 24  # CEW patches are 24x24 grey
EYE_CROP_SCALE = 0.65  # eye crop side / inter-ocular distance: makes our crops look like CEW's
FACE_SIZE = 64  # aligned face crop for the smile model (GENKI crops are 64x64)
FACE_CROP_SCALE = 2.1  # face crop side / eye-mid-to-mouth-mid distance
FACE_CROP_SHIFT = 0.1  # crop centre below the eye-mouth midpoint, in eye-mouth distances
MIN_IOD_PX = 8.0  # below this inter-ocular distance eye state is not judged (unknown)
# Classifier logits are divided by this before the sigmoid. The classifiers are trained on
# open/closed and smile/no-smile only, so their probabilities saturate; a softer score keeps the
# order inside each class (lids half down rank below wide open; on bursts-dev LOPO CV this lifted
# the fused pairwise accuracy from 0.78 to 0.80, docs/faces.md).
SOFTEN = 4.0

# Per-frame attributes, display order; all roughly 0..1.
FACE_ATTRIBUTES = ("face", "face_size", "centring", "eyes_open", "smile", "frontal", "face_sharpness")
# No face: the frame is ranked by the rest, so these are constants shared by every faceless frame.
NEUTRAL = {"face": 0.0, "face_size": 0.0, "centring": 0.5, "eyes_open": 0.5, "smile": 0.5,
           "frontal": 0.5, "face_sharpness": 0.5}

# Nose position between the eye line (0) and the mouth line (1) of a face looking straight ahead,
# and the nose's height above the face plane in inter-ocular distances; both set from the median
# over bursts-train frames (docs/faces.md), used only to turn landmark offsets into rough angles.
PITCH_NEUTRAL = 0.57
NOSE_DEPTH = 0.55


@dataclass(frozen=True)
class Face:
    """One detected face in full-frame pixels."""

    box: tuple[float, float, float, float]  # x, y, w, h
    confidence: float
    landmarks: np.ndarray  # (5, 2) float32
    eyes_open: float | None  # min over the two eyes, softened; None when the face is too small
    smile: float  # softened
    yaw: float  # degrees, + = subject turned to their left (nose right in the image); rough
    pitch: float  # degrees, + = looking down; rough
    sharpness: float  # 0..1, Laplacian of the aligned grey face crop

    @property
    def iod(self) -> float:
        return float(np.hypot(*(self.landmarks[1] - self.landmarks[0])))


def _as_landmarks(landmarks: np.ndarray) -> np.ndarray:
    return np.asarray(landmarks, dtype=np.float64).reshape(5, 2)


def _aligned_crop(grey: np.ndarray, centre: np.ndarray, angle_deg: float, side_px: float,
                  out: int) -> np.ndarray:
    """A square crop of `side_px` around `centre`, rotated by `angle_deg`, resized to out x out."""
    side = max(2, int(round(side_px)))
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle_deg, 1.0)
    m[0, 2] += side / 2 - centre[0]
    m[1, 2] += side / 2 - centre[1]
    patch = cv2.warpAffine(grey, m, (side, side), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    interp = cv2.INTER_AREA if side > out else cv2.INTER_LINEAR
    return cv2.resize(patch, (out, out), interpolation=interp)


def eye_line_angle(landmarks: np.ndarray) -> float:
    lm = _as_landmarks(landmarks)
    d = lm[1] - lm[0]
    return math.degrees(math.atan2(d[1], d[0]))


def eye_crops(grey: np.ndarray, landmarks: np.ndarray, scale: float = EYE_CROP_SCALE,
              size: int = EYE_SIZE) -> np.ndarray:
    """(2, size, size) uint8: the image-left eye then the image-right eye, de-rotated by the eye
    line, each `scale` x inter-ocular distance wide (like the CEW patches)."""
    lm = _as_landmarks(landmarks)
    iod = float(np.hypot(*(lm[1] - lm[0])))
    angle = eye_line_angle(lm)
    return np.stack([_aligned_crop(grey, lm[i], angle, scale * iod, size) for i in (0, 1)])


def face_crop(grey: np.ndarray, landmarks: np.ndarray, scale: float = FACE_CROP_SCALE,
              size: int = FACE_SIZE) -> np.ndarray:
    """(size, size) uint8: the face, de-rotated by the eye line, scaled by the eye-to-mouth
    distance (stable under yaw, unlike the box)."""
    lm = _as_landmarks(landmarks)
    eyes = (lm[0] + lm[1]) / 2
    mouth = (lm[3] + lm[4]) / 2
    em = float(np.hypot(*(mouth - eyes)))
    centre = (eyes + mouth) / 2 + FACE_CROP_SHIFT * (mouth - eyes)
    return _aligned_crop(grey, centre, eye_line_angle(lm), scale * max(em, 1.0), size)


def normalise_patches(patches: np.ndarray) -> np.ndarray:
    """(N, H, W) uint8 -> (N, 1, H, W) float32, each patch zero-mean and unit-ish contrast.

    Per-patch normalisation makes the classifiers indifferent to exposure and contrast, which
    differ a lot between the training sets and webcams. Shared by training and run time.
    """
    x = patches.astype(np.float32)
    mean = x.mean(axis=(1, 2), keepdims=True)
    std = x.std(axis=(1, 2), keepdims=True)
    return ((x - mean) / np.maximum(std, 8.0))[:, None]


def head_pose(landmarks: np.ndarray) -> tuple[float, float]:
    """Rough (yaw, pitch) in degrees from the five landmarks.

    In the de-rotated face frame, yaw comes from the nose's sideways offset from the midline of
    the eyes and mouth, pitch from where the nose sits between the eye line and the mouth line;
    both offsets are in inter-ocular distances, turned into angles with a nose height of
    NOSE_DEPTH inter-ocular distances.
    """
    lm = _as_landmarks(landmarks)
    a = math.radians(eye_line_angle(lm))
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    p = (lm - lm[0]) @ rot.T  # eye line along +x
    iod = max(float(np.hypot(*(lm[1] - lm[0]))), 1e-6)
    eyes = (p[0] + p[1]) / 2
    mouth = (p[3] + p[4]) / 2
    nose = p[2]
    em_y = max(mouth[1] - eyes[1], 1e-6)
    t = (nose[1] - eyes[1]) / em_y  # 0 at the eye line, 1 at the mouth line
    mid_x = eyes[0] + (mouth[0] - eyes[0]) * t
    dx = (nose[0] - mid_x) / iod
    dy = (t - PITCH_NEUTRAL) * em_y / iod
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, dx / NOSE_DEPTH))))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, dy / NOSE_DEPTH))))
    return yaw, pitch


def frontalness(yaw: float, pitch: float) -> float:
    """1 facing the camera, 0.5 at 25 degrees of yaw (or 30 of pitch), towards 0 in profile."""
    return float(0.5 ** ((yaw / 25.0) ** 2 + (pitch / 30.0) ** 2))


def _sharpness(face_grey: np.ndarray) -> float:
    var = float(cv2.Laplacian(face_grey, cv2.CV_32F).var())
    return min(1.0, math.log1p(var) / 8.0)


def _read_metadata(session, path: Path) -> dict:
    meta = session.get_modelmeta().custom_metadata_map
    try:
        return json.loads(meta.get("viewfinder", "{}"))
    except json.JSONDecodeError:
        raise ScorerError(f"bad viewfinder metadata in {path}") from None


class _Classifier:
    """A (N, 1, S, S) -> (N, 1) logit ONNX model with its crop contract in metadata."""

    def __init__(self, path: Path, expect: str):
        self.session = onnx_session(path)
        self.meta = _read_metadata(self.session, path)
        if self.meta.get("task") != expect:
            raise ScorerError(f"{path} is not a {expect} model (metadata task "
                              f"{self.meta.get('task')!r})")
        self.size = int(self.meta["input_size"])
        self.crop_scale = float(self.meta["crop_scale"])
        self.input = self.session.get_inputs()[0].name

    def probabilities(self, patches: np.ndarray, soften: float = 1.0) -> np.ndarray:
        """(N,) sigmoid(logit / soften); soften 1 is the classifier's probability."""
        logits = self.session.run(None, {self.input: normalise_patches(patches)})[0]
        return 1.0 / (1.0 + np.exp(-logits.reshape(-1).astype(np.float64) / soften))


class FaceAnalyzer:
    """Frame -> faces with eye state, smile, pose -> per-frame attributes."""

    def __init__(self, models_dir: Path, det_width: int = 320, min_confidence: float = 0.7):
        models_dir = Path(models_dir)
        det_path = models_dir / DETECTOR_FILE
        if not det_path.is_file():
            raise ScorerError(f"face detector not found: {det_path}")
        try:
            self._det = cv2.FaceDetectorYN.create(str(det_path), "", (det_width, det_width),
                                                  min_confidence, 0.3, 50)
        except cv2.error as e:
            raise ScorerError(f"cannot load face detector {det_path}: "
                              f"{str(e).strip().splitlines()[-1]}") from None
        self._det_size: tuple[int, int] | None = None
        self.det_width = det_width
        self.eyes = _Classifier(models_dir / EYES_FILE, "eyes_open")
        self.smile = _Classifier(models_dir / SMILE_FILE, "smile")

    def detector_input(self, pixels: np.ndarray) -> np.ndarray:
        """The frame shrunk to the detector's width (area averaging); a caller may reuse it."""
        h, w = pixels.shape[:2]
        scale = min(1.0, self.det_width / w)
        if scale == 1.0:
            return pixels
        return cv2.resize(pixels, (max(1, round(w * scale)), max(1, round(h * scale))),
                          interpolation=cv2.INTER_AREA)

    def detect(self, pixels: np.ndarray, small: np.ndarray | None = None
               ) -> list[tuple[np.ndarray, float, np.ndarray]]:
        """[(box xywh, confidence, landmarks (5, 2))] in full-frame pixels, largest first.
        `small`: detector_input(pixels), when the caller already made it."""
        small = self.detector_input(pixels) if small is None else small
        scale = small.shape[1] / pixels.shape[1]
        size = (small.shape[1], small.shape[0])
        if size != self._det_size:
            self._det.setInputSize(size)
            self._det_size = size
        _, rows = self._det.detect(small)
        if rows is None:
            return []
        out = []
        for r in rows:
            box = r[:4].astype(np.float64) / scale
            lm = r[4:14].astype(np.float64).reshape(5, 2) / scale
            if box[2] < 8 or box[3] < 8:
                continue
            out.append((box, float(r[14]), lm))
        out.sort(key=lambda f: -f[0][2] * f[0][3])
        return out

    def faces(self, pixels: np.ndarray, small: np.ndarray | None = None) -> list[Face]:
        if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 BGR frame, got {pixels.shape} {pixels.dtype}")
        found = self.detect(pixels, small)
        if not found:
            return []
        grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
        eye_patches, face_patches = [], []
        for _, _, lm in found:
            eye_patches.append(eye_crops(grey, lm, self.eyes.crop_scale, self.eyes.size))
            face_patches.append(face_crop(grey, lm, self.smile.crop_scale, self.smile.size))
        p_eyes = self.eyes.probabilities(np.concatenate(eye_patches), SOFTEN).reshape(-1, 2)
        p_smile = self.smile.probabilities(np.stack(face_patches), SOFTEN)
        faces = []
        for (box, conf, lm), pe, ps, fp in zip(found, p_eyes, p_smile, face_patches):
            iod = float(np.hypot(*(lm[1] - lm[0])))
            yaw, pitch = head_pose(lm)
            faces.append(Face(tuple(float(v) for v in box), conf, lm.astype(np.float32),
                              float(pe.min()) if iod >= MIN_IOD_PX else None, float(ps),
                              yaw, pitch, _sharpness(fp)))
        return faces


def frame_attributes(faces: list[Face], frame_size: tuple[int, int]) -> dict[str, float]:
    """Per-frame attributes (FACE_ATTRIBUTES). Several faces: the worst eyes (one blinking person
    sinks the frame) and the mean of the rest. No face: NEUTRAL."""
    if not faces:
        return dict(NEUTRAL)
    w, h = frame_size
    sizes, centring, smiles, frontal, sharp, eyes = [], [], [], [], [], []
    for f in faces:
        x, y, bw, bh = f.box
        sizes.append(min(1.0, bh / h))
        cx, cy = (x + bw / 2) / w - 0.5, (y + bh / 2) / h - 0.5
        centring.append(max(0.0, 1.0 - math.hypot(cx, cy) / math.hypot(0.5, 0.5)))
        smiles.append(f.smile)
        frontal.append(frontalness(f.yaw, f.pitch))
        sharp.append(f.sharpness)
        eyes.append(NEUTRAL["eyes_open"] if f.eyes_open is None else f.eyes_open)
    return {"face": 1.0, "face_size": float(np.mean(sizes)), "centring": float(np.mean(centring)),
            "eyes_open": float(min(eyes)), "smile": float(np.mean(smiles)),
            "frontal": float(np.mean(frontal)), "face_sharpness": float(np.mean(sharp))}


def face_boxes(faces: list[Face], frame_size: tuple[int, int]) -> tuple[FaceBox, ...]:
    w, h = frame_size
    return tuple(FaceBox(f.box[0] / w, f.box[1] / h, f.box[2] / w, f.box[3] / h, f.eyes_open)
                 for f in faces)


def face_reasons(attrs: dict[str, float]) -> tuple[str, ...]:
    """Short reasons a frame may lose, from its face attributes."""
    if attrs["face"] < 0.5:
        return ("no face",)
    out = []
    if attrs["eyes_open"] < 0.5:
        out.append("eyes closed")
    if attrs["frontal"] < 0.5:
        out.append("head turned")
    if attrs["face_sharpness"] < 0.3:
        out.append("blurry")
    return tuple(out)


class FaceScorer:
    """Explicit face attributes only, with a fixed, transparent rule (no training): eyes count
    most, then facing the camera, then a smile; a faceless frame scores in the middle."""

    name = "faces"
    version = "1"
    attribute_names = FACE_ATTRIBUTES
    WEIGHTS = {"eyes_open": 2.0, "frontal": 1.0, "smile": 0.5, "face_sharpness": 0.5}

    def __init__(self, models_dir: Path | None = None):
        if models_dir is None:
            from viewfinder.scoring import MODELS_DIR  # noqa: PLC0415

            models_dir = MODELS_DIR
        self.analyzer = FaceAnalyzer(models_dir)

    def score(self, pixels: np.ndarray) -> Score:
        faces = self.analyzer.faces(pixels)
        size = (pixels.shape[1], pixels.shape[0])
        attrs = frame_attributes(faces, size)
        value = sum(w * attrs[k] for k, w in self.WEIGHTS.items())
        return Score(value=float(value), attributes=attrs, reasons=face_reasons(attrs),
                     faces=face_boxes(faces, size))
