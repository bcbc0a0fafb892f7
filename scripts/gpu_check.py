"""GPU check, for a machine with an NVIDIA GPU: `python scripts/gpu_check.py` after `make`'s
install (`.venv/bin/python scripts/gpu_check.py`). Not run by CI.

Starts a real gateway with a CPU and a cuda:0 worker and checks the GPU path end to end:
NVML discovery, float16 on CUDA, placement, transcription, batched transcriptions that give
what each gives alone (the GPU's default decode plan batches the encoder too), measured GPU
memory, health.
Prints one line per check and exits non-zero on the first failure.
"""

from __future__ import annotations

import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.hardware.devices import cuda_device_count
from tests.support.audio import clip_path, short_clips
from tests.support.gateway_process import next_event, running_gateway

MODEL = "openai/whisper-tiny.en"


def check(what: str, ok: bool, detail: object = "") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {what} {detail}")
    if not ok:
        sys.exit(1)


def main() -> None:
    gpus = cuda_device_count()
    check("NVML sees a GPU", gpus > 0, f"({gpus})")
    state = Path(tempfile.mkdtemp())
    # Result cache off: the batched round sends the same clips again.
    with running_gateway(
        state, LX_WORKER_DEVICES="cpu,cuda:0", LX_RESULT_CACHE_SIZE="0"
    ) as gateway:
        workers = {w["worker_id"]: w for w in gateway.workers()}
        check("a cuda:0 worker said hello", "cuda-0" in workers, sorted(workers))
        with gateway.events() as ws, gateway.client() as client:
            config = {"device": "cuda:0", "compute_type": "float16"}
            answer = client.post(f"/api/models/{MODEL}/load", json={"compute_config": config})
            check("float16 load on cuda:0 accepted", answer.status_code == 202, answer.text)
            done = next_event(ws, {"model.load.completed", "model.load.failed"}, timeout_s=120)
            check("load completed on the GPU", done["t"] == "model.load.completed", done["data"])
            check("placed on cuda:0", done["data"]["device"] == "cuda:0", done["data"])
            heard = client.post(
                "/api/asr/transcribe",
                content=clip_path("kitchen_lights.wav").read_bytes(),
                headers={"content-type": "audio/wav"},
            ).json()
            check("transcribed on cuda:0", heard.get("device") == "cuda:0", heard.get("text"))
            statuses = client.get("/api/models/status").json()["asr_models"]
            decoding = next(m for m in statuses if m["model_id"] == MODEL).get("decoding") or {}
            check("the GPU plan batches", decoding.get("max_batch_size", 1) > 1, decoding)

            def transcribe(name: str) -> dict[str, Any]:
                body: dict[str, Any] = client.post(
                    "/api/asr/transcribe",
                    content=clip_path(name).read_bytes(),
                    headers={"content-type": "audio/wav"},
                ).json()
                return body

            names = short_clips() * 2
            alone = {name: transcribe(name)["text"] for name in names}
            with ThreadPoolExecutor(len(names)) as pool:
                together = list(pool.map(transcribe, names))
            same = all(
                body["text"] == alone[name] for name, body in zip(names, together, strict=True)
            )
            check("batched texts equal the texts alone", same, [b["text"] for b in together])
            sizes = [body["timings"]["batch_size"] for body in together]
            check("concurrent clips were batched on cuda:0", max(sizes) > 1, sizes)
            status = client.get("/api/models/status").json()
            gpu_mb = status["system_resources"].get("gpu_memory_usage_mb")
            check("GPU memory measured by NVML", bool(gpu_mb and gpu_mb > 0), gpu_mb)
            health = client.post(f"/api/models/{MODEL}/health-check").json()
            check("health check has a gpu check", "gpu" in health["checks"], health["checks"])
            auto = client.post("/api/models/openai/whisper-tiny/load").json()
            check("auto placement answered", "device" in auto, auto)
    print("GPU path checked")


if __name__ == "__main__":
    main()
