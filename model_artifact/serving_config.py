"""TensorFlow Serving start-up files generated for a whole model repository.

``models.config`` (``--model_config_file``) is rendered from the real ``ModelServerConfig`` proto;
``batching.config`` and ``monitoring.config`` are text protos whose message types are not in the
tensorflow-serving-api wheel, so they are written (and read back) here by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from model_artifact.repository import ModelRepository

MODELS_CONFIG = "models.config"
BATCHING_CONFIG = "batching.config"
MONITORING_CONFIG = "monitoring.config"
PROMETHEUS_PATH = "/monitoring/prometheus/metrics"


@dataclass(frozen=True)
class BatchingParameters:
    """TF Serving's ``BatchingParameters`` (session-run batching)."""

    max_batch_size: int = 64
    batch_timeout_micros: int = 2000
    max_enqueued_batches: int = 100
    num_batch_threads: int = 4
    allowed_batch_sizes: tuple[int, ...] = (8, 16, 32, 64)
    enable_large_batch_splitting: bool = True

    def render(self) -> str:
        split = str(self.enable_large_batch_splitting).lower()
        lines = [
            f"max_batch_size {{ value: {self.max_batch_size} }}",
            f"batch_timeout_micros {{ value: {self.batch_timeout_micros} }}",
            f"max_enqueued_batches {{ value: {self.max_enqueued_batches} }}",
            f"num_batch_threads {{ value: {self.num_batch_threads} }}",
            *(f"allowed_batch_sizes: {size}" for size in self.allowed_batch_sizes),
            f"enable_large_batch_splitting {{ value: {split} }}",
        ]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> BatchingParameters:
        def scalar(field: str, default: int) -> int:
            m = re.search(rf"^\s*{field}\s*\{{\s*value:\s*(\d+)\s*\}}", text, re.M)
            return int(m.group(1)) if m else default

        d = cls()
        split = re.search(r"enable_large_batch_splitting\s*\{\s*value:\s*(\w+)", text)
        return cls(
            max_batch_size=scalar("max_batch_size", d.max_batch_size),
            batch_timeout_micros=scalar("batch_timeout_micros", d.batch_timeout_micros),
            max_enqueued_batches=scalar("max_enqueued_batches", d.max_enqueued_batches),
            num_batch_threads=scalar("num_batch_threads", d.num_batch_threads),
            allowed_batch_sizes=tuple(
                int(v) for v in re.findall(r"^\s*allowed_batch_sizes:\s*(\d+)", text, re.M)
            ),
            enable_large_batch_splitting=(split.group(1) == "true") if split else True,
        )


def render_models_config(repo: ModelRepository, base_path: str) -> str:
    """``model_config_list`` with one entry per model; TF Serving serves the latest version."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    for name in repo.model_names():
        if not repo.versions(name):
            continue
        entry = config.model_config_list.config.add()
        entry.name = name
        entry.base_path = f"{base_path.rstrip('/')}/{name}"
        entry.model_platform = "tensorflow"
        entry.model_version_policy.latest.num_versions = 1
    return text_format.MessageToString(config)


def render_monitoring_config() -> str:
    return f'prometheus_config {{\n  enable: true\n  path: "{PROMETHEUS_PATH}"\n}}\n'


def write_serving_configs(
    repo: ModelRepository,
    base_path: str = "/models",
    batching: BatchingParameters | None = None,
) -> list[Path]:
    """(Re)write the three TF Serving files at the root of ``repo``; return their paths."""
    files = {
        MODELS_CONFIG: render_models_config(repo, base_path),
        BATCHING_CONFIG: (batching or BatchingParameters()).render(),
        MONITORING_CONFIG: render_monitoring_config(),
    }
    repo.root.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in files.items():
        path = repo.root / filename
        path.write_text(text)
        written.append(path)
    return written


def read_batching(repo_root: Path | str) -> BatchingParameters:
    """The repository's batching parameters (defaults when the file is absent)."""
    path = Path(repo_root) / BATCHING_CONFIG
    return BatchingParameters.parse(path.read_text()) if path.is_file() else BatchingParameters()
